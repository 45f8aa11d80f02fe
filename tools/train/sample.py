"""The reference sampler: runs the PyTorch student frame by frame from a
start image along an action script and writes a video through ffmpeg.
This is what a user would otherwise run, and the speed baseline for the
engine's benchmark.

  /usr/bin/python3 tools/train/sample.py --model assets/models/student.safetensors \\
      --start start.png --actions assets/paths/demo_walk.txt -o sample.mp4
"""
import argparse
import os
import subprocess
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from actions import ScriptError, parse_actions, step  # noqa: E402
from checkpoint import load_student  # noqa: E402
from infer import Session  # noqa: E402


def read_image(path, size):
    """Any image ffmpeg reads, scaled to size x size RGB in [-1, 1]."""
    raw = subprocess.run(["ffmpeg", "-loglevel", "error", "-i", path, "-frames:v", "1", "-vf",
                          f"scale={size}:{size}", "-f", "rawvideo", "-pix_fmt", "rgb24", "-"],
                         capture_output=True, check=False)
    if raw.returncode != 0 or len(raw.stdout) != size * size * 3:
        sys.exit(f"sample: cannot read {path}: {raw.stderr.decode().strip() or 'not an image'}")
    img = np.frombuffer(raw.stdout, np.uint8).reshape(size, size, 3)
    return torch.from_numpy(img.copy()).float().permute(2, 0, 1) / 127.5 - 1


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", required=True)
    ap.add_argument("--start", required=True, help="start image (PNG, JPEG, ...)")
    ap.add_argument("--actions", required=True, help="action script (docs/formats.md)")
    ap.add_argument("-o", "--out", required=True, help="video file (.mp4, .mkv, ...)")
    ap.add_argument("--frames", type=int, help="frames in the video, the start frame included (as worldkv-render "
                    "and ffmpeg -frames:v count)")
    ap.add_argument("--steps", type=int, help="sampling steps (default: the model's schedule)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    try:
        actions = parse_actions(open(args.actions).read(), args.actions)
    except (OSError, ScriptError) as e:
        sys.exit(f"sample: {e}")
    if args.frames:
        if args.frames < 1:
            ap.error("--frames must be at least 1")
        actions = actions[: args.frames - 1]
    model = load_student(args.model)
    size = model.cfg.image
    enc = subprocess.Popen(["ffmpeg", "-loglevel", "error", "-y", "-f", "rawvideo", "-pix_fmt", "rgb24", "-s",
                            f"{size}x{size}", "-framerate", "20", "-i", "-", "-vf", "scale=iw*4:ih*4:flags=neighbor",
                            "-pix_fmt", "yuv420p", args.out], stdin=subprocess.PIPE)
    session = Session(model, seed=args.seed, steps=args.steps)
    pose = [0.0, 1.6, 0.0, 0.0, 0.0]
    start = read_image(args.start, size)
    session.start(start, torch.tensor(pose))

    def emit(x):
        enc.stdin.write(((x.clamp(-1, 1) + 1) * 127.5 + 0.5).byte().permute(1, 2, 0).numpy().tobytes())

    emit(start)
    t0 = time.time()
    for i, a in enumerate(actions):
        pose = step(pose, a)
        emit(session.step(torch.tensor(pose, dtype=torch.float32)))
        if sys.stderr.isatty():
            rate = (i + 1) / (time.time() - t0)
            print(f"\rsample: frame {i + 1}/{len(actions)}, {rate:.1f} frames/s", end="", file=sys.stderr)
    enc.stdin.close()
    enc.wait()
    elapsed = max(time.time() - t0, 1e-9)
    print(f"\nsample: {len(actions)} frames in {elapsed:.1f} s ({len(actions) / elapsed:.2f} frames/s, PyTorch on "
          f"{args.threads} threads) -> {args.out}", file=sys.stderr)
    return enc.returncode


if __name__ == "__main__":
    sys.exit(main())
