"""Exports a trained student for the C engine, with golden vectors.

  /usr/bin/python3 tools/train/export.py --checkpoint runs/student-v1/checkpoint.pt \\
      --out assets/models/student.safetensors --golden assets/golden

Writes:
  OUT                       the EMA weights (f32), PyTorch names, and in
                            __metadata__["config"] a JSON config: the model
                            hyperparameters, the sampler schedule, the camera
                            model, the warp and retrieval constants
  GOLDEN/student.safetensors   golden vectors of the exported model
  GOLDEN/tiny.safetensors      golden vectors of a tiny random model (window 1,
                               so three frames already use the memory bank),
                               with its weights
Golden files hold the inputs (start frame, poses, every noise draw) and
named values of every pass: f{t}.{step{i}|clean}.{embed,cond,block{l},out},
plus f{t}.warp_prev, f{t}.warp_mem, f{t}.retrieved, f{t}.rgb, f{t}.depth.
"""
import argparse
import json
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import retrieval  # noqa: E402
import warp  # noqa: E402
from camera import HFOV_DEG  # noqa: E402
from checkpoint import load_student  # noqa: E402
from infer import Session, Trace  # noqa: E402
from model import Config, Student  # noqa: E402
from safetensors_io import read_metadata, write_safetensors  # noqa: E402

FORMAT_VERSION = 1
CAMERA_MODEL_VERSION = 1


def config_json(cfg):
    return {
        "format_version": FORMAT_VERSION,
        "model": cfg.to_dict(),
        "sampler": {"schedule": list(cfg.schedule), "prediction": "x0", "interpolation": "x_t = (1 - t) x0 + t eps",
                    "renoise": "fresh gaussian noise before each later step", "output_clamp": [-1.0, 1.0]},
        "camera": {"version": CAMERA_MODEL_VERSION, "hfov_deg": HFOV_DEG, "frame_dt_s": 0.05,
                   "conventions": "docs/camera.md"},
        "pixels": {"range": [-1.0, 1.0], "layout": "[3, H, W]"},
        "depth": {"head": "log metres, clamped", "min_m": 0.1, "max_m": 100.0},
        "warp": {"fixed_point_steps": warp.FIXED_POINT_STEPS, "depth_tolerance": warp.DEPTH_TOLERANCE,
                 "min_depth": warp.MIN_DEPTH},
        "retrieval": {"bearings_deg": list(retrieval.BEARINGS_DEG), "distances_m": list(retrieval.DISTANCES_M),
                      "half_fov_deg": retrieval.HALF_FOV_DEG, "max_range_m": retrieval.MAX_RANGE_M,
                      "age_bonus": retrieval.AGE_BONUS, "age_cap": retrieval.AGE_CAP,
                      "min_overlap": retrieval.MIN_OVERLAP},
        "conditioning": {"motion_features": "model.Student.motion_features",
                         "source_features": "camera.relative_features + one-hot(self, sink, window, memory)"},
    }


def golden_inputs(cfg, frames):
    """A start frame and a path that turns, walks, then turns back (so the
    memory bank is read), all fixed, with no dataset needed."""
    g = torch.Generator().manual_seed(1234)
    h = cfg.image
    yy, xx = torch.meshgrid(torch.arange(h, dtype=torch.float32), torch.arange(h, dtype=torch.float32), indexing="ij")
    start = torch.stack([torch.sin(xx / 5), torch.cos(yy / 7), torch.sin((xx + yy) / 9)]) * 0.8
    start = start + 0.05 * torch.randn(start.shape, generator=g)
    poses = torch.zeros(frames + 1, 5)
    yaw = [90.0, 94.5, 99.0, 94.5, 90.0, 90.0, 85.5, 90.0][: frames + 1]
    for t in range(frames + 1):
        poses[t] = torch.tensor([5.0 + 0.07 * min(t, 3), 1.6, 5.0, yaw[t % len(yaw)], 0.0])
    return start.clamp(-1, 1), poses


