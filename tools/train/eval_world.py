"""What a person sees over long use, measured on unseen worlds (eval.py's
second half). Every rollout runs batched (batch_session.BatchSession) with
the engine's memory rules and the shipped schedule.

  wander          2,000-frame random walks: per 100-frame segment, mean PSNR
                  and SSIM of the model and of the frozen start frame, and
                  two statistics that a flat field cannot fake: the edge
                  ratio (gradient energy over the truth's; a flat field is
                  near 0) and the colour distance (per-channel mean and
                  spread against the truth's). Beside them, what realistic
                  but unaligned content scores (ssim_unaligned: the true
                  frame 50 frames away, so the same world seen elsewhere),
                  and PSNR only on the pixels the true start frame shows
                  (known_psnr, with known_fraction: the only part of a walk
                  the model was given), beside the start frame warped there
                  with true depth (known_psnr_start_warp: a perfect memory)
  idle_psnr_300   PSNR at frame 300 of a 300-frame stand-still
  return_ssim_*   SSIM at the return frame of a 360-degree turn in place
                  (80 frames) and of a walk out, turn, walk back, turn
                  (128 frames)
  incoming_strip  on a 33-frame right turn, PSNR of only the strip that
                  comes into view (where the warp of the true previous frame
                  has no pixels): one step ahead, along the rollout, and a
                  trivial fill that stretches the last valid column
  realism_c2st    a small CNN told to separate model frames from true frames
                  at the same poses, trained on half the worlds and tested
                  on the rest (0.5: indistinguishable), with its null: the
                  same recipe on true frames of two disjoint sets of worlds
"""
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

import engine_rollout
from batch_session import BatchSession
from camera import basis
from metrics import psnr, sharpness, ssim
from png_io import write_rgb_png
from warp import depths_agree, pixel_rays, warp

SPIN_SCRIPT = "80 turn_right\n"                                            # 80 x 4.5 = 360 degrees
OUT_AND_BACK_SCRIPT = "24 forward\n40 turn_right\n24 forward\n40 turn_right\n"
TURN_SCRIPT = "33 turn_right\n"


def to01(x):
    return (x.clamp(-1, 1) + 1) / 2


def render_script(tool, seed, script, size):
    """The true video of world `seed` along an action script from its
    default start: frames [T, 3, H, W] in [-1, 1], poses [T, 5]."""
    with tempfile.TemporaryDirectory() as tmp:
        sp, rgb, pp = (os.path.join(tmp, n) for n in ("a.txt", "v.rgb", "p.txt"))
        open(sp, "w").write(script)
        subprocess.run([tool, "render", "--seed", str(seed), "--size", str(size), "--actions", sp, "-o", rgb,
                        "--poses", pp, "-q"], check=True)
        raw = np.fromfile(rgb, np.uint8).reshape(-1, size, size, 3)
        rows = [ln.split() for ln in open(pp) if ln.strip() and not ln.lstrip().startswith("#")]
    poses = torch.tensor([[float(v) for v in r[1:6]] for r in rows], dtype=torch.float32)
    frames = torch.from_numpy(raw.copy()).float().permute(0, 3, 1, 2) / 127.5 - 1
    return frames, poses


def random_walks(tool, out, frames, size, world_seed=None, episodes=1, seed=1, depth=False):
    """Random-walk episodes from the dataset writer (one world per episode
    unless world_seed is given): frames uint8 [E, T, 3, H, W], poses, and
    with depth=True the depth [E, T, H, W] as a third."""
    cmd = [tool, "dataset", "--out", out, "--episodes", str(episodes), "--frames", str(frames), "--size", str(size),
           "--seed", str(seed), "-q"] + ([] if depth else ["--no-depth"])
    if world_seed is not None:
        cmd += ["--world-seed", str(world_seed)]
    subprocess.run(cmd, check=True)
    index = json.load(open(os.path.join(out, "index.json")))
    fr, po, de = [], [], []
    for s in index["shards"]:
        d = os.path.join(out, s["dir"])
        fr.append(np.load(os.path.join(d, "frames.npy")))
        po.append(np.load(os.path.join(d, "poses.npy")))
        if depth:
            de.append(np.load(os.path.join(d, "depth.npy")).astype(np.float32))
    fr, po = torch.from_numpy(np.concatenate(fr)).permute(0, 1, 4, 2, 3), torch.from_numpy(np.concatenate(po))
    return (fr, po, torch.from_numpy(np.concatenate(de))) if depth else (fr, po)


