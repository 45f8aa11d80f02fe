#!/usr/bin/env bash
# The full test suite on a fresh Debian 12 machine: install what is missing,
# build with -Werror, run every test; then again under AddressSanitizer and
# UBSan. Exits non-zero if anything fails.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/tools/install-deps.sh" --test
# Mesa's shader cache goes here rather than ~/.cache; lavapipe JITs each
# pipeline once, so a warm cache makes later runs faster.
export MESA_SHADER_CACHE_DIR=${MESA_SHADER_CACHE_DIR:-$root/build/mesa-shader-cache}
export WORLDKV_CACHE_DIR=${WORLDKV_CACHE_DIR:-$root/build}
export XDG_RUNTIME_DIR=${XDG_RUNTIME_DIR:-/tmp}

BUILD_DIR="$root/build" "$root/tools/build.sh"
(cd "$root/build" && ctest --output-on-failure -j2)

BUILD_DIR="$root/build-sanitize" "$root/tools/build.sh" -DWORLDKV_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug
# the Python training tests do not change under sanitizers: run them once
(cd "$root/build-sanitize" && ctest --output-on-failure -j2 -E '^test_train_')

# every parser under libFuzzer (clang), a short smoke run each
"$root/tools/fuzz.sh" "${WORLDKV_FUZZ_SECONDS:-20}"
