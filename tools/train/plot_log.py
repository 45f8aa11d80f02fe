"""Draws the training log (RUN/log.jsonl) as a PNG loss curve, with no
plotting package: lines rasterised in numpy, written by ffmpeg.

  /usr/bin/python3 tools/train/plot_log.py runs/student-v1/log.jsonl docs/model-loss.png
"""
import json
import sys

import numpy as np

from png_io import write_rgb_png

W, H, PAD = 720, 360, 40
SERIES = (("rgb_mse", (220, 60, 50)), ("depth_l1", (60, 120, 220)))


def smooth(v, k=10):
    if len(v) < k:
        return np.asarray(v)
    c = np.cumsum(np.insert(np.asarray(v, dtype=float), 0, 0))
    out = (c[k:] - c[:-k]) / k
    return np.concatenate([np.asarray(v[: k - 1], dtype=float), out])


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    recs = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]
    recs = [r for r in recs if "rgb_mse" in r]   # not events such as a discriminator warm-up
    steps = np.array([r["step"] for r in recs], dtype=float)
    img = np.full((H, W, 3), 255, np.uint8)
    img[H - PAD, PAD:W - PAD] = 0
    img[PAD:H - PAD, PAD] = 0
    for i in range(1, 10):  # faint grid: log10 decades of the loss
        img[PAD + i * (H - 2 * PAD) // 10, PAD:W - PAD:4] = 200
    lo, hi = -3.0, 0.5  # log10 range shown
    for name, colour in SERIES:
        v = np.log10(np.maximum(smooth([r[name] for r in recs]), 1e-6))
        xs = PAD + (steps - steps.min()) / max(1.0, steps.max() - steps.min()) * (W - 2 * PAD - 1)
        ys = PAD + (hi - np.clip(v, lo, hi)) / (hi - lo) * (H - 2 * PAD - 1)
        for (x0, y0), (x1, y1) in zip(zip(xs[:-1], ys[:-1]), zip(xs[1:], ys[1:])):
            n = int(max(abs(x1 - x0), abs(y1 - y0))) + 1
            for t in np.linspace(0, 1, n):
                x, y = int(x0 + (x1 - x0) * t), int(y0 + (y1 - y0) * t)
                img[max(0, y - 1):y + 1, max(0, x - 1):x + 1] = colour
    # a legend swatch per series, top right
    for k, (name, colour) in enumerate(SERIES):
        img[PAD + 8 + 14 * k:PAD + 16 + 14 * k, W - PAD - 60:W - PAD - 20] = colour
    write_rgb_png(sys.argv[2], img)
    print(f"{len(recs)} points, steps {int(steps.min())}..{int(steps.max())}: red rgb_mse, blue depth_l1 "
          f"(log10 scale {lo}..{hi}, 10-point moving average) -> {sys.argv[2]}")


if __name__ == "__main__":
    main()