def u8_to_unit(x):
    return x.float() / 127.5 - 1


KV_BITS = None   # eval.py --kv-bits: memory slots quantized to this many bits (kv_quant)
ENGINE = None    # eval.py --engine: worldkv-render, which then makes the free-running rollouts (engine_rollout)


def run_batch(model, start, poses, steps, seed, on_frame, truth=None):
    """Rolls B sessions out along poses [B, T, 5]; on_frame(j, frames [B, 3, H, W]) sees every frame
    (frame 0 is the start). With truth [B, T, 3, H, W] the context is teacher-forced."""
    b, t = poses.shape[:2]
    if ENGINE and truth is None:
        frames = engine_rollout.rollouts(model, start, poses, steps, seed, ENGINE, kv_bits=KV_BITS)
        on_frame(0, start)
        for j in range(1, t):
            on_frame(j, u8_to_unit(torch.from_numpy(frames[:, j]).permute(0, 3, 1, 2)))
        return
    s = BatchSession(model, b, seed=seed, steps=steps, kv_bits=KV_BITS)
    s.start(start, poses[:, 0])
    on_frame(0, start)
    for j in range(1, t):
        on_frame(j, s.step(poses[:, j], truth=None if truth is None else truth[:, j]))
        if j % 100 == 0:
            print(f"  frame {j}/{t - 1}", file=sys.stderr, flush=True)


UNALIGNED_OFFSET = 50   # the wander's unaligned baseline: the true frame this many frames away


def start_view_mask(truth, depth, poses, warp_filter):
    """Pixels of each frame that the true start frame shows: the only part
    of a walk the model was given, so the only part it can be held to pixel
    by pixel. The warp (selfforce.knowable_mask) knows only the start
    frame's depth, so far from the start it would count a place behind a
    wall as shown; here the world point each pixel gets from the start frame
    must also lie at the frame's own true depth. Returns (mask [B, T, H, W]
    bool, the squared error [B, T] of the start frame warped there against
    the truth on the mask, in 0..1 units: what a perfect memory of the start
    would score)."""
    b, t, _, h, w = truth.shape
    u, v = pixel_rays(h, w, truth.device)
    f0, r0, u0 = [x[:, None, None, :] for x in basis(poses[:, 0])]
    d0 = depth[:, 0, :, :, None]
    points = poses[:, 0, None, None, :3] + d0 * (f0 + r0 * u[None, ..., None] + u0 * v[None, ..., None])
    start = to01(u8_to_unit(truth[:, 0]))
    out, errs = [], []
    for j in range(0, t, 200):
        n = min(200, t - j)
        rep = lambda x: x[:, None].expand(b, n, *x.shape[1:]).reshape(b * n, *x.shape[1:])  # noqa: E731
        psrc, pdst = rep(poses[:, 0]), poses[:, j:j + n].reshape(b * n, 5)
        seen, valid = warp(rep(points.permute(0, 3, 1, 2)), rep(depth[:, 0]), psrc, pdst, "bilinear")  # no overshoot
        colour, _ = warp(rep(start), rep(depth[:, 0]), psrc, pdst, warp_filter)
        z = ((seen - pdst[:, :3, None, None]) * basis(pdst)[0][:, :, None, None]).sum(1)
        dd = depth[:, j:j + n].reshape(b * n, h, w)
        ok = (valid[:, 0] > 0.5) & depths_agree(z, dd)
        true01 = to01(u8_to_unit(truth[:, j:j + n].reshape(b * n, 3, h, w)))
        errs.append((((colour.clamp(0, 1) - true01) ** 2) * ok[:, None]).sum((1, 2, 3)).reshape(b, n))
        out.append(ok.reshape(b, n, h, w))
    return torch.cat(out, 1), torch.cat(errs, 1)


ONSET_EVERY, ONSET_FRAMES = 6, 120   # the onset picture: where new content first turns to mush


