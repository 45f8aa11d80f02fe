"""The stand-still and the returns (eval_world.idle_and_returns) with the
memory slots in float and quantized (kv_quant), on one model, for the
table in docs/model.md "int8 memory slots". Prints one JSON line per setting.

  /usr/bin/python3 tools/train/eval_memory_bits.py --model assets/models/student.safetensors --bits 32,8
"""
import argparse
import json
import os
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
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
    ap.add_argument("--world-tool", default=os.path.join(HERE, "..", "..", "build", "tools", "world", "worldkv-world"))
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    model = load_student(args.model)
    seeds = [int(s) for s in args.seeds.split(",")]
    for bits in (int(b) for b in args.bits.split(",")):
        ew.KV_BITS = None if bits == 32 else bits
        t0 = time.time()
        with torch.no_grad():
            out = ew.idle_and_returns(model, args.world_tool, seeds, args.steps)
        print(json.dumps({"bits": bits, "seconds": round(time.time() - t0), **out}), flush=True)


if __name__ == "__main__":
    main()
