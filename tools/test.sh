#!/usr/bin/env bash
# The full test suite on a fresh Debian 12 machine: install what is missing,
# build with -Werror, run every test; then again under AddressSanitizer and
# UBSan. Exits non-zero if anything fails.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/tools/install-deps.sh"

BUILD_DIR="$root/build" "$root/tools/build.sh"
(cd "$root/build" && ctest --output-on-failure -j2)

BUILD_DIR="$root/build-sanitize" "$root/tools/build.sh" -DWORLDKV_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug
(cd "$root/build-sanitize" && ctest --output-on-failure -j2)
