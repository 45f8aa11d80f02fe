#!/usr/bin/env bash
# The main job on the shipped defaults: install what is missing, build, then
# show the ground-truth world (a rendered walk as video and PNG frames, a
# contact sheet), measure the renderer, report the backends and benchmark
# the op library on each, then render the model's demo on the backend auto
# picks (it prints which, and why) and time whole frames. Output goes to out/.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/tools/install-deps.sh"
BUILD_DIR="$root/build" "$root/tools/build.sh"
world="$root/build/tools/world/worldkv-world"
out="$root/out"
mkdir -p "$out/frames"

"$world" render --size 256 --actions "$root/assets/paths/demo_walk.txt" -o "$out/frames/%05d.png" \
  --poses "$out/demo_poses.txt"
ffmpeg -loglevel error -y -framerate 20 -i "$out/frames/%05d.png" -c:v libx264 -pix_fmt yuv420p \
  "$out/demo-world.mp4"
"$world" sheet -o "$out/contact-sheet.png"
"$world" bench
# the backends: which one auto picks here and why, and how fast each runs
# the op library
export MESA_SHADER_CACHE_DIR=${MESA_SHADER_CACHE_DIR:-$root/build/mesa-shader-cache}
"$root/build/apps/worldkv-bench" devices
"$root/build/apps/worldkv-bench" ops --backend cpu --seconds 0.5
"$root/build/apps/worldkv-bench" ops --backend vulkan --seconds 0.5
# the world model on the shipped defaults: world 1's start, the demo walk,
# the truth on the left and the model on the right; then its speed
if [ -f "$root/assets/models/student.safetensors" ]; then
  "$root/build/apps/worldkv-render" --side-by-side -o "$out/worldkv-demo.mp4"
  "$root/build/apps/worldkv-bench" generate --frames 300 --profile
  "$root/build/apps/worldkv-bench" generate --backend vulkan --frames 40
fi
echo "demo: model video $out/worldkv-demo.mp4, world video $out/demo-world.mp4, frames $out/frames/, poses $out/demo_poses.txt, sheet $out/contact-sheet.png"
