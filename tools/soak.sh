#!/usr/bin/env bash
# The soak: FRAMES (default 100,000) frames of the shipped model on one
# backend (default cpu), walking and turning, with host RSS, device memory,
# KV memory and the non-finite check recorded every 1,000 frames
# (worldkv-bench generate --memory-every), then drawn as a PNG.
# Not a CI test: 100,000 frames take about 20 minutes on 2 cores.
#   tools/soak.sh [FRAMES] [BACKEND] [OUT_PREFIX]   (default docs/soak: docs/soak.jsonl, docs/soak.png)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
frames=${1:-100000}
backend=${2:-cpu}
out=${3:-$root/docs/soak}
bench="$root/build/apps/worldkv-bench"
[ -x "$bench" ] || "$root/tools/build.sh"
echo "soak: $frames frames on $backend, a record every 1,000 frames -> $out.jsonl" >&2
"$bench" generate --backend "$backend" --frames "$frames" --memory-every 1000 --json > "$out.jsonl"
/usr/bin/python3 "$root/tools/plot_soak.py" "$out.jsonl" "$out.png"
