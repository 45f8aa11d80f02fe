"""Blends two students of one run weight by weight: (1 - alpha) * A + alpha * B.

  /usr/bin/python3 tools/train/blend.py --a assets/models/student.safetensors \\
      --b assets/train/student-v1.resume.ema.safetensors --alpha 0.5 --out runs/blend-0.5.safetensors

Why: two checkpoints of the same run lie in one basin, so the points between
them are models too, and they trade what each is good at (a later step
holds a still camera, an earlier one predicts moving frames better). The
output is a resume-style file (the model's config, "step" from B, and the
blend recorded in the metadata) that eval.py, eval_memory_bits.py and
export.py read like any other.
"""
import argparse
import json
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from checkpoint import load_student  # noqa: E402
from safetensors_io import read_metadata, write_safetensors  # noqa: E402


def step_of(path):
    if not path.endswith(".safetensors"):
        return str(torch.load(path)["step"])
    meta = read_metadata(path)
    return meta.get("step", meta.get("training_step", "?"))


def blend_states(sa, sb, alpha):
    """(1 - alpha) * A + alpha * B, tensor by tensor, in float32."""
    return {k: (1 - alpha) * sa[k].float() + alpha * sb[k].float() for k in sa}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--a", required=True, help="a student (.safetensors export or resume file, or .pt)")
    ap.add_argument("--b", required=True, help="another student of the same shape")
    ap.add_argument("--alpha", type=float, required=True, help="the share of B, 0 to 1")
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    if not 0.0 <= args.alpha <= 1.0:
        ap.error("--alpha must be between 0 and 1")
    a, b = load_student(args.a), load_student(args.b)
    sa, sb = a.state_dict(), b.state_dict()
    if sa.keys() != sb.keys() or any(sa[k].shape != sb[k].shape for k in sa):
        sys.exit("blend: the two students differ in shape; only checkpoints of one run can be blended")
    cfg = b.cfg.to_dict()
    cfg.pop("gate_scale", None)  # load_student folded it into the weights
    mixed = blend_states(sa, sb, args.alpha)
    blend = {"a": os.path.basename(args.a), "a_step": step_of(args.a), "b": os.path.basename(args.b),
             "b_step": step_of(args.b), "alpha": args.alpha}
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    write_safetensors(args.out, mixed, {"config": json.dumps(cfg), "step": str(blend["b_step"]),
                                        "weights": "blend", "blend": json.dumps(blend)})
    print(json.dumps({"blended": args.out, **blend}))


if __name__ == "__main__":
    main()