def wander(model, tool, seeds, frames, steps, walk_png=None, onset_png=None):
    size = model.cfg.image
    truth, poses, depth = [], [], []
    with tempfile.TemporaryDirectory() as tmp:
        for s in seeds:
            f, p, d = random_walks(tool, os.path.join(tmp, str(s)), frames + 1, size, world_seed=s, seed=s,
                                   depth=True)
            truth.append(f[0])
            poses.append(p[0])
            depth.append(d[0])
    truth, poses, depth = torch.stack(truth), torch.stack(poses), torch.stack(depth)
    known, warp_err = start_view_mask(truth, depth, poses, model.cfg.warp_filter)
    b = len(seeds)
    seg = {k: [[] for _ in range(b)] for k in ("psnr", "ssim", "psnr_frozen", "ssim_frozen", "ssim_unaligned",
                                                "edge_ratio", "colour_l1", "colour_l1_frozen", "known_fraction")}
    known_err = [[] for _ in range(b)]   # per frame: (squared error sum, pixels) on the start view's pixels
    warp_known = [[] for _ in range(b)]  # the same for the true start frame warped there
    start01 = to01(u8_to_unit(truth[:, 0]))
    picks, onset = [], []

    def on_frame(j, gen):
        if j == 0:
            return
        g01 = to01(gen)
        other = j + UNALIGNED_OFFSET if j + UNALIGNED_OFFSET <= frames else j - UNALIGNED_OFFSET
        for e in range(b):
            t01 = to01(u8_to_unit(truth[e, j]))
            seg["psnr"][e].append(psnr(g01[e], t01))
            seg["ssim"][e].append(ssim(g01[e], t01))
            seg["psnr_frozen"][e].append(psnr(start01[e], t01))
            seg["ssim_frozen"][e].append(ssim(start01[e], t01))
            seg["ssim_unaligned"][e].append(ssim(to01(u8_to_unit(truth[e, other])), t01))
            seg["edge_ratio"][e].append(sharpness(g01[e], t01))
            seg["colour_l1"][e].append(colour_l1(g01[e], t01))
            seg["colour_l1_frozen"][e].append(colour_l1(start01[e], t01))
            m = known[e, j].float()
            seg["known_fraction"][e].append(float(m.mean()))
            known_err[e].append((float((((g01[e] - t01) ** 2) * m).sum()), 3 * float(m.sum())))
            warp_known[e].append((float(warp_err[e, j]), 3 * float(m.sum())))
        if j % 100 == 0:
            picks.append((j, g01[0].clone()))
        if j % ONSET_EVERY == 0 and j <= ONSET_FRAMES:
            onset.append((j, g01[0].clone()))

    def known_psnr(errs):
        err, n = sum(x for x, _ in errs), sum(y for _, y in errs)
        return None if n == 0 else (99.0 if err == 0 else float(10 * np.log10(n / err)))

    run_batch(model, u8_to_unit(truth[:, 0]), poses, steps, 7, on_frame)
    worlds = []
    for e, s in enumerate(seeds):
        per = {k: [float(np.mean(v[e][i:i + 100])) for i in range(0, frames, 100)] for k, v in seg.items()}
        per["known_psnr"] = [known_psnr(known_err[e][i:i + 100]) for i in range(0, frames, 100)]
        per["known_psnr_start_warp"] = [known_psnr(warp_known[e][i:i + 100]) for i in range(0, frames, 100)]
        worlds.append({
            "seed": s,
            "segments": [{"frames": f"{i + 1}-{min(i + 100, frames)}", **{k: per[k][n] for k in per}}
                         for n, i in enumerate(range(0, frames, 100))],
            "mean_ssim_100_on": float(np.mean(seg["ssim"][e][99:])),
            "mean_ssim_100_on_frozen": float(np.mean(seg["ssim_frozen"][e][99:])),
            "mean_psnr_100_on": float(np.mean(seg["psnr"][e][99:])),
            "mean_psnr_100_on_frozen": float(np.mean(seg["psnr_frozen"][e][99:])),
            "min_segment_ssim": min(per["ssim"]),
            "mean_ssim_100_on_unaligned": float(np.mean(seg["ssim_unaligned"][e][99:])),
            "min_segment_ssim_unaligned": min(per["ssim_unaligned"]),
            "known_psnr_100_on": known_psnr(known_err[e][99:]),
            "known_psnr_100_on_start_warp": known_psnr(warp_known[e][99:]),
            "known_fraction_100_on": float(np.mean(seg["known_fraction"][e][99:])),
            "flat_segments": sum(r < FLAT_EDGE_RATIO for r in per["edge_ratio"]),
            "mean_colour_l1_100_on": float(np.mean(seg["colour_l1"][e][99:])),
            "mean_colour_l1_100_on_frozen": float(np.mean(seg["colour_l1_frozen"][e][99:])),
        })
    for path, cols in ((walk_png, picks), (onset_png, onset)):
        if path:
            cols = [(0, start01[0])] + cols
            top = torch.cat([to01(u8_to_unit(truth[0, j])) for j, _ in cols], 2)
            bottom = torch.cat([g for _, g in cols], 2)
            write_png(path, torch.cat([top, bottom], 1))
    return {"frames": frames, "worlds": worlds}


