#!/usr/bin/env bash
# worldkv-render as users meet it, with the small test model: formats and
# their frame counts (ffprobe), PNG patterns, side by side, stdout pipes,
# streaming stopped by Ctrl-C (the file must play), a full disk, bad input,
# and saving then continuing a world.
set -u
bin=$1
model=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
source "$(dirname "$0")/../cli_lib.sh"
frames_of() { ffprobe -v error -count_frames -select_streams v:0 -show_entries stream=nb_read_frames,width,height,r_frame_rate -of csv=p=0 "$1" 2>/dev/null; }
r() { "$bin" --model "$model" "$@"; }

expect 0 "usage: worldkv-render" -- "$bin" --help
for ext in mp4 mkv webm; do
  expect 0 "5 frames to" -- r --frames 5 -o "$tmp/out.$ext"
  checks=$((checks + 1))
  [ "$(frames_of "$tmp/out.$ext")" = "256,256,20/1,5" ] || fail "out.$ext: $(frames_of "$tmp/out.$ext")"
done
expect 0 "3 frames to" -- r --frames 3 -o "$tmp/f_%05d.png"
checks=$((checks + 1))
[ "$(ls "$tmp"/f_*.png | wc -l)" -eq 3 ] || fail "expected 3 PNG frames"
expect 0 "" -- r --frames 2 --side-by-side --scale 2 -o "$tmp/sbs.mp4"
checks=$((checks + 1))
[ "$(frames_of "$tmp/sbs.mp4")" = "256,128,20/1,2" ] || fail "side by side: $(frames_of "$tmp/sbs.mp4")"
checks=$((checks + 1))
[ "$(r --frames 4 -o - 2>/dev/null | ffprobe -v error -count_frames -show_entries stream=nb_read_frames -of csv=p=0 - 2>/dev/null)" = 4 ] \
  || fail "stdout pipe"

# the option habits every tool shares: --opt=value, clustered short flags,
# "--", -q that prints nothing, and --frames N giving N frames (1: the start
# frame alone)
expect 0 "2 frames to" -- r --frames=2 --out="$tmp/eq.mkv"
checks=$((checks + 1))
[ "$(frames_of "$tmp/eq.mkv")" = "256,256,20/1,2" ] || fail "--opt=value: $(frames_of "$tmp/eq.mkv")"
checks=$((checks + 1))
out=$("$bin" --model "$model" --frames 1 -qo "$tmp/one.mp4" 2>&1) && [ -z "$out" ] \
  || fail "-qo: status $? or output '$out'"
[ "$(frames_of "$tmp/one.mp4")" = "256,256,20/1,1" ] || fail "--frames 1: $(frames_of "$tmp/one.mp4")"
expect 0 "2 frames to" -- r --frames 2 -o"$tmp/joined.mkv"
expect 2 "unexpected argument 'stray'" -- r --frames 2 -o "$tmp/x.mkv" -- stray
expect 2 "--stream=1" -- r --stream=1
expect 2 "--frames needs a value" -- r --frames
expect 2 "unknown option '-z'" -- r -qz
# int8 memory slots from the command line
expect 0 "3 frames to" -- r --frames 3 --memory-bits 8 -o "$tmp/int8.mkv"
expect 2 "--memory-bits expects 4, 8 or 32, got '16'" -- r --memory-bits 16
expect 0 "" -- r --frames 12 --memory-bits 8 -o "$tmp/int8a.mkv" --save-world "$tmp/int8.snap"
expect 1 "use the --memory-bits it was saved with" -- r --frames 2 -o "$tmp/int8b.mkv" --load-world "$tmp/int8.snap"
expect 0 "2 frames to" -- r --frames 2 --memory-bits 8 -o "$tmp/int8c.mkv" --load-world "$tmp/int8.snap"
# a host memory tier: runs, and the saved world keeps it: a session without a tier refuses it, one
# with a tier loads it
expect 0 "40 frames to" -- r --frames 40 --memory-slots 2 --memory-host-mb 4 -o "$tmp/tier.mkv" \
  --save-world "$tmp/tier.snap"
expect 1 "this session has none \\(load it with --memory-host-mb" -- r --frames 2 --memory-slots 2 \
  -o "$tmp/tier2.mkv" --load-world "$tmp/tier.snap"
