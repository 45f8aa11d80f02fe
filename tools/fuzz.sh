#!/usr/bin/env bash
# Builds every libFuzzer target with clang (build-fuzz/) and runs each for
# SECONDS (default 20) from a seed corpus of valid inputs, made here from the
# shipped assets. Exits non-zero on the first crash, leak, timeout or
# undefined behaviour; libFuzzer leaves the input that did it as crash-* in
# build-fuzz/findings/. Usage: tools/fuzz.sh [SECONDS] [TARGET...]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
seconds=${1:-20}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(fuzz_safetensors fuzz_model_config fuzz_model fuzz_actions fuzz_path fuzz_snapshot)
build="$root/build-fuzz"
command -v clang >/dev/null || { echo "fuzz: clang is needed (apt-get install clang)" >&2; exit 1; }
cmake -S "$root" -B "$build" -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=RelWithDebInfo -DWORLDKV_FUZZ=ON \
  -DWORLDKV_WERROR=ON > "$build.log" 2>&1 || { cat "$build.log" >&2; exit 1; }
cmake --build "$build" -j"$(nproc)" --target "${targets[@]}" >> "$build.log" 2>&1 || { tail -40 "$build.log" >&2; exit 1; }

# seed corpora: one directory per target, valid inputs to mutate
seeds="$build/seeds"
rm -rf "$seeds"
mkdir -p "$seeds"/{safetensors,model_config,model,actions,path,snapshot} "$build/findings"
model="$root/assets/models/tiny-test.safetensors"
cp "$model" "$seeds/safetensors/"
cp "$model" "$seeds/model/"
python3 - "$model" "$seeds/model_config/config.json" <<'PY'
import json, struct, sys
raw = open(sys.argv[1], "rb").read()
n = struct.unpack("<Q", raw[:8])[0]
open(sys.argv[2], "w").write(json.loads(raw[8:8 + n])["__metadata__"]["config"])
PY
cp "$root"/assets/paths/demo_walk.txt "$seeds/actions/"
printf '5 forward\n10 turn_right=0.5 run\n# a comment\n\n3 noop\n' > "$seeds/actions/terms.txt"
cp "$root"/assets/paths/loop_path.txt "$seeds/path/"
printf '0 0 1.6 0 0 0\n' > "$seeds/path/one_key.txt"
# a snapshot of the tiny model's world, saved as the fuzz target's session makes one
if [ -x "$root/build/apps/worldkv-render" ]; then
  "$root/build/apps/worldkv-render" --model "$model" --backend cpu --memory-slots 4 --frames 8 -q \
    -o "$build/seed.mkv" --save-world "$seeds/snapshot/world.snap" 2>/dev/null || true
fi

status=0
for t in "${targets[@]}"; do
  corpus="$seeds/${t#fuzz_}"
  echo "fuzz: $t for ${seconds} s ($(ls "$corpus" | wc -l) seeds)"
  if ! (cd "$build/findings" && WORLDKV_FUZZ_MODEL="$model" "$build/tests/$t" "$corpus" \
        -max_total_time="$seconds" -max_len=600000 -timeout=10 -rss_limit_mb=3072 -print_final_stats=1 \
        > "$build/$t.log" 2>&1); then
    echo "fuzz: $t FAILED; the input is in $build/findings; log:" >&2
    tail -40 "$build/$t.log" >&2
    status=1
  else
    grep -E "stat::number_of_executed_units" "$build/$t.log" | sed "s/^/  /" || true
  fi
done
exit $status
