"""Draws a soak's memory records (worldkv-bench generate --memory-every
--json) as a PNG: host RSS, device memory and KV memory over frames, each
on its own band, with no plotting package (numpy, written by ffmpeg), and
prints the figures the soak is judged by.

  /usr/bin/python3 tools/plot_soak.py docs/soak.jsonl docs/soak.png
"""
import json
import os
import subprocess
import sys

import numpy as np

W, BAND, PAD = 720, 120, 30
FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf"  # labels only where this font is installed
SERIES = (("host_rss_kb", "host RSS", 1024.0, (220, 60, 50)),
          ("device_bytes", "device", 1 << 20, (60, 120, 220)),
          ("kv_memory_bytes", "KV memory", 1 << 20, (40, 160, 80)))


def draw_line(img, xs, ys, colour):
    for (x0, y0), (x1, y1) in zip(zip(xs[:-1], ys[:-1]), zip(xs[1:], ys[1:])):
        n = int(max(abs(x1 - x0), abs(y1 - y0))) + 1
        for t in np.linspace(0, 1, n):
            x, y = int(x0 + (x1 - x0) * t), int(y0 + (y1 - y0) * t)
            img[max(0, y - 1):y + 1, max(0, x - 1):x + 1] = colour


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    recs = [r for r in (json.loads(line) for line in open(sys.argv[1]) if line.strip()) if r.get("op") == "memory"]
    if len(recs) < 2:
        sys.exit(f"{sys.argv[1]}: fewer than 2 memory records")
    frames = np.array([r["frame"] for r in recs], dtype=float)
    h = len(SERIES) * BAND + 2 * PAD
    img = np.full((h, W, 3), 255, np.uint8)
    xs = PAD + (frames - frames.min()) / max(1.0, frames.max() - frames.min()) * (W - 2 * PAD - 1)
    labels = [(PAD, 8, f"frames {int(frames.min())} to {int(frames.max())}, a record every "
                       f"{int(frames[2] - frames[1]) if len(frames) > 2 else 0} frames")]
    for k, (key, name, unit, colour) in enumerate(SERIES):
        top, bottom = PAD + k * BAND + 10, PAD + (k + 1) * BAND - 10
        img[bottom, PAD:W - PAD] = 0
        img[top:bottom, PAD] = 0
        v = np.array([r[key] for r in recs], dtype=float) / unit
        # each band spans its series' own range, widened to at least 1 MiB so flat lines sit mid-band
        lo, hi = v.min(), v.max()
        if hi - lo < 1.0:
            mid = (hi + lo) / 2
            lo, hi = mid - 0.5, mid + 0.5
        ys = bottom - (v - lo) / (hi - lo) * (bottom - top)
        draw_line(img, xs, ys, colour)
        img[top:top + 8, W - PAD - 40:W - PAD] = colour
        labels.append((PAD + 8, top, f"{name}: {v.min():.2f} to {v.max():.2f} MiB (band {lo:.2f} to {hi:.2f})"))
    text = []
    if os.path.exists(FONT):
        for x, y, t in labels:
            text.append(f"drawtext=fontfile={FONT}:fontsize=12:fontcolor=black:x={x}:y={y}:"
                        f"text='{t.replace(':', chr(92) + ':')}'")
    subprocess.run(["ffmpeg", "-loglevel", "error", "-y", "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{W}x{h}",
                    "-i", "-"] + (["-vf", ",".join(text)] if text else []) + [sys.argv[2]],
                   input=img.tobytes(), check=True)
    after = [r for r in recs if r["frame"] >= 1000]
    first, last = after[0], after[-1]
    rss = [r["host_rss_kb"] for r in after]
    print(f"{len(recs)} records, frames {int(frames.min())}..{int(frames.max())} -> {sys.argv[2]}")
    print(f"from frame {first['frame']} to {last['frame']}: device {first['device_bytes']} -> {last['device_bytes']} "
          f"bytes, KV memory {first['kv_memory_bytes']} -> {last['kv_memory_bytes']} bytes, host RSS "
          f"{min(rss)}..{max(rss)} kB (spread {max(rss) - min(rss)} kB), non-finite frames "
          f"{last['nonfinite_frames']}, {last['ms_per_frame_so_far']:.2f} ms a frame")
    print("bands, top to bottom: red host RSS, blue device memory, green KV memory (each on its own scale, "
          "at least 1 MiB tall)")


if __name__ == "__main__":
    main()
