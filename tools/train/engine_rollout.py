"""The eval's rollouts on the C engine instead of PyTorch (eval.py --engine).

Why: the long-use measures roll out tens of thousands of frames (the
classifier test alone 12,000); batched PyTorch makes about 15 frames a
second on two cores, the engine's CPU backend about 100. The engine runs
the same model (test_shipped_golden: frame for frame within 1e-5) with the
same memory rules, so the measures mean the same; the figures differ from
PyTorch's only by the noise draws (the engine has its own generator) and by
reading frames back as 8-bit RGB.

Each rollout is one `worldkv-render` run: the model exported to a temporary
file, the start frame as a PNG, the poses as a camera path with every frame
a keyframe, the frames written as PNGs and read back. A camera path's
x and z are relative to the start and the engine starts an image at yaw 0,
so the poses are turned about the first one until it faces yaw 0; the model
sees only relative poses (motion and source features, warps, retrieval by
overlap), so a turned path makes the same frames.
"""
import glob
import json
import math
import os
import subprocess
import tempfile

import numpy as np
import torch

from export import config_json
from png_io import read_rgb_pngs, write_rgb_png
from safetensors_io import write_safetensors


def export_for_engine(model, path):
    """Writes the model as the engine reads it (export.py's layout, without golden vectors)."""
    write_safetensors(path, {k: v.float().contiguous() for k, v in model.state_dict().items()},
                      {"config": json.dumps(config_json(model.cfg)), "weights": "eval"})


def path_lines(poses):
    """poses [T, 5] (x, y, z, yaw, pitch) -> camera path text: frame 0 at the origin facing yaw 0."""
    p = poses.double()
    a = -math.radians(float(p[0, 3]))
    ca, sa = math.cos(a), math.sin(a)
    lines = []
    for t in range(p.shape[0]):
        dx, dz = float(p[t, 0] - p[0, 0]), float(p[t, 2] - p[0, 2])
        # a turn by a in yaw maps the heading (sin yaw, -cos yaw) to (sin (yaw + a), -cos (yaw + a))
        x, z = dx * ca - dz * sa, dx * sa + dz * ca
        lines.append(f"{t} {x:.7f} {float(p[t, 1]):.7f} {z:.7f} {float(p[t, 3] - p[0, 3]):.7f} {float(p[t, 4]):.7f}")
    return "\n".join(lines) + "\n"


def rollouts(model, start, poses, steps, seed, render_tool, memory_slots=16, kv_bits=None):
    """start [B, 3, H, W] in [-1, 1]; poses [B, T, 5] -> frames [B, T, H, W, 3] uint8 from the engine
    (frame 0 is the start). Rollout e draws its noise from seed * 1000 + e."""
    b, t = poses.shape[:2]
    size = model.cfg.image
    out = np.zeros((b, t, size, size, 3), dtype=np.uint8)
    with tempfile.TemporaryDirectory() as tmp:
        weights = os.path.join(tmp, "model.safetensors")
        export_for_engine(model, weights)
        for e in range(b):
            img = ((start[e].clamp(-1, 1) + 1) * 127.5 + 0.5).to(torch.uint8).permute(1, 2, 0).numpy()
            write_rgb_png(os.path.join(tmp, "start.png"), img)
            with open(os.path.join(tmp, "path.txt"), "w") as f:
                f.write(path_lines(poses[e]))
            for old in glob.glob(os.path.join(tmp, "f*.png")):
                os.remove(old)
            cmd = [render_tool, "--model", weights, "--start", os.path.join(tmp, "start.png"), "--path",
                   os.path.join(tmp, "path.txt"), "--frames", str(t), "--seed", str(seed * 1000 + e),
                   "--scale", "1", "--memory-slots", str(memory_slots), "--backend", "cpu", "-q",
                   "-o", os.path.join(tmp, "f%05d.png")]
            if steps:
                cmd += ["--steps", str(steps)]
            if kv_bits:
                cmd += ["--memory-bits", str(kv_bits)]
            run = subprocess.run(cmd, capture_output=True, text=True)
            if run.returncode != 0:
                raise RuntimeError(f"engine rollout: {' '.join(cmd)}: {run.stderr.strip()}")
            out[e] = read_rgb_pngs(os.path.join(tmp, "f%05d.png"), t, size)
    return out
