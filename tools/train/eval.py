"""Scores a student on worlds it has never seen, against the ground truth.

  /usr/bin/python3 tools/train/eval.py --model assets/models/student.safetensors \\
      --seeds 9001,9002,9003,9004 [--episodes-per-seed 4] [--strip docs/model-strip.png]

For each world seed it renders episodes of 65 frames with worldkv-world,
then measures, on [0, 1] RGB:
  onestep_*   one step ahead (true frames as context), PSNR of the model and
              of "repeat the last frame", on frames where the camera moves
  rollout     64 frames generated from the start frame along the true poses:
              PSNR, PSNR of repeating the start frame, SSIM and sharpness
              (gradient energy over the truth's) at frames 1, 16, 32, 64
  revisit_*   PSNR at a frame that returns to a view left more than W + 8
              frames earlier, with the memory bank on and off
and, with eval_world.py (--world, on by default), what a person sees over
long use: wander, idle_psnr_300, return_ssim_spin, return_ssim_out_and_back,
incoming_strip and realism_c2st (see that file). Prints one JSON object.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from checkpoint import load_student  # noqa: E402
from data import Dataset  # noqa: E402
from infer import Session  # noqa: E402
from metrics import psnr, sharpness, ssim  # noqa: E402
from png_io import write_rgb_png  # noqa: E402

ROLLOUT_FRAMES = (1, 16, 32, 64)
KV_BITS = None  # --kv-bits
HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_TOOL = os.path.join(HERE, "..", "..", "build", "tools", "world", "worldkv-world")
DEFAULT_RENDER = os.path.join(HERE, "..", "..", "build", "apps", "worldkv-render")


def to01(x):
    return (x.clamp(-1, 1) + 1) / 2


def load_episode(ds, e):
    f, d, p, a = ds.clip(e, 0, ds.frames)
    x = torch.from_numpy(f).float().permute(0, 3, 1, 2) / 127.5 - 1
    return x, torch.from_numpy(p), a


def rollout(model, x, poses, memory, steps, seed):
    s = Session(model, memory=memory, seed=seed, steps=steps, kv_bits=KV_BITS)
    s.start(x[0], poses[0])
    return [x[0]] + [s.step(poses[j]) for j in range(1, len(poses))]


def render_episodes(tool, out, seed, episodes, size):
    """The eval's episodes of one world seed (65 frames each), as a Dataset."""
    subprocess.run([tool, "dataset", "--out", out, "--episodes", str(episodes), "--frames",
                    str(max(ROLLOUT_FRAMES) + 1), "--size", str(size), "--world-seed", str(seed), "--seed", str(seed),
                    "-q"], check=True)
    return Dataset(out)


def onestep(model, x, poses, actions, seed, steps):
    """One step ahead, teacher forced: PSNR of the model and of repeating
    the last frame, on the frames where the camera moves."""
    s = Session(model, seed=seed, steps=steps, kv_bits=KV_BITS)
    s.start(x[0], poses[0])
    m, c = [], []
    for j in range(1, len(poses)):
        g = s.step(poses[j], truth=x[j])
        if np.abs(actions[j, :4]).sum() > 0:
            m.append(psnr(to01(g), to01(x[j])))
            c.append(psnr(to01(x[j - 1]), to01(x[j])))
    return m, c


def evaluate(args):
    torch.set_num_threads(args.threads)
    model = load_student(args.model)
    cfg = model.cfg
    seeds = [int(s) for s in args.seeds.split(",") if s]
    onestep_m, onestep_c = [], []
    roll = {f: {"psnr": [], "psnr_copy": [], "ssim": [], "sharpness": []} for f in ROLLOUT_FRAMES}
    rev_on, rev_off, strip = [], [], None
    with tempfile.TemporaryDirectory() as tmp:
        for seed in (seeds if args.classic else []):
            out = os.path.join(tmp, str(seed))
            ds = render_episodes(args.world_tool, out, seed, args.episodes_per_seed, cfg.image)
            revisit = np.load(os.path.join(out, "shard-00000", "revisit.npy"))
            for e in range(ds.episodes):
                x, poses, actions = load_episode(ds, e)
                m, c = onestep(model, x, poses, actions, seed * 100 + e, args.steps)
                onestep_m += m
                onestep_c += c
                gen = rollout(model, x, poses, True, args.steps, seed * 100 + e)
                for f in ROLLOUT_FRAMES:
                    roll[f]["psnr"].append(psnr(to01(gen[f]), to01(x[f])))
                    roll[f]["psnr_copy"].append(psnr(to01(x[0]), to01(x[f])))
                    roll[f]["ssim"].append(ssim(to01(gen[f]), to01(x[f])))
                    roll[f]["sharpness"].append(sharpness(to01(gen[f]), to01(x[f])))
                far = [j for j in range(1, len(poses)) if revisit[e, j] >= 0 and j - revisit[e, j] > cfg.window + 8]
                if far:
                    j = far[-1]
                    off = rollout(model, x[: j + 1], poses[: j + 1], False, args.steps, seed * 100 + e)
                    rev_on.append(psnr(to01(gen[j]), to01(x[j])))
                    rev_off.append(psnr(to01(off[j]), to01(x[j])))
                    if strip is None:
                        strip = (x, gen, j)
                print(f"seed {seed} episode {e}: rollout psnr@64 {roll[64]['psnr'][-1]:.2f} "
                      f"(copy {roll[64]['psnr_copy'][-1]:.2f}), sharpness {roll[64]['sharpness'][-1]:.2f}",
                      file=sys.stderr, flush=True)
    mean = lambda v: float(np.mean(v)) if v else None  # noqa: E731
    result = {
        "model": os.path.basename(args.model),
        "seeds": seeds,
        "episodes": len(seeds) * args.episodes_per_seed,
        "steps": args.steps or len(cfg.schedule),
        "kv_bits": KV_BITS,
        "long_use_rollouts": "engine" if args.engine else "pytorch",
        "onestep_psnr_model": mean(onestep_m),
        "onestep_psnr_copy": mean(onestep_c),
        "onestep_frames": len(onestep_m),
        "rollout": {str(f): {k: mean(v) for k, v in roll[f].items()} for f in ROLLOUT_FRAMES},
        "revisit_psnr_memory_on": mean(rev_on),
        "revisit_psnr_memory_off": mean(rev_off),
        "revisit_episodes": len(rev_on),
    }
    if args.strip and strip:
        write_strip(args.strip, *strip)
    if args.world:
        result.update(world_measures(model, args, seeds))
    return result


