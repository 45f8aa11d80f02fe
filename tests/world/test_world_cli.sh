#!/usr/bin/env bash
# worldkv-world as a user meets it: help, usage errors, line-numbered script
# errors, output formats, and clear messages for bad destinations.
set -u
bin=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
source "$(dirname "$0")/../cli_lib.sh"

expect 0 "commands:" -- "$bin" --help
for c in dataset render sheet bench; do expect 0 "usage: worldkv-world $c" -- "$bin" $c --help; done
expect 2 "unknown command 'fly'" -- "$bin" fly
expect 2 "worldkv-world render: unknown option '--bogus'" -- "$bin" render --bogus
expect 2 "worldkv-world dataset: --frames needs a value" -- "$bin" dataset --frames
expect 2 "--size expects a whole number from 32 to 512, got '8'" -- "$bin" render -o "$tmp/x.rgb" --size 8
expect 2 "dataset needs --out DIR" -- "$bin" dataset
expect 2 "--world-cells must be odd" -- "$bin" dataset --out "$tmp/d" --world-cells 20

# scripts and paths: errors name the file and line
printf '10 forward\n# ok\n5 jump\n' > "$tmp/bad.txt"
expect 1 "bad.txt:3: unknown action 'jump'" -- "$bin" render -o "$tmp/o.rgb" --actions "$tmp/bad.txt"
printf '0 1 1.6 1 0 0\n5 1 1.6\n' > "$tmp/badpath.txt"
expect 1 "badpath.txt:2: expected 6 fields" -- "$bin" render -o "$tmp/o.rgb" --path "$tmp/badpath.txt"
expect 1 "cannot open .*missing.txt: No such file" -- "$bin" render -o "$tmp/o.rgb" --actions "$tmp/missing.txt"
head -c 300 /dev/urandom > "$tmp/binary.txt"
expect 1 "binary.txt" -- "$bin" render -o "$tmp/o.rgb" --actions "$tmp/binary.txt"

# formats: a PNG per frame, raw RGB24 of the right size, poses as a path
printf '3 forward\n2 turn_right\n' > "$tmp/walk.txt"
expect 0 "worldkv-world render: 6 frames" -- "$bin" render --size 48 --actions "$tmp/walk.txt" -o "$tmp/f_%03d.png" --poses "$tmp/poses.txt"
checks=$((checks + 1))
[ "$(ls "$tmp"/f_*.png | wc -l)" -eq 6 ] || fail "expected 6 PNG files"
[ "$(head -c 8 "$tmp/f_005.png" | od -An -tx1 | tr -d ' \n')" = "89504e470d0a1a0a" ] || fail "f_005.png is not a PNG"
expect 0 "worldkv-world render: 6 frames" -- "$bin" render --size 40 --path "$tmp/poses.txt" -o "$tmp/raw.rgb"
checks=$((checks + 1))
[ "$(stat -c %s "$tmp/raw.rgb")" -eq $((6 * 40 * 40 * 3)) ] || fail "raw.rgb has the wrong size"
# the pose file replays: rendering it again gives the same frames as the actions did
"$bin" render -q --size 40 --actions "$tmp/walk.txt" -o "$tmp/raw2.rgb" >/dev/null 2>&1
checks=$((checks + 1))
cmp -s "$tmp/raw.rgb" "$tmp/raw2.rgb" || fail "the written poses do not replay the action script"
checks=$((checks + 1))
[ -z "$("$bin" render -q --size 32 --frames 4 -o "$tmp/quiet.rgb" --seed 9 2>&1)" ] || fail "render -q printed something"
checks=$((checks + 1))
[ "$("$bin" render -q --size 32 --frames 4 -o - | wc -c)" -eq $((4 * 32 * 32 * 3)) ] || fail "stdout raw size"

expect 1 "names one PNG but 6 frames" -- "$bin" render --actions "$tmp/walk.txt" -o "$tmp/one.png"
expect 1 "must hold one %d" -- "$bin" render --actions "$tmp/walk.txt" -o "$tmp/x_%s.png"
expect 1 "cannot tell the output format" -- "$bin" render -o "$tmp/out.mp4"
expect 1 "start .* is inside a wall" -- "$bin" render -o "$tmp/s.rgb" --start 0,0,0
ln -s /dev/full "$tmp/full.rgb"
expect 1 "full.rgb: the disk is full" -- "$bin" render -q --frames 2000 -o "$tmp/full.rgb"
expect 1 "cannot create .*nodir/x.rgb: No such file" -- "$bin" render -o "$tmp/nodir/x.rgb"

# dataset: writes, refuses to overwrite, then overwrites with --force
expect 0 "wrote 3 episodes" -- "$bin" dataset --out "$tmp/ds" --episodes 3 --frames 8 --size 32 -q
checks=$((checks + 1))
[ -f "$tmp/ds/index.json" ] && [ -f "$tmp/ds/shard-00000/frames.npy" ] || fail "dataset files missing"
expect 1 "already exists and is not empty; pass --force" -- "$bin" dataset --out "$tmp/ds" --episodes 3 --frames 8 --size 32
expect 0 "wrote 2 episodes" -- "$bin" dataset --out "$tmp/ds" --episodes 2 --frames 8 --size 32 --force
# parent folders are created, as mkdir -p does (a fresh clone has no data/)
expect 0 "wrote 1 episodes" -- "$bin" dataset --out "$tmp/new/parents/ds" --episodes 1 --frames 2 --size 32 -q
checks=$((checks + 1))
[ -f "$tmp/new/parents/ds/index.json" ] || fail "dataset under new parent folders missing"
touch "$tmp/afile"
expect 1 "afile/ds: Not a directory" -- "$bin" dataset --out "$tmp/afile/ds" --episodes 1 --frames 2 --size 32
expect 0 "wrote 2 episodes" -- "$bin" dataset --out "$tmp/dw" --episodes 2 --frames 4 --size 32 --world-seed 77 -q
checks=$((checks + 1))
[ "$(/usr/bin/python3 -c 'import numpy,sys; print(numpy.load(sys.argv[1]).tolist())' "$tmp/dw/shard-00000/world_seeds.npy")" = "[77, 77]" ] || fail "--world-seed not applied"
expect 0 "contact sheet" -- "$bin" sheet -o "$tmp/sheet.png" --episodes 2 --frames 8 --columns 3 --size 32
expect 0 "render +64x64" -- "$bin" bench --sizes 64 --seconds 0.05
checks=$((checks + 1))
"$bin" bench --sizes 32 --seconds 0.05 --json | python3 -c '
import json, math, sys
d = json.loads(sys.stdin.readline())
assert d["op"] == "render" and d["shape"] == [32, 32, 3] and d["gflops"] is None and math.isfinite(d["ms"]), d
' || fail "bench --json is not the expected JSON"

finish
