#!/usr/bin/env bash
# worldkv-bench return on the tiny test model and a short walk: the JSON
# carries both returns at the exact start view and at the walk's own home
# pose, the picture is the start view and three returns side by side, and
# a picture path that cannot be written fails before the walk.
set -u
bench=$1
model=$2
source "$(dirname "$0")/../cli_lib.sh"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

check "a short long-return run" bash -c '"$0" return --model "$1" --frames 40 --backend cpu --json --png "$2/r.png" \
  > "$2/r.json"' "$bench" "$model" "$tmp"
check "both returns scored both ways" /usr/bin/python3 - "$tmp/r.json" <<'PY'
import json, math, sys
r = json.loads(open(sys.argv[1]).read().strip().splitlines()[-1])
assert r["op"] == "long_return" and r["frames_out"] == 40, r
assert math.isfinite(r["home_yaw_offset_deg"]) and r["home_offset_m"] >= 0, r
for run in ("tier_on", "tier_off", "short_128"):
    for k in ("return_ssim", "home_pose_ssim"):
        assert -1 <= r[run][k] <= 1, (run, k, r)
PY
expect 0 "^256,64$" -- ffprobe -v error -show_entries stream=width,height -of csv=p=0 "$tmp/r.png"
expect 1 "cannot create $tmp/no/such/r.png" -- timeout 20 "$bench" return --model "$model" --frames 40 --png "$tmp/no/such/r.png"
finish
