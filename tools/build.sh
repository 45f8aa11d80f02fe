#!/usr/bin/env bash
# Configures and builds worldkv into build/ (or $BUILD_DIR). Extra arguments
# go to cmake's configure step.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$root/build}
cmake -S "$root" -B "$build" -DWORLDKV_WERROR=ON "$@" >/dev/null
cmake --build "$build" -j"$(nproc)"