FLAT_EDGE_RATIO = 0.5   # a segment with under half the truth's gradient energy is a flat field, not the world


def colour_l1(a, b):
    """Mean absolute difference of the per-channel means and standard
    deviations of two [3, H, W] frames in [0, 1]: a green field against a
    pink-and-red corridor is far; a frame with the scene's colours is near."""
    fa, fb = a.reshape(3, -1), b.reshape(3, -1)
    return float((fa.mean(1) - fb.mean(1)).abs().mean() + (fa.std(1) - fb.std(1)).abs().mean())


def write_png(path, img01):
    write_rgb_png(path, (img01.clamp(0, 1).permute(1, 2, 0).numpy() * 255 + 0.5).astype(np.uint8), scale=2)


def scripted(model, tool, seeds, script, steps):
    """Rolls the model along a script in every world: (truth, generated),
    each [B, T, 3, H, W] in [-1, 1], and poses."""
    size = model.cfg.image
    runs = [render_script(tool, s, script, size) for s in seeds]
    truth = torch.stack([r[0] for r in runs])
    poses = torch.stack([r[1] for r in runs])
    gen = []
    run_batch(model, truth[:, 0], poses, steps, 11, lambda j, g: gen.append(g.clone()))
    return truth, torch.stack(gen, 1), poses


def idle_and_returns(model, tool, seeds, steps):
    truth, gen, _ = scripted(model, tool, seeds, "300 noop\n", steps)
    idle = [psnr(to01(gen[e, 300]), to01(truth[e, 300])) for e in range(len(seeds))]
    out = {"idle_psnr_300": float(np.mean(idle)), "idle_psnr_300_per_world": idle,
           "idle_psnr_1": float(np.mean([psnr(to01(gen[e, 1]), to01(truth[e, 1])) for e in range(len(seeds))]))}
    for name, script in (("spin", SPIN_SCRIPT), ("out_and_back", OUT_AND_BACK_SCRIPT)):
        truth, gen, _ = scripted(model, tool, seeds, script, steps)
        last = truth.shape[1] - 1
        s = [ssim(to01(gen[e, last]), to01(truth[e, last])) for e in range(len(seeds))]
        p = [psnr(to01(gen[e, last]), to01(truth[e, last])) for e in range(len(seeds))]
        out[f"return_ssim_{name}"] = float(np.mean(s))
        out[f"return_ssim_{name}_per_world"] = s
        out[f"return_psnr_{name}"] = float(np.mean(p))
        out[f"return_frame_{name}"] = last
    return out


def masked_psnr(a, b, m):
    """PSNR over the pixels where m [H, W] is set (None when none)."""
    n = float(m.sum())
    if n == 0:
        return None
    mse = float((((a - b) ** 2) * m).sum() / (3 * n))
    return 99.0 if mse == 0 else float(10 * np.log10(1.0 / mse))


def stretch_fill(img, mask):
    """Fills each row's invalid pixels with the nearest valid pixel of that
    row (the last valid column stretched): the trivial outpainting."""
    out = img.clone()
    h, w = mask.shape
    for y in range(h):
        valid = torch.nonzero(mask[y] > 0.5)[:, 0]
        if len(valid) == 0:
            continue
        for x in torch.nonzero(mask[y] <= 0.5)[:, 0].tolist():
            nearest = valid[torch.argmin((valid - x).abs())]
            out[:, y, x] = img[:, y, nearest]
    return out


