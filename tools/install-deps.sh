#!/usr/bin/env bash
# Installs the Debian 12 packages worldkv needs to build, test and run.
# Only missing packages are installed; apt-get update runs first when needed.
# --test adds what only the tests use: Chromium, for the browser playback test.
set -euo pipefail

packages=(
  build-essential cmake pkg-config
  libavcodec-dev libavformat-dev libavutil-dev libswscale-dev ffmpeg
  libcjson-dev
  libsdl2-dev xvfb xauth xdotool
  libvulkan-dev mesa-vulkan-drivers glslc vulkan-validationlayers
  python3-numpy python3-torch libopenblas0-pthread
  clang libclang-rt-14-dev
)
if [ "${1:-}" = "--test" ]; then
  packages+=(chromium)
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

sudo=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "install-deps: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
  sudo="sudo"
fi
echo "install-deps: installing ${missing[*]}" >&2
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
