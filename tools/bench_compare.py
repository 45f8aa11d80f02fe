#!/usr/bin/python3
"""Side-by-side speed of the same model on the PyTorch reference, the CPU
backend and the Vulkan backend, in one run, alternating rounds.

  /usr/bin/python3 tools/bench_compare.py [--frames 300] [--rounds 2] [--json]

Every contender generates the same frames: the shipped model (or --model),
the same synthetic start image and the same walk-and-turn action every
frame as `worldkv-bench generate` (forward 0.6, turn 0.4), the first frame
left out of the timing. PyTorch runs tools/train/infer.py's Session, the
reference sampler behind sample.py, on --threads threads; the engine runs
`worldkv-bench generate --backend B --json` (readback included). Rounds
alternate the contenders so that drift in the machine's state hits all of
them alike. A load average above 0.5 before the run means something else is
running: the figures are then printed with a warning. Busy means the CPUs
were less than 90% idle over one second before the run (/proc/stat); the
load average lags a paused job by minutes, so it is printed, not used.
"""
import argparse
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
WALK = [0.6, 0.0, 0.4, 0.0, 0.0]


def idle_fraction(seconds=1.0):
    """Share of CPU time spent idle across all CPUs over `seconds`."""
    def snap():
        with open("/proc/stat") as f:
            v = [int(x) for x in f.readline().split()[1:]]
        return v[3] + v[4], sum(v)
    i0, t0 = snap()
    time.sleep(seconds)
    i1, t1 = snap()
    return (i1 - i0) / max(1, t1 - t0)


def torch_worker(model_path, frames, threads, slots):
    """ms per frame of the PyTorch reference (runs in its own process)."""
    sys.path.insert(0, os.path.join(HERE, "train"))
    import torch
    from actions import step
    from checkpoint import load_student
    from infer import Session
    torch.set_num_threads(threads)
    model = load_student(model_path)
    size = model.cfg.image
    # worldkv-bench's start: rows of grey ramping every 64 bytes of RGB8
    flat = torch.arange(size * size * 3)
    rgb = (96 + (flat // 3 // 64) % 64).float().reshape(size, size, 3)
    start = rgb.permute(2, 0, 1) / 127.5 - 1
    pose = [0.0, 1.6, 0.0, 0.0, 0.0]
    s = Session(model, memory_slots=slots, seed=0)
    s.start(start, torch.tensor(pose))
    t0 = None
    for i in range(frames):
        pose = step(pose, WALK)
        s.step(torch.tensor(pose, dtype=torch.float32))
        if i == 0:
            t0 = time.perf_counter()
    return 1000.0 * (time.perf_counter() - t0) / max(1, frames - 1)


def engine(bench, model, backend, frames):
    out = subprocess.run([bench, "generate", "--model", model, "--backend", backend, "--frames", str(frames), "--json"],
                         capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(f"{backend}: {out.stderr.strip() or out.stdout.strip()}")
    rec = [json.loads(line) for line in out.stdout.splitlines() if '"op":"generate"' in line.replace(" ", "")][-1]
    return rec["ms"], rec["device"]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default=os.path.join(ROOT, "assets", "models", "student.safetensors"))
    ap.add_argument("--frames", type=int, default=300)
    ap.add_argument("--torch-frames", type=int, default=None, help="frames for PyTorch (default: --frames)")
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 1, help="PyTorch threads")
    ap.add_argument("--torch-slots", type=int, default=32,
                    help="PyTorch's memory bank (default 32, as the engine; sample.py's default is 16)")
    ap.add_argument("--backends", default="cpu,vulkan", help="engine backends, comma separated")
    ap.add_argument("--bench", default=os.path.join(ROOT, "build", "apps", "worldkv-bench"))
    ap.add_argument("--json", action="store_true", help="one JSON object at the end")
    ap.add_argument("--torch-worker", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.torch_worker:
        print(json.dumps({"ms": torch_worker(args.model, args.frames, args.threads, args.torch_slots)}))
        return 0
    if not os.path.exists(args.bench):
        sys.exit(f"bench_compare: {args.bench} is missing: build first (tools/build.sh)")
    load = os.getloadavg()[0]
    idle = idle_fraction()
    busy = idle < 0.9
    if busy:
        print(f"bench_compare: warning: the CPUs were only {100 * idle:.0f}% idle before the run: something else "
              "is running, so these figures are not a fair comparison", file=sys.stderr)
    results = {"pytorch": [], **{b: [] for b in args.backends.split(",") if b}}
    devices = {"pytorch": f"PyTorch {args.threads} threads, {args.torch_slots} memory slots"}
    tf = args.torch_frames or args.frames
    for r in range(args.rounds):
        for name in results:
            if name == "pytorch":
                out = subprocess.run([sys.executable, __file__, "--torch-worker", "--model", args.model, "--frames",
                                      str(tf), "--threads", str(args.threads), "--torch-slots", str(args.torch_slots)],
                                     capture_output=True, text=True)
                if out.returncode != 0:
                    sys.exit(f"bench_compare: pytorch: {out.stderr.strip()}")
                ms = json.loads(out.stdout.strip().splitlines()[-1])["ms"]
            else:
                try:
                    ms, devices[name] = engine(args.bench, args.model, name, args.frames)
                except RuntimeError as e:
                    print(f"bench_compare: {e}; skipped", file=sys.stderr)
                    continue
            results[name].append(ms)
            print(f"round {r + 1}: {name:8s} {ms:8.2f} ms/frame  {1000 / ms:7.2f} frames/s", file=sys.stderr,
                  flush=True)
    torch_ms = min(results["pytorch"]) if results["pytorch"] else None
    rows = []
    for name, v in results.items():
        if not v:
            continue
        best = min(v)
        rows.append({"name": name, "device": devices.get(name, ""), "ms_per_frame": v, "best_ms": best,
                     "fps": 1000 / best, "x_pytorch": torch_ms / best if torch_ms else None})
    report = {"model": os.path.basename(args.model), "frames": args.frames, "torch_frames": tf,
              "rounds": args.rounds, "load_before": load, "idle_before": idle, "busy": busy, "results": rows}
    if args.json:
        print(json.dumps(report))
    else:
        print(f"{'contender':10s} {'ms/frame (rounds)':28s} {'frames/s':>9s} {'x PyTorch':>9s}  device")
        for row in rows:
            runs = ", ".join(f"{m:.2f}" for m in row["ms_per_frame"])
            x = f"{row['x_pytorch']:.2f}" if row["x_pytorch"] else "-"
            print(f"{row['name']:10s} {runs:28s} {row['fps']:9.2f} {x:>9s}  {row['device']}")
        if busy:
            print(f"warning: the CPUs were {100 * idle:.0f}% idle before the run; not a quiet machine")
    return 0


if __name__ == "__main__":
    sys.exit(main())