expect 0 "2 frames to" -- r --frames 2 --memory-slots 2 --memory-host-mb 4 -o "$tmp/tier3.mkv" \
  --load-world "$tmp/tier.snap"
# extensions in any case; near-miss names say what would work
expect 0 "2 frames to" -- r --frames 2 -o "$tmp/UPPER.MP4"
checks=$((checks + 1))
[ "$(frames_of "$tmp/UPPER.MP4")" = "256,256,20/1,2" ] || fail "upper-case .MP4: $(frames_of "$tmp/UPPER.MP4")"
expect 1 "NAME%05d.png" -- r --frames 2 -o "$tmp/still.png"
expect 1 "did you mean .*x.mp4" -- r --frames 2 -o "$tmp/x"
expect 1 "use .mp4, .mkv, .webm" -- r --frames 2 -o "$tmp/x.mov"

# streaming until Ctrl-C: the file is finished and plays. Wait until a
# fragment is on disk (set-up is slow under the sanitizers), then stop it.
"$bin" --model "$model" --stream -o "$tmp/live.mp4" 2> "$tmp/live.err" &
interrupt_when_grown "$tmp/live.mp4" 2000 $!
status=$?
[ $status -ne 124 ] || fail "the stream did not stop within 60 s of SIGINT"
checks=$((checks + 1))
[ $status -eq 0 ] || fail "stream stopped by SIGINT exited $status: $(cat "$tmp/live.err")"
grep -q "stopped by a signal; the file is complete" "$tmp/live.err" || fail "no stop message: $(cat "$tmp/live.err")"
n=$(frames_of "$tmp/live.mp4" | cut -d, -f4)
[ "${n:-0}" -ge 2 ] || fail "the stopped stream does not play ($n frames)"

# an unlimited stream on a terminal shows a live status line (script gives it a TTY)
timeout -s INT 8 script -qec "'$bin' --model '$model' --stream -o '$tmp/tty.mkv'" /dev/null > "$tmp/tty.out" 2>&1
checks=$((checks + 1))
grep -q "frames/s) to $tmp/tty.mkv; Ctrl-C stops" "$tmp/tty.out" || fail "no live status line on a TTY: $(cat "$tmp/tty.out")"

# a plain MP4 render killed with SIGKILL half way: what reached the disk
# plays (MP4 is written fragmented, index first)
"$bin" --model "$model" -q --frames 100000 -o "$tmp/killed.mp4" &
pid=$!
for _ in $(seq 1 240); do
  [ -s "$tmp/killed.mp4" ] && [ "$(stat -c %s "$tmp/killed.mp4")" -gt 100000 ] && break
  sleep 0.5
done
kill -KILL $pid; wait $pid 2>/dev/null
n=$(frames_of "$tmp/killed.mp4" | cut -d, -f4)
checks=$((checks + 1))
[ "${n:-0}" -ge 20 ] || fail "a killed MP4 render left $(stat -c %s "$tmp/killed.mp4") bytes and ${n:-0} readable frames"

ln -s /dev/full "$tmp/full.mkv"
expect 1 "the disk is full" -- r --frames 40 -o "$tmp/full.mkv"
printf '5 forward\n2 fly\n' > "$tmp/bad.txt"
expect 1 "bad.txt:2: unknown action 'fly'" -- r --actions "$tmp/bad.txt" -o "$tmp/x.mp4"
expect 1 "cannot open model /nonexistent.safetensors" -- "$bin" --model /nonexistent.safetensors -o "$tmp/x.mp4"
expect 1 "cannot tell the video format" -- r --frames 2 -o "$tmp/x.avi"
expect 2 "--frames expects a whole number" -- r --frames 0 -o "$tmp/x.mp4"
expect 2 "unknown option '--bogus'" -- r --bogus
expect 1 "cannot open image /nonexistent.png" -- r --start /nonexistent.png -o "$tmp/x.mp4"

# output names and paths are checked before the model loads (a missing model
# would be reported first otherwise), so a long run cannot end in losing it
expect 2 "a PNG sequence needs one frame number" -- r --frames 2 -o "$tmp/out%.png"
expect 2 "a PNG sequence needs one frame number" -- r --frames 2 -o "$tmp/out%d%d.png"
expect 0 "2 frames to" -- r --frames 2 -o "$tmp/g%d_%%.png"
checks=$((checks + 1))
[ -s "$tmp/g1_%.png" ] || fail "%d and %% in a PNG pattern: $(ls "$tmp")"
expect 1 "cannot create /nonexistent/x.mp4" -- "$bin" --model /nonexistent.safetensors -q -o /nonexistent/x.mp4
expect 1 "cannot create /nonexistent/w.snap" -- \
  "$bin" --model /nonexistent.safetensors -q -o "$tmp/x.mp4" --save-world /nonexistent/w.snap