def incoming_strip(model, tool, seeds, steps):
    """The strip a right turn brings into view, scored three ways."""
    size = model.cfg.image
    runs = [render_script(tool, s, TURN_SCRIPT, size) for s in seeds]
    truth = torch.stack([r[0] for r in runs])
    poses = torch.stack([r[1] for r in runs])
    b, t = poses.shape[:2]
    onestep, roll = [], []
    run_batch(model, truth[:, 0], poses, steps, 13, lambda j, g: onestep.append(g.clone()), truth=truth)
    run_batch(model, truth[:, 0], poses, steps, 13, lambda j, g: roll.append(g.clone()))
    # a pure rotation warps the same whatever the depth: constant depth gives the exact strip
    flat = torch.full((b, size, size), 10.0)
    rows = {"onestep": [], "rollout": [], "stretch_fill": []}
    for j in range(1, t):
        wp, mp = warp(truth[:, j - 1], flat, poses[:, j - 1], poses[:, j], model.cfg.warp_filter)
        for e in range(b):
            strip = (mp[e, 0] < 0.5).float()
            tj = to01(truth[e, j])
            for name, img in (("onestep", onestep[j][e]), ("rollout", roll[j][e]),
                              ("stretch_fill", stretch_fill(wp[e], mp[e, 0]))):
                v = masked_psnr(to01(img), tj, strip)
                if v is not None:
                    rows[name].append((j, v))
    res = {}
    for name, vals in rows.items():
        res[f"{name}_psnr"] = float(np.mean([v for _, v in vals])) if vals else None
        res[f"{name}_psnr_by_frame"] = [round(float(np.mean([v for jj, v in vals if jj == j])), 2)
                                        for j in range(1, t) if any(jj == j for jj, _ in vals)]
    res["turn_frames"] = t - 1
    return res


class _C2stNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.convs = nn.ModuleList([nn.Conv2d(3, 16, 3, 2, 1), nn.Conv2d(16, 32, 3, 2, 1),
                                    nn.Conv2d(32, 64, 3, 2, 1), nn.Conv2d(64, 64, 3, 2, 1)])
        self.out = nn.Linear(64, 1)

    def forward(self, x):
        for c in self.convs:
            x = F.relu(c(x))
        return self.out(x.mean((-1, -2)))[:, 0]


def c2st_accuracy(a_train, b_train, a_test, b_test, epochs=6, seed=0):
    """Accuracy of a 4-layer CNN trained to tell set a from set b (uint8
    [N, 3, H, W] each), on held-out frames."""
    torch.manual_seed(seed)
    net = _C2stNet()
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    x = torch.cat([a_train, b_train])
    y = torch.cat([torch.zeros(len(a_train)), torch.ones(len(b_train))])
    g = torch.Generator().manual_seed(seed)
    for _ in range(epochs):
        order = torch.randperm(len(x), generator=g)
        for i in range(0, len(x), 64):
            idx = order[i:i + 64]
            loss = F.binary_cross_entropy_with_logits(net(u8_to_unit(x[idx])), y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
    with torch.no_grad():
        xt = torch.cat([a_test, b_test])
        yt = torch.cat([torch.zeros(len(a_test)), torch.ones(len(b_test))])
        pred = torch.cat([net(u8_to_unit(xt[i:i + 256])) for i in range(0, len(xt), 256)]) > 0
    return float((pred.float() == yt).float().mean())


def realism_c2st(model, tool, worlds, steps, frames=300, first=50, stride=5, seed_a=9100, seed_b=9200):
    """Model vs truth at the same poses in `worlds` worlds, split by world;
    and the null: truth of those worlds vs truth of `worlds` others."""
    size = model.cfg.image
    with tempfile.TemporaryDirectory() as tmp:
        truth, poses = random_walks(tool, os.path.join(tmp, "a"), frames + 1, size, episodes=worlds, seed=seed_a)
        other, _ = random_walks(tool, os.path.join(tmp, "b"), frames + 1, size, episodes=worlds, seed=seed_b)
    keep = list(range(first, frames + 1, stride))
    gen = torch.zeros(worlds, len(keep), 3, size, size, dtype=torch.uint8)

    def on_frame(j, g):
        if j in keep:
            gen[:, keep.index(j)] = (to01(g) * 255 + 0.5).to(torch.uint8)

    run_batch(model, u8_to_unit(truth[:, 0]), poses, steps, 17, on_frame)
    tk, ok = truth[:, keep], other[:, keep]
    half = worlds // 2

    def flat(x):
        return x.reshape(-1, *x.shape[2:])
    acc = c2st_accuracy(flat(gen[:half]), flat(tk[:half]), flat(gen[half:]), flat(tk[half:]))
    null = c2st_accuracy(flat(ok[:half]), flat(tk[:half]), flat(ok[half:]), flat(tk[half:]))
    return {"realism_c2st": acc, "realism_c2st_null": null, "worlds": worlds, "frames": f"{first}-{frames}",
            "stride": stride, "frames_per_class": int(len(keep) * worlds)}