def golden(model, frames, path, include_weights, kv_bits=None):
    trace = Trace(enabled=True)
    start, poses = golden_inputs(model.cfg, frames)
    s = Session(model, seed=99, trace=trace, kv_bits=kv_bits)
    s.start(start, poses[0])
    for t in range(1, frames + 1):
        s.step(poses[t])
    tensors = {"input.start_rgb": start, "input.poses": poses}
    tensors.update(trace.values)
    for li, (k, v) in enumerate(zip(s.sink.k, s.sink.v)):
        tensors[f"kv.sink.layer{li}.k"] = k
        tensors[f"kv.sink.layer{li}.v"] = v
    for si, slot in enumerate(s.bank):
        tensors[f"memory.slot{si}.frame"] = torch.tensor([float(slot.frame)])
        for li, (k, v) in enumerate(zip(slot.k, slot.v)):
            tensors[f"memory.slot{si}.layer{li}.k"] = k
            tensors[f"memory.slot{si}.layer{li}.v"] = v
    if include_weights:
        tensors.update({f"weights.{k}": v for k, v in model.state_dict().items()})
    meta = {"config": json.dumps(config_json(model.cfg)), "frames": str(frames),
            "memory_slots_used": str(len(s.bank)), "kv_bits": str(kv_bits or 32)}
    write_safetensors(path, {k: v.float() for k, v in tensors.items()}, meta)
    return len(s.bank)


def tiny_model(head_cond=4, head_gates=0, head_unet=0):
    torch.manual_seed(0)
    cfg = Config(dim=32, depth=2, heads=2, head_channels=8, window=1, memory_k=2, head_cond=head_cond,
                 head_gates=head_gates, head_unet=head_unet)
    m = Student(cfg)
    for p in m.parameters():      # adaLN-Zero starts at zero; wake every path up
        torch.nn.init.normal_(p, std=0.05)
    return m.eval()


