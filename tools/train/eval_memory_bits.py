"""Issue 15's quality bar for quantized memory slots: the stand-still and
the returns (eval_world.idle_and_returns), one step ahead on moving frames
and the 64-frame rollouts (eval.evaluate's classic measures) and the
2,000-frame wander (eval_world.wander), with the memory slots in float and
quantized (kv_quant), on one model, for the table in docs/model.md
"Quantized memory slots". Prints one JSON line per setting.

  /usr/bin/python3 tools/train/eval_memory_bits.py --model assets/models/student.safetensors --bits 32,8,4
"""
import argparse
import json
import os
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import eval as ev  # noqa: E402
import eval_world as ew  # noqa: E402
from checkpoint import load_student  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", required=True)
    ap.add_argument("--bits", default="32,8", help="comma separated: 32 (float), 8, 4 or 2")
    ap.add_argument("--seeds", default="9001,9002,9003,9004")
    ap.add_argument("--steps", type=int, default=1)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--episodes-per-seed", type=int, default=4, help="for one step ahead and the rollouts")
    ap.add_argument("--wander-frames", type=int, default=2000, help="0 skips the wander")
    ap.add_argument("--no-classic", dest="classic", action="store_false", help="skip one step ahead and the rollouts")
    ap.add_argument("--world-tool", default=os.path.join(HERE, "..", "..", "build", "tools", "world", "worldkv-world"))
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    model = load_student(args.model)
    seeds = [int(s) for s in args.seeds.split(",")]
    for bits in (int(b) for b in args.bits.split(",")):
        ew.KV_BITS = None if bits == 32 else bits
        t0 = time.time()
        ev.KV_BITS = ew.KV_BITS
        with torch.no_grad():
            out = ew.idle_and_returns(model, args.world_tool, seeds, args.steps)
            if args.classic:
                classic = ev.evaluate(argparse.Namespace(
                    model=args.model, seeds=args.seeds, episodes_per_seed=args.episodes_per_seed, steps=args.steps,
                    threads=args.threads, world_tool=args.world_tool, classic=True, world=False, strip=None))
                out.update({k: classic[k] for k in ("onestep_psnr_model", "onestep_psnr_copy", "onestep_frames",
                                                    "revisit_psnr_memory_on", "revisit_episodes")})
                out["rollout_psnr_64"] = classic["rollout"]["64"]["psnr"]
            if args.wander_frames:
                walks = ew.wander(model, args.world_tool, seeds, args.wander_frames, args.steps)["worlds"]
                out["wander_psnr_100_on"] = [w["mean_psnr_100_on"] for w in walks]
                out["wander_ssim_100_on"] = [w["mean_ssim_100_on"] for w in walks]
                out["wander_min_segment_ssim"] = [w["min_segment_ssim"] for w in walks]
        print(json.dumps({"bits": bits, "seconds": round(time.time() - t0), **out}), flush=True)


if __name__ == "__main__":
    main()
