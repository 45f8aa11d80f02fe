#!/usr/bin/env bash
# The explorer's numbers and pictures, under Xvfb (no screen needed):
#  1. speed: 200 frames with W and Right held through real X key events,
#     HUD on, no frame cap; prints frames/s and input-to-screen latency;
#  2. pictures: a headless run along the demo walk with the full HUD, screenshots
#     every 3rd frame, turned into OUT/explore.gif and OUT/explore.png.
# usage: tools/explore_demo.sh [OUT]   (default out/explore; needs a build)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$root/out/explore}
bin=$root/build/apps/worldkv-explore
export MESA_SHADER_CACHE_DIR=${MESA_SHADER_CACHE_DIR:-/tmp/worldkv-mesa-cache}
mkdir -p "$out"
if [ -z "${DISPLAY:-}" ]; then
  exec xvfb-run -a -s "-screen 0 512x512x24" bash "$0" "$out"
fi

echo "== speed: 200 frames, W and Right held, HUD on ==" >&2
"$bin" --fps 0 --frames 200 --out-dir "$out" > "$out/speed.log" 2>&1 &
pid=$!
wid=$(timeout 120 xdotool search --sync --name worldkv-explore | head -1)
sleep 1
xdotool keydown --window "$wid" w keydown --window "$wid" Right
while kill -0 $pid 2>/dev/null; do # tap Shift now and then: inputs to time
  sleep 1.3
  xdotool key --window "$wid" shift 2>/dev/null || true
done
wait $pid
tail -1 "$out/speed.log"

echo "== pictures: the demo walk, every 3rd frame ==" >&2
rm -f "$out"/shot-*.png
"$bin" --script "$root/assets/paths/demo_walk.txt" --frames 151 --full-hud --out-dir "$out" \
  --screenshot-at "$(seq -s, 0 3 150)" 2> "$out/pictures.log"
cp "$out/shot-00024.png" "$out/explore.png"
ffmpeg -v error -y -framerate 10 -pattern_type glob -i "$out/shot-*.png" \
  -vf "scale=256:256:flags=neighbor,split[a][b];[a]palettegen=max_colors=64[p];[b][p]paletteuse=dither=none" "$out/explore.gif"
rm -f "$out"/shot-*.png
echo "explore_demo: $out/explore.png, $out/explore.gif" >&2
