#!/usr/bin/env bash
# worldkv-explore under Xvfb, with the small test model: a headless script
# run (screenshots at given frames, a recording that plays), then real key
# events sent to the window with xdotool (walk and turn, screenshot,
# record, save and load the world, quit), Ctrl-C during a recording, and
# bad input.
set -u
bin=$1
model=$2
if [ -z "${DISPLAY:-}" ]; then # run ourselves again inside a virtual X server
  command -v xvfb-run >/dev/null || { echo "FAIL: xvfb-run is not installed (tools/install-deps.sh)" >&2; exit 1; }
  exec xvfb-run -a -s "-screen 0 800x600x24" bash "$0" "$@"
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
source "$(dirname "$0")/../cli_lib.sh"
frames_of() { ffprobe -v error -count_frames -select_streams v:0 -show_entries stream=nb_read_frames,width,height -of csv=p=0 "$1" 2>/dev/null; }
pose_of() { grep "screenshot .*$1" "$tmp/$2" | sed 's/.*pose //; s/)$//'; }
x() { "$bin" --model "$model" "$@"; }

expect 0 "usage: worldkv-explore" -- "$bin" --help
expect 2 "unknown option '--bogus'" -- x --bogus
expect 2 "--record 'clip' has no extension.*did you mean clip.mp4" -- x --record clip --frames 1
expect 2 "--size expects WIDTHxHEIGHT" -- x --size 10
expect 2 "--filter expects nearest or linear" -- x --filter cubic
expect 2 "--screenshot-at expects" -- x --screenshot-at 1,x
expect 2 "--out-dir /nonexistent: not a folder" -- x --out-dir /nonexistent
printf '5 forward\n2 fly\n' > "$tmp/bad.txt"
expect 1 "bad.txt:2: unknown action 'fly'" -- x --script "$tmp/bad.txt"
expect 1 "cannot open model /nonexistent.safetensors" -- "$bin" --model /nonexistent.safetensors --frames 1
expect 1 "cannot open image /nonexistent.png" -- x --start /nonexistent.png --frames 1
expect 1 "no display to open a window on" -- env -u DISPLAY -u WAYLAND_DISPLAY "$bin" --model "$model"

# headless: a script drives it; every frame is shown once, screenshots at frames 0 and 12;
# --frames 13 means 13 frames, the start frame included
mkdir "$tmp/h"
printf '4 forward\n4 turn_right\n4 forward run\n' > "$tmp/walk.txt"
expect 0 "13 frames in" -- x --script "$tmp/walk.txt" --frames=13 --screenshot-at 0,12 --out-dir "$tmp/h" \
  --record "$tmp/h/rec.mkv" --no-hud
checks=$((checks + 1))
[ -f "$tmp/h/shot-00000.png" ] && [ -f "$tmp/h/shot-00012.png" ] || fail "headless screenshots missing: $(ls "$tmp/h")"
cmp -s "$tmp/h/shot-00000.png" "$tmp/h/shot-00012.png" && fail "the screenshot did not change after moving"
checks=$((checks + 1))
[ "$(frames_of "$tmp/h/rec.mkv")" = "256,256,13" ] || fail "headless recording: $(frames_of "$tmp/h/rec.mkv")"

expect 0 "13 frames in" -- x --script "$tmp/walk.txt" --profile --out-dir "$tmp/h"  # a script run ends with it
expect 0 "1 frames in" -- x --frames 1 --no-hud

# the device lost mid-run (the engine's test hook): a clear error, exit 1
# in a headless run, and the recording so far plays
expect 1 "the model stopped: the Vulkan device was lost" -- env WORLDKV_FAULT_AT_FRAME=6 "$bin" --model "$model" \
  --script "$tmp/walk.txt" --record "$tmp/h/lost.mp4" --no-hud --out-dir "$tmp/h"
