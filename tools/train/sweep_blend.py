"""Scores blends of two students of one run on the two bars that pull
against each other: one step ahead on moving frames (a model that copies
loses it) and the stand-still and returns (a model that does not copy loses
those). One JSON line per alpha; alpha 0 is A, 1 is B.

  /usr/bin/python3 tools/train/sweep_blend.py --a assets/models/student.safetensors \\
      --b assets/train/student-v1.resume.ema.safetensors --alphas 0,0.25,0.5,0.75,1

Same seeds, episodes, steps and measures as eval.py's onestep_* and
eval_world.idle_and_returns, so the lines compare with docs/model-eval.json.
"""
import argparse
import copy
import json
import os
import sys
import tempfile
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import eval as ev  # noqa: E402
import eval_world as ew  # noqa: E402
from blend import blend_states  # noqa: E402
from checkpoint import load_student  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))


def mixed(a, b, alpha):
    model = copy.deepcopy(a.model)
    model.load_state_dict(blend_states(a.model.state_dict(), b.model.state_dict(), alpha))
    return model.eval()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--a", required=True)
    ap.add_argument("--b", required=True)
    ap.add_argument("--alphas", default="0,0.25,0.5,0.75,1")
    ap.add_argument("--seeds", default="9001,9002,9003,9004")
    ap.add_argument("--episodes-per-seed", type=int, default=4)
    ap.add_argument("--steps", type=int, default=1)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--no-idle", dest="idle", action="store_false", help="one step ahead only")
    ap.add_argument("--world-tool", default=os.path.join(HERE, "..", "..", "build", "tools", "world", "worldkv-world"))
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    a = argparse.Namespace(model=load_student(args.a))
    b = argparse.Namespace(model=load_student(args.b))
    seeds = [int(s) for s in args.seeds.split(",")]
    with tempfile.TemporaryDirectory() as tmp, torch.no_grad():
        episodes = []
        for seed in seeds:
            ds = ev.render_episodes(args.world_tool, os.path.join(tmp, str(seed)), seed, args.episodes_per_seed,
                                    a.model.cfg.image)
            episodes += [(seed * 100 + e, *ev.load_episode(ds, e)) for e in range(ds.episodes)]
        for alpha in (float(v) for v in args.alphas.split(",")):
            t0 = time.time()
            model = mixed(a, b, alpha)
            m, c = [], []
            for seed, x, poses, actions in episodes:
                mm, cc = ev.onestep(model, x, poses, actions, seed, args.steps)
                m += mm
                c += cc
            out = {"alpha": alpha, "onestep_psnr_model": float(np.mean(m)), "onestep_psnr_copy": float(np.mean(c)),
                   "onestep_over_copy": float(np.mean(m) - np.mean(c)), "onestep_frames": len(m)}
            if args.idle:
                r = ew.idle_and_returns(model, args.world_tool, seeds, args.steps)
                out.update({k: r[k] for k in ("idle_psnr_300", "idle_psnr_300_per_world", "return_ssim_spin",
                                              "return_ssim_out_and_back")})
            print(json.dumps({"a": os.path.basename(args.a), "b": os.path.basename(args.b), "steps": args.steps,
                              "seconds": round(time.time() - t0), **out}), flush=True)


if __name__ == "__main__":
    main()
