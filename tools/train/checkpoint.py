"""Loads a student from a training checkpoint (.pt, EMA weights) or an
exported .safetensors file."""
import json

import torch

from model import Config, Student, rescale_gates
from safetensors_io import read_safetensors


def config_from_dict(d):
    d = dict(d)
    d["schedule"] = tuple(d["schedule"])
    return Config(**{k: v for k, v in d.items() if k in Config.__dataclass_fields__})


def load_student(path, raw=False):
    """The EMA weights of a checkpoint (or its current weights, raw), with a
    training-only gate_scale folded into them."""
    if path.endswith(".safetensors"):
        tensors, meta = read_safetensors(path)
        config = json.loads(meta["config"])
        # exports nest the model's config under "model"; resume files (pack_resume.py) hold it alone
        cfg = config_from_dict(config.get("model", config))
        model = Student(cfg)
        model.load_state_dict({k: v for k, v in tensors.items()})
    else:
        state = torch.load(path)
        cfg = config_from_dict(state["config"])
        scale, cfg.gate_scale = cfg.gate_scale, 1.0
        model = Student(cfg)
        model.load_state_dict(rescale_gates(dict(state["model" if raw else "ema"]), scale))
    # the exported config may ship a shorter schedule than was trained
    return model.eval()
