"""Where new content turns to mush, in a minute instead of a full eval:
the truth of one unseen world's random walk over each model's rollout
(PyTorch, 1 step, as eval.py's --onset-png), every 6 frames, one row per
model. A training run can be looked at every few dozen steps this way.

  /usr/bin/python3 tools/train/onset.py --out onset.png \\
      runs/student/checkpoint.pt:raw runs/student/checkpoint.pt assets/models/student-v1.safetensors

A MODEL is an export or resume file (.safetensors), or a training
checkpoint (.pt: its EMA, or its current weights with ':raw').
"""
import argparse
import os
import sys
import tempfile

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import eval_world as ew  # noqa: E402
from checkpoint import load_student  # noqa: E402
from eval_world import ONSET_EVERY  # noqa: E402


def load(spec):
    path, raw = (spec[:-4], True) if spec.endswith(":raw") else (spec, False)
    if not os.path.exists(path):
        sys.exit(f"{path}: no such model file")
    if raw and not path.endswith(".pt"):
        sys.exit(f"{spec}: ':raw' picks a training checkpoint's current weights; {path} is not a checkpoint (.pt)")
    model = load_student(path, raw=raw)
    return model.eval()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("models", nargs="+", metavar="MODEL")
    ap.add_argument("--out", required=True, help="the PNG: truth on top, then one row per model")
    ap.add_argument("--world", type=int, default=9001, help="world (and walk) seed; 9001 is the wander's first")
    ap.add_argument("--first", type=int, default=0, help="first frame shown (a multiple of 6)")
    ap.add_argument("--last", type=int, default=120, help="last frame shown")
    ap.add_argument("--world-tool", default=os.path.join(HERE, "../../build/tools/world/worldkv-world"))
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    if args.first < 0 or args.last < args.first:
        sys.exit("--first must be at least 0 and --last at least --first")
    if not os.path.exists(args.world_tool):
        sys.exit(f"{args.world_tool}: no world tool (build the project first, or pass --world-tool)")
    torch.set_num_threads(args.threads)
    models = [load(m) for m in args.models]
    size = models[0].cfg.image
    with tempfile.TemporaryDirectory() as tmp:
        truth, poses = ew.random_walks(args.world_tool, os.path.join(tmp, "w"), args.last + 1, size,
                                       world_seed=args.world, seed=args.world)
    shown = [j for j in range(args.first, args.last + 1) if j % ONSET_EVERY == 0]
    rows = [torch.cat([ew.to01(ew.u8_to_unit(truth[0, j])) for j in shown], 2)]
    for spec, model in zip(args.models, models):
        picks = {}

        def on_frame(j, gen):
            if j in shown:
                picks[j] = ew.to01(gen[0]).clone()
        with torch.no_grad():
            ew.run_batch(model, ew.u8_to_unit(truth[:1, 0]), poses[:1], 1, 7, on_frame)
        rows.append(torch.cat([picks[j] for j in shown], 2))
        print(f"{spec}: frames {shown[0]}..{shown[-1]} every {ONSET_EVERY}", flush=True)
    ew.write_png(args.out, torch.cat(rows, 1))
    print(f"wrote {args.out}: truth, then {len(models)} model row(s)")


if __name__ == "__main__":
    main()
