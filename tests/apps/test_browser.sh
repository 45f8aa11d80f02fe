#!/usr/bin/env bash
# A browser plays a stream while it grows: worldkv-render --stream writes a
# WebM and an MP4 without end, and while each is being written, headless
# Chromium loads what the file holds at that moment in a <video> element
# and must play a quarter second of it. (A WebM once held only its header
# for seconds, because libvpx kept 25 frames back.)
# usage: test_browser.sh WORLDKV_RENDER MODEL [CHROMIUM]
set -u
bin=$1
model=$2
chromium=${3:-chromium}
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
server=
trap '[ -n "$server" ] && kill $server 2>/dev/null; rm -rf "$tmp"' EXIT
source "$here/../cli_lib.sh"
cp "$here/browser/play.html" "$tmp/"
python3 "$here/browser/serve_growing.py" "$tmp" "$tmp/port" "$tmp/served" & server=$!
for _ in $(seq 1 50); do [ -s "$tmp/port" ] && break; sleep 0.1; done
port=$(cat "$tmp/port")

for ext in webm mp4; do
  "$bin" --model "$model" -q --stream -o "$tmp/live.$ext" &
  pid=$!
  for _ in $(seq 1 240); do   # a few fragments on disk (set-up may be slow)
    [ -s "$tmp/live.$ext" ] && [ "$(stat -c %s "$tmp/live.$ext")" -gt 30000 ] && break
    sleep 0.25
  done
  out=$(timeout 60 "$chromium" --headless --no-sandbox --disable-gpu --user-data-dir="$tmp/profile" \
        --autoplay-policy=no-user-gesture-required --virtual-time-budget=5000 \
        --dump-dom "http://127.0.0.1:$port/play.html#live.$ext" 2>/dev/null | grep -o '<pre id="out">[^<]*')
  checks=$((checks + 1))
  grep -q "PLAYED .* at 256x256" <<<"$out" || fail "$ext: the growing file did not play: ${out:-no page}"
  checks=$((checks + 1))
  kill -0 $pid 2>/dev/null || fail "$ext: the render had stopped before the browser loaded the file"
  kill -INT $pid; wait $pid
  served=$(grep "^live.$ext " "$tmp/served" | tail -1 | cut -d' ' -f2)
  checks=$((checks + 1))
  [ "${served:-0}" -gt 0 ] && [ "$served" -lt "$(stat -c %s "$tmp/live.$ext")" ] \
    || fail "$ext: the browser got ${served:-no} bytes of a file that ended at $(stat -c %s "$tmp/live.$ext")"
done
finish