def params_and_flops(model):
    """Parameters, and multiply-adds x 2 of one pass over one frame with a
    full context (sink + window + memory), by component."""
    cfg = model.cfg
    n, d = cfg.tokens, cfg.dim
    ctx = n + n + cfg.window * n + cfg.memory_k * n // cfg.compress ** 2
    per_block = 2 * n * (d * 6 * d / n + d * 3 * d + d * d + 2 * cfg.mlp_ratio * d * d) + 2 * 2 * n * ctx * d
    embed = 2 * n * (11 * cfg.patch ** 2) * d
    head = 2 * n * d * cfg.patch ** 2 * cfg.head_channels + 2 * cfg.image ** 2 * 9 * (
        (cfg.head_channels + cfg.head_cond) * 32 + 32 * (3 + cfg.head_gates))
    if cfg.head_unet:   # down1, down2, mid, up2 and up1, each at its own resolution
        head += 2 * cfg.image ** 2 * 9 * (32 * 48 / 4 + 48 * 64 / 16 + 64 * 64 / 16 + 64 * 48 / 4 + 48 * 32)
    depth_head = 2 * n * d * cfg.patch ** 2 * 8 + 2 * cfg.image ** 2 * 9 * (8 * 8 + 8)
    compress = 2 * 2 * (n // cfg.compress ** 2) * d * (d // cfg.heads) * cfg.compress ** 2 * cfg.depth
    denoise = embed + cfg.depth * per_block + head
    clean = embed + cfg.depth * per_block + depth_head
    steps = len(cfg.schedule)
    return {"params": sum(p.numel() for p in model.parameters()),
            "gflop_denoise_pass": denoise / 1e9, "gflop_clean_pass": clean / 1e9, "gflop_compress": compress / 1e9,
            "steps": steps, "gflop_per_frame": (steps * denoise + clean + compress) / 1e9}


def source_metadata(path, raw):
    """The export's training_step, weights (raw, ema or blend) and, for a
    blend, what was blended, from its source: a checkpoint (.pt, its EMA
    unless raw), a resume file from pack_resume.py (NAME.safetensors raw,
    NAME.ema.safetensors its EMA) or a blend from blend.py."""
    if path.endswith(".safetensors"):
        meta = read_metadata(path)
        if "step" not in meta:
            raise SystemExit(f"export: {path} is neither a resume file (pack_resume.py) nor a blend (blend.py)")
        out = {"training_step": meta["step"],
               "weights": meta.get("weights", "ema" if path.endswith(".ema.safetensors") else "raw")}
        if "blend" in meta:
            out["blend"] = meta["blend"]
        return out
    return {"training_step": str(torch.load(path)["step"]), "weights": "raw" if raw else "ema"}


# The tiny golden files: name, tiny_model's arguments, kv_bits
TINY_GOLDEN = (("tiny", (), None), ("tiny-gates", (8, 2), None), ("tiny-int8", (8, 2), 8), ("tiny-int4", (8, 2), 4),
               ("tiny-unet", (8, 2, 1), None))


def write_tiny_golden(folder, only=None):
    """Writes the tiny golden files (or the one named only); returns each one's memory slots used."""
    os.makedirs(folder, exist_ok=True)
    return {f"{name}_memory_slots": golden(tiny_model(*shape), 3, os.path.join(folder, name + ".safetensors"), True,
                                           kv_bits=bits)
            for name, shape, bits in TINY_GOLDEN if only in (None, name)}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--checkpoint", help="training checkpoint (.pt), or a resume file from pack_resume.py "
                    "(.safetensors, or its .ema.safetensors); without it only the tiny golden files are written")
    ap.add_argument("--out")
    ap.add_argument("--golden", help="folder for golden vectors")
    ap.add_argument("--golden-frames", type=int, default=7)
    ap.add_argument("--steps", type=int, help="ship only the first N noise levels of the trained schedule "
                    "(the sampler's default steps; the engine can still be asked for fewer)")
    ap.add_argument("--raw", action="store_true",
                    help="export the checkpoint's current weights, not their EMA (after a recipe change the "
                         "EMA lags behind)")
    ap.add_argument("--only", choices=["student"] + [name for name, _, _ in TINY_GOLDEN],
                    help="write only this golden file: with --checkpoint, 'student' (the tiny files are left as "
                         "they are); with --golden alone, one of the tiny ones")
    args = ap.parse_args()
    if not args.checkpoint:
        if not args.golden:
            ap.error("give --checkpoint and --out, or --golden for the tiny golden file alone")
        if args.only == "student":
            ap.error("--only student needs --checkpoint")
        print(json.dumps({"golden": args.golden, **write_tiny_golden(args.golden, args.only)}))
        return
    if not args.out:
        ap.error("--checkpoint needs --out")
    model = load_student(args.checkpoint, raw=args.raw)
    if args.steps:
        if not 1 <= args.steps <= len(model.cfg.schedule):
            ap.error(f"--steps must be 1 to {len(model.cfg.schedule)}")
        model.cfg.schedule = tuple(model.cfg.schedule[: args.steps])
    source = source_metadata(args.checkpoint, args.raw)
    meta = {"config": json.dumps(config_json(model.cfg)), **source}
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    write_safetensors(args.out, {k: v.float() for k, v in model.state_dict().items()}, meta)
    print(json.dumps({"exported": args.out, "step": int(source["training_step"]), **params_and_flops(model)}))
    if args.golden:
        os.makedirs(args.golden, exist_ok=True)
        used = golden(model, args.golden_frames, os.path.join(args.golden, "student.safetensors"), False)
        tiny = write_tiny_golden(args.golden) if args.only is None else {}
        print(json.dumps({"golden": args.golden, "student_memory_slots": used, **tiny}))


if __name__ == "__main__":
    main()