def world_measures(model, args, seeds):
    import eval_world as ew
    ew.KV_BITS = KV_BITS
    ew.ENGINE = args.engine
    out = {}
    want = lambda name: args.only in (None, name)  # noqa: E731
    if want("idle"):
        print("eval: idle and returns", file=sys.stderr, flush=True)
        out.update(ew.idle_and_returns(model, args.world_tool, seeds, args.steps))
    if want("strip"):
        print("eval: incoming strip", file=sys.stderr, flush=True)
        out["incoming_strip"] = ew.incoming_strip(model, args.world_tool, seeds, args.steps)
    if want("wander"):
        print(f"eval: wander ({args.wander_frames} frames)", file=sys.stderr, flush=True)
        out["wander"] = ew.wander(model, args.world_tool, seeds, args.wander_frames, args.steps, args.walk_png,
                                  args.onset_png)
    if want("c2st"):
        print(f"eval: realism c2st ({args.c2st_worlds} worlds)", file=sys.stderr, flush=True)
        out.update(ew.realism_c2st(model, args.world_tool, args.c2st_worlds, args.steps, frames=args.c2st_frames,
                                   stride=args.c2st_stride))
    return out


def write_strip(path, truth, gen, revisit_frame):
    """Truth over generated, 16 frames of the rollout, the revisit included."""
    frames = sorted(set(np.linspace(1, len(gen) - 1, 15).astype(int).tolist() + [revisit_frame]))[:16]
    top = torch.cat([to01(truth[j]) for j in frames], 2)
    bottom = torch.cat([to01(gen[j]) for j in frames], 2)
    write_rgb_png(path, (torch.cat([top, bottom], 1).permute(1, 2, 0).numpy() * 255 + 0.5).astype(np.uint8), scale=2)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", required=True, help="checkpoint .pt or exported .safetensors")
    ap.add_argument("--seeds", default="9001,9002,9003,9004", help="world seeds, comma separated")
    ap.add_argument("--episodes-per-seed", type=int, default=4,
                    help="episodes rendered per world (about half of them revisit a view, so 4 seeds x 4 give "
                         "about 8 revisit figures)")
    ap.add_argument("--steps", type=int, default=None, help="sampling steps (default: the config's schedule)")
    ap.add_argument("--kv-bits", type=int, choices=(2, 4, 8), help="quantize the memory slots' K and V to this many "
                    "bits, one scale per channel (kv_quant.py; default: float, as the engine runs)")
    ap.add_argument("--world-tool", default=DEFAULT_TOOL)
    ap.add_argument("--engine", nargs="?", const=DEFAULT_RENDER, metavar="WORLDKV_RENDER",
                    help="make the long-use measures' free-running rollouts on the C engine's CPU backend "
                         "(engine_rollout.py; about 6 times faster here; the one-step, rollout and revisit "
                         f"measures stay on PyTorch); default tool {DEFAULT_RENDER}")
    ap.add_argument("--out", help="also write the JSON here")
    ap.add_argument("--strip", help="write a truth-over-generated PNG strip here")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--no-world", dest="world", action="store_false",
                    help="skip the long-use measures (wander, idle, returns, strip, c2st)")
    ap.add_argument("--no-classic", dest="classic", action="store_false",
                    help="skip the one-step, 64-frame rollout and revisit measures")
    ap.add_argument("--only", choices=("idle", "strip", "wander", "c2st"),
                    help="of the long-use measures, run only this one (with --no-classic: it alone)")
    ap.add_argument("--wander-frames", type=int, default=2000)
    ap.add_argument("--walk-png", help="write truth over model every 100 frames of the first wander walk here")
    ap.add_argument("--onset-png", help="and every 6 frames of its first 120 here (where new content turns to mush)")
    ap.add_argument("--c2st-worlds", type=int, default=40)
    ap.add_argument("--c2st-frames", type=int, default=300)
    ap.add_argument("--c2st-stride", type=int, default=5, help="score every Nth frame of frames 50..c2st-frames")
    args = ap.parse_args()
    global KV_BITS
    KV_BITS = args.kv_bits
    if args.engine and args.kv_bits == 2:
        ap.error("the engine's memory slots are 32, 8 or 4 bits: --kv-bits 2 needs PyTorch (no --engine)")
    result = evaluate(args)
    text = json.dumps(result, indent=1)
    print(text)
    if args.out:
        with open(args.out, "w") as f:
            f.write(text + "\n")


if __name__ == "__main__":
    main()
