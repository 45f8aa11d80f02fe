"""Packs a training checkpoint into what a later session needs to go on:
the current (non-EMA) weights and the step, as .safetensors, their EMA
beside it (NAME.ema.safetensors: a later session's --init-ema, so the EMA
goes on rather than restarting from the shipped model), and, when the run
has one, the self-forcing discriminator (NAME.disc.safetensors). The
optimiser state (twice the weights) is left out to keep the repository
small; train.py --init-model/--init-ema (and --init-disc) warms up again
from here.

  /usr/bin/python3 tools/train/pack_resume.py runs/student-v1/checkpoint.pt assets/train/student-v1.resume.safetensors
"""
import json
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from model import rescale_gates  # noqa: E402
from safetensors_io import write_safetensors  # noqa: E402


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    state = torch.load(sys.argv[1])
    os.makedirs(os.path.dirname(os.path.abspath(sys.argv[2])), exist_ok=True)
    # a training-only gate_scale is folded in: resume files hold the engine's parametrisation
    config = dict(state["config"])
    weights = rescale_gates(dict(state["model"]), config.pop("gate_scale", 1.0))
    write_safetensors(sys.argv[2], {k: v.float() for k, v in weights.items()},
                      {"config": json.dumps(config), "step": str(state["step"]), "weights": "raw"})
    print(f"packed step {state['step']} into {sys.argv[2]}")
    ema_path = sys.argv[2].replace(".safetensors", "") + ".ema.safetensors"
    ema = rescale_gates(dict(state["ema"]), dict(state["config"]).get("gate_scale", 1.0))
    write_safetensors(ema_path, {k: v.float() for k, v in ema.items()},
                      {"config": json.dumps(config), "step": str(state["step"]), "weights": "ema"})
    print(f"packed the EMA into {ema_path}")
    if "disc" in state:
        disc_path = sys.argv[2].replace(".safetensors", "") + ".disc.safetensors"
        write_safetensors(disc_path, {k: v.float() for k, v in state["disc"].items()}, {"step": str(state["step"])})
        print(f"packed the discriminator into {disc_path}")


if __name__ == "__main__":
    main()
