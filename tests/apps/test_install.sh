#!/usr/bin/env bash
# The installed package works on its own: `cmake --install` into a
# temporary prefix gives the shared library (with its SONAME, exporting
# the public API only), the header, worldkv.pc, the CMake package, the
# apps and the shipped model; examples/generate_frame.c builds with
# `pkg-config --cflags --libs worldkv` alone, and through find_package,
# and generates a frame.
set -u
build=$1
src=$2
source "$(dirname "$0")/../cli_lib.sh"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
prefix=$tmp/prefix

check "cmake --install" cmake --install "$build" --prefix "$prefix"
for f in include/worldkv.h lib/pkgconfig/worldkv.pc lib/cmake/worldkv/worldkvConfig.cmake \
         share/worldkv/models/student.safetensors share/worldkv/paths/demo_walk.txt \
         bin/worldkv-render bin/worldkv-bench; do
  check "installed $f" test -e "$prefix/$f"
done
so=$(ls "$prefix"/lib/libworldkv.so.*.*.* 2>/dev/null | head -1)
check "libworldkv.so.X.Y.Z installed" test -n "$so"
check "SONAME libworldkv.so.X.Y" sh -c "readelf -d '$so' | grep -q 'SONAME.*libworldkv\\.so\\.[0-9]*\\.[0-9]*\\]'"
check "exports worldkv_session_create" sh -c "nm -D --defined-only '$so' | grep -q ' worldkv_session_create@'"
check "exports nothing but worldkv_*" sh -c "! nm -D --defined-only '$so' | awk '\$2 ~ /[TDRB]/ {print \$3}' | grep -v '^worldkv_'"

export PKG_CONFIG_PATH=$prefix/lib/pkgconfig
check "pkg-config finds worldkv" pkg-config --exists worldkv
model=$(pkg-config --variable=model worldkv)
check "pkg-config's model path exists ($model)" test -f "$model"
# shellcheck disable=SC2046
check "example builds with pkg-config alone" \
  cc -std=c11 -Wall -Werror "$src/examples/generate_frame.c" $(pkg-config --cflags --libs worldkv) -o "$tmp/generate_frame"
check "start image" ffmpeg -loglevel error -f lavfi -i testsrc=size=64x64 -frames:v 1 "$tmp/start.png"
LD_LIBRARY_PATH=$prefix/lib WORLDKV_BACKEND=cpu expect 0 "generate_frame: 64x64 frame from libworldkv" -- \
  "$tmp/generate_frame" "$model" "$tmp/start.png" "$tmp/frame.ppm"
check "a 64x64 PPM written" sh -c "head -c 13 '$tmp/frame.ppm' | grep -q '^64 64\$'"
check "PPM has all its pixels" test "$(stat -c %s "$tmp/frame.ppm")" -eq $((13 + 64 * 64 * 3))
LD_LIBRARY_PATH=$prefix/lib expect 1 "generate_frame: " -- "$tmp/generate_frame" "$tmp/missing.safetensors" "$tmp/start.png" "$tmp/x.ppm"

# the CMake package: find_package gives the target and the model path
mkdir -p "$tmp/cmake_user"
cat > "$tmp/cmake_user/CMakeLists.txt" <<EOF
cmake_minimum_required(VERSION 3.22)
project(cmake_user C)
find_package(worldkv 0.3 REQUIRED)
if(NOT EXISTS "\${worldkv_MODEL}")
  message(FATAL_ERROR "worldkv_MODEL is not a file: \${worldkv_MODEL}")
endif()
add_executable(generate_frame "$src/examples/generate_frame.c")
target_link_libraries(generate_frame PRIVATE worldkv::worldkv)
EOF
check "find_package(worldkv) configures" cmake -S "$tmp/cmake_user" -B "$tmp/cmake_user/build" -DCMAKE_PREFIX_PATH="$prefix"
check "example builds with worldkv::worldkv" cmake --build "$tmp/cmake_user/build"
WORLDKV_BACKEND=cpu expect 0 "generate_frame: 64x64 frame" -- \
  "$tmp/cmake_user/build/generate_frame" "$model" "$tmp/start.png" "$tmp/frame2.ppm"
finish
