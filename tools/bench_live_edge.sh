#!/usr/bin/env bash
# How far the playable edge of a growing stream lags generation.
# Runs worldkv-render --stream for N frames and, every 0.25 s, copies the
# growing file and counts the frames the copy decodes (ffprobe). Generation
# is taken as steady between the first frame and the last (worldkv-render
# reports both), so frames made by time t = (t - setup) * rate; the lag is
# (made - decodable) / rate seconds. Prints the mean and worst lag.
# usage: tools/bench_live_edge.sh [FRAMES] [mp4|mkv|webm]   (default 200 mp4; needs a build)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
frames=${1:-200}
ext=${2:-mp4}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export MESA_SHADER_CACHE_DIR=${MESA_SHADER_CACHE_DIR:-/tmp/worldkv-mesa-cache}
t_start=$(date +%s.%N)
"$root/build/apps/worldkv-render" --stream --frames "$frames" -o "$tmp/live.$ext" 2> "$tmp/render.log" &
pid=$!
: > "$tmp/polls"
while kill -0 $pid 2>/dev/null; do
  sleep 0.25
  t=$(date +%s.%N)
  [ -s "$tmp/live.$ext" ] || continue
  cp "$tmp/live.$ext" "$tmp/copy.$ext"
  n=$(ffprobe -v error -count_frames -select_streams v:0 -show_entries stream=nb_read_frames -of csv=p=0 \
      "$tmp/copy.$ext" 2>/dev/null || echo 0)
  echo "$t ${n:-0}" >> "$tmp/polls"
done
wait $pid
t_end=$(date +%s.%N)
summary=$(tail -1 "$tmp/render.log")
echo "$summary"
# "N frames to FILE in S s": the first frame came at t_end - S (give or take the encoder's close)
read -r made secs < <(sed -E 's/.*: ([0-9]+) frames to .* in ([0-9.]+) s.*/\1 \2/' <<<"$summary")
awk -v t0="$t_end" -v s="$secs" -v n="$made" -v start="$t_start" '
  { first = t0 - s; rate = (n - 1) / s; made = 1 + ($1 - first) * rate; if (made > n) made = n;
    if ($1 < first) next;
    lag = (made - $2) / rate; if (lag < 0) lag = 0; sum += lag; k++; if (lag > worst) worst = lag }
  END { printf "live edge: %d polls over %.1f s of generation at %.1f frames/s (set-up %.1f s): lag mean %.2f s, worst %.2f s\n",
        k, s, rate, t0 - s - start, k ? sum / k : 0, worst }' "$tmp/polls"