checks=$((checks + 1))
[ "$(frames_of "$tmp/h/lost.mp4")" = "256,256,6" ] || fail "recording after a lost device: $(frames_of "$tmp/h/lost.mp4")"

# real key events through X: hold W and Right, screenshots before and after,
# record, save the world (F5) and load it back (F9), Esc
mkdir "$tmp/k"
"$bin" --model "$model" --no-hud --out-dir "$tmp/k" --fps 10 > "$tmp/keys.log" 2>&1 &
pid=$!
wid=$(timeout 60 xdotool search --sync --name worldkv-explore | head -1)
key() { xdotool "$@"; sleep 0.3; }
# wait for the model: the first screenshot carries the start pose
for _ in $(seq 1 120); do
  key key --window "$wid" p
  grep -q "screenshot" "$tmp/keys.log" && break
  sleep 0.5
done
key key --window "$wid" F5
key keydown --window "$wid" w
key keydown --window "$wid" Right
key key --window "$wid" r
sleep 2
key keyup --window "$wid" w
key keyup --window "$wid" Right
sleep 1
key key --window "$wid" p
key key --window "$wid" r
key key --window "$wid" F9
sleep 1
key key --window "$wid" Escape
for _ in $(seq 1 120); do kill -0 $pid 2>/dev/null || break; sleep 0.5; done
kill -0 $pid 2>/dev/null && { kill -KILL $pid; fail "Esc did not quit within 60 s"; }
wait $pid
status=$?
checks=$((checks + 1))
[ $status -eq 0 ] || fail "explorer driven by keys exited $status: $(cat "$tmp/keys.log")"
shots=($(ls "$tmp"/k/worldkv-shot-*.png 2>/dev/null))
checks=$((checks + 1))
if [ ${#shots[@]} -lt 2 ]; then
  fail "expected 2 screenshots from P: $(cat "$tmp/keys.log")"
else
  first=$(grep -m1 "screenshot" "$tmp/keys.log" | sed 's/.*pose //; s/)$//')
  last=$(grep "screenshot" "$tmp/keys.log" | tail -1 | sed 's/.*pose //; s/)$//')
  [ "$first" != "$last" ] || fail "W and Right did not move the camera: $first"
  cmp -s "${shots[0]}" "${shots[-1]}" && fail "the screenshot did not change after moving"
fi
checks=$((checks + 1))
rec=$(ls "$tmp"/k/worldkv-rec-*.mp4 2>/dev/null | head -1)
n=$(frames_of "${rec:-/nonexistent}" | cut -d, -f3)
[ "${n:-0}" -ge 2 ] || fail "the R recording does not play ($n frames): $(cat "$tmp/keys.log")"
checks=$((checks + 1))
grep -q "saved the world to" "$tmp/keys.log" && grep -q "loaded the world from" "$tmp/keys.log" \
  || fail "F5/F9: $(cat "$tmp/keys.log")"
checks=$((checks + 1))
grep -qE "input to screen [0-9]+ ms mean, [0-9]+ ms max over [1-9][0-9]* inputs" "$tmp/keys.log" \
  || fail "no input latency measured: $(tail -1 "$tmp/keys.log")"

# Ctrl-C while recording: the file is finished and plays
"$bin" --model "$model" --no-hud --out-dir "$tmp" --record "$tmp/int.mp4" > "$tmp/int.log" 2>&1 &
interrupt_when_grown "$tmp/int.mp4" 3000 $!
[ $? -ne 124 ] || fail "SIGINT did not stop the explorer within 60 s"
checks=$((checks + 1))
n=$(frames_of "$tmp/int.mp4" | cut -d, -f3)
[ "${n:-0}" -ge 2 ] || fail "the recording cut by Ctrl-C does not play ($n frames): $(cat "$tmp/int.log")"
grep -q "recorded .* frames to" "$tmp/int.log" || fail "no recording summary after Ctrl-C: $(cat "$tmp/int.log")"

finish