expect 1 "cannot read snapshot $tmp/none.snap" -- "$bin" --model /nonexistent.safetensors -q -o "$tmp/x.mp4" \
  --load-world "$tmp/none.snap"
# a camera path of one keyframe: an error, not an endless render; with --frames, a still camera
printf '0 0 1.6 0 0 0\n' > "$tmp/one.txt"
expect 1 "holds one keyframe" -- timeout 60 "$bin" --model "$model" -q --path "$tmp/one.txt" -o "$tmp/x.mp4"
expect 0 "2 frames to" -- timeout 60 "$bin" --model "$model" --path "$tmp/one.txt" --frames 2 -o "$tmp/x.mp4"

# a 16,000 x 16,000 PNG as the start (one that compresses to 0.7 MB): refused
# before decoding, at a small peak memory (it once took 905 MB before being
# scaled to 64 x 64)
python3 - "$tmp/big.png" <<'PY'
import struct, sys, zlib
def chunk(t, d): return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xffffffff)
w = h = 16000
z = zlib.compressobj(1)
row = bytes(1 + 3 * w)
data = b"".join(z.compress(row) for _ in range(h)) + z.flush()
open(sys.argv[1], "wb").write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
                             + chunk(b"IDAT", data) + chunk(b"IEND", b""))
PY
peak=$(python3 - "$bin" "$model" "$tmp/big.png" "$tmp/x.mp4" <<'PY'
import resource, subprocess, sys
bin, model, png, out = sys.argv[1:]
r = subprocess.run([bin, "--model", model, "-q", "--start", png, "--frames", "1", "-o", out], capture_output=True, text=True)
print(r.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, "larger than 64 megapixels" in r.stderr)
PY
)
checks=$((checks + 1))
read -r big_rc big_kb big_msg <<<"$peak"
[ "$big_rc" = 1 ] && [ "$big_msg" = True ] || fail "a 16000 x 16000 start image: $peak"
checks=$((checks + 1))
[ "${big_kb:-999999999}" -lt 600000 ] || fail "a 16000 x 16000 start image peaked at $big_kb kB"

# the device lost mid-render: a clear error, and the file so far plays
expect 1 "the Vulkan device was lost" -- env WORLDKV_FAULT_AT_FRAME=4 "$bin" --model "$model" -q --frames 10 -o "$tmp/lost.mkv"
checks=$((checks + 1))
[ "$(frames_of "$tmp/lost.mkv")" = "256,256,20/1,4" ] || fail "render after a lost device: $(frames_of "$tmp/lost.mkv")"

# save a world, continue it
expect 0 "" -- r --frames 5 -o "$tmp/a.mkv" --save-world "$tmp/w.snap"
expect 0 "3 frames to" -- r --frames 3 -o "$tmp/b.mkv" --load-world "$tmp/w.snap"
# two processes saving one snapshot path at once: each save is whole, none fails
for round in 1 2 3; do
  r --frames 2 -o "$tmp/p1.mkv" --save-world "$tmp/same.snap" 2> "$tmp/p1.err" & p1=$!
  r --frames 2 -o "$tmp/p2.mkv" --save-world "$tmp/same.snap" 2> "$tmp/p2.err" & p2=$!
  checks=$((checks + 1))
  wait $p1 && wait $p2 || fail "concurrent saves, round $round: $(cat "$tmp/p1.err" "$tmp/p2.err")"
done
expect 0 "2 frames to" -- r --frames 2 -o "$tmp/p3.mkv" --load-world "$tmp/same.snap"
checks=$((checks + 1))
[ -z "$(ls "$tmp" | grep 'same.snap.')" ] || fail "temporary snapshot files left behind: $(ls "$tmp")"
head -c 100 "$tmp/w.snap" > "$tmp/bad.snap"
expect 1 "truncated" -- r --frames 3 -o "$tmp/c.mkv" --load-world "$tmp/bad.snap"

finish
