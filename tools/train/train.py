"""Trains the worldkv student on a worldkv-world dataset, resumably.

  /usr/bin/python3 tools/train/train.py --data data/world64 --run runs/student

Every --save-every steps it writes RUN/checkpoint.pt (model, EMA, optimiser,
step, RNG) atomically; started again with the same --run it resumes there.
Progress goes to RUN/log.jsonl, one JSON object per logged step (and one
for a discriminator warm-up, --disc-warmup).
"""
import argparse
import json
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from data import Dataset  # noqa: E402
from model import (GATE_BIAS_INIT, LOG_DEPTH_MAX, LOG_DEPTH_MIN, Config, HeadUNet, Student, forward_clip,  # noqa: E402
                   rescale_gates)
from retrieval import retrieve  # noqa: E402
from selfforce import (PatchDiscriminator, clip_indices, grow_disc_input, knowable_mask, rollout,  # noqa: E402
                       triples)
from disc_bank import TripleBank, disc_accuracy  # noqa: E402
from warp import warp  # noqa: E402


def to_unit(frames_u8):
    return torch.from_numpy(frames_u8).float().permute(0, 1, 4, 2, 3) / 127.5 - 1.0


def make_batch(cfg, frames, depth, poses, gen, ctx_noise=0.1, depth_jitter=0.03, own=None, mem_own=None,
               prev_dropout=0.0, prev_degrade=0.0, near_memory=0.0):
    """Builds both streams' inputs for clips [B, T]. Context frames get a
    little added noise (the engine feeds back its own imperfect frames), and
    the warps use ground-truth depth jittered by a per-frame scale. With
    own = (frames [B, T, 3, H, W], depth [B, T, H, W]) from the model itself,
    those become the context (frame 0 stays the true start frame) and drive
    the warps, as they do when the engine runs; the targets stay the truth."""
    x = to_unit(frames)                                      # [B, T, 3, H, W]
    d = torch.from_numpy(depth)
    p = torch.from_numpy(poses)
    b, t = x.shape[:2]
    t_ctx = torch.rand(b, t, generator=gen) * ctx_noise
    base = x
    if own is not None:
        base = torch.cat([x[:, :1], own[0][:, 1:].clamp(-1, 1)], 1)
        t_ctx = torch.zeros(b, t)
    # noise is added, not mixed in: shrinking the context toward grey taught
    # the model to expand contrast (gain 1.024 a frame), which compounds in
    # rollouts into a darkening drift
    x_ctx = base + t_ctx[..., None, None, None] * torch.randn(x.shape, generator=gen)
    d_jit = own[1] if own is not None else d * torch.exp(depth_jitter * torch.randn(b, t, 1, 1, generator=gen))

    prev = torch.zeros(b, t, 4, cfg.image, cfg.image)
    src = x_ctx[:, :-1].reshape(-1, 3, cfg.image, cfg.image)
    wp, mp = warp(src, d_jit[:, :-1].reshape(-1, cfg.image, cfg.image), p[:, :-1].reshape(-1, 5),
                  p[:, 1:].reshape(-1, 5), cfg.warp_filter)
    prev[:, 1:] = torch.cat([wp, mp], 1).reshape(b, t - 1, 4, cfg.image, cfg.image)
    if prev_dropout > 0:
        prev = prev * (torch.rand(b, t, 1, 1, 1, generator=gen) >= prev_dropout).float()

    mem_idx, best = retrieve(p, cfg.window, cfg.memory_k)
    if prev_degrade > 0:
        # every frame alike, memory or not: degrading only where a memory
        # frame exists taught "memory present -> correct the previous frame",
        # a bias that hurt memory-on rollouts (measured at step 3300)
        pick = torch.rand(b, t, generator=gen) < prev_degrade
        pick[:, 0] = False
        if pick.any():
            prev[pick] = degrade(prev[pick], gen)
    mem = torch.zeros(b, t, 4, cfg.image, cfg.image)
    has = best >= 0
    if has.any():
        bi, ji = torch.nonzero(has, as_tuple=True)
        ii = best[bi, ji]
        if mem_own == "truth":
            m_rgb, m_dep = x, d
        elif mem_own is None:
            m_rgb, m_dep = x_ctx, d_jit
        else:
            m_rgb, m_dep = torch.cat([x[:, :1], mem_own[0][:, 1:].clamp(-1, 1)], 1), mem_own[1]
        wm, mm = warp(m_rgb[bi, ii], m_dep[bi, ii], p[bi, ii], p[bi, ji], cfg.warp_filter)
        mem[bi, ji] = torch.cat([wm, mm], 1)
    if near_memory > 0 and own is not None:
        # a revisit in miniature: the memory warp reads the true frame 1 to 3
        # frames back, aligned with the current view and sharper than the
        # own-frame chain beside it; clips rarely return to a view, so
        # without this the memory warp is nearly always the worse source
        near = has & (torch.rand(b, t, generator=gen) < near_memory)
        near[:, :2] = False
        if near.any():
            bi, ji = torch.nonzero(near, as_tuple=True)
            ii = (ji - torch.randint(1, 4, ji.shape, generator=gen)).clamp(min=1)
            wm, mm = warp(x[bi, ii], d[bi, ii], p[bi, ii], p[bi, ji], cfg.warp_filter)
            mem[bi, ji] = torch.cat([wm, mm], 1)

    # noise levels: mostly the sampler's own, some uniform
    sched = torch.tensor(cfg.schedule)
    t_noisy = sched[torch.randint(len(sched), (b, t), generator=gen)]
    uniform = torch.rand(b, t, generator=gen) < 0.3
    t_noisy = torch.where(uniform, torch.rand(b, t, generator=gen), t_noisy)
    eps = torch.randn(x.shape, generator=gen)
    x_t = (1 - t_noisy[..., None, None, None]) * x + t_noisy[..., None, None, None] * eps

    clean_in = torch.cat([x_ctx, prev, mem], 2)
    noisy_in = torch.cat([x_t, prev, mem], 2)
    prev_pose = torch.cat([p[:, :1], p[:, :-1]], 1)
    motion = Student.motion_features(prev_pose, p)
    log_depth = torch.clamp(torch.log(torch.clamp(d, min=1e-3)), LOG_DEPTH_MIN, LOG_DEPTH_MAX)
    return dict(clean_in=clean_in, noisy_in=noisy_in, t_clean=t_ctx, t_noisy=t_noisy, motion=motion, poses=p,
                mem_idx=mem_idx, target=x, log_depth=log_depth, warp_mask=prev[:, :, 3])


def degrade(prev, gen):
    """prev [M, 4, H, W] (warped RGB, mask) -> the RGB blurred, as a long
    chain of resampled own frames leaves it. Where the memory warp is
    sharper, its detail is the way back, so the model learns to read it.
    Blur only: a contrast or colour change taught a global correction that
    rollouts then compounded (the 1.024 gain of step 1500)."""
    sigma = 0.4 + 0.8 * float(torch.rand((), generator=gen))
    r = torch.arange(-2, 3, dtype=torch.float32)
    k1 = torch.exp(-r * r / (2 * sigma * sigma))
    k1 = k1 / k1.sum()
    kernel = (k1[:, None] * k1[None, :]).expand(3, 1, 5, 5)
    rgb = F.conv2d(F.pad(prev[:, :3], (2, 2, 2, 2), mode="replicate"), kernel, groups=3) * prev[:, 3:4]
    return torch.cat([rgb, prev[:, 3:4]], 1)


def unknowable_weight(batch, hole_weight):
    """Per-pixel weight [B, T-1, 1, H, W] of the teacher-forced regression:
    hole_weight where a frame generated from pure noise has no warp to copy
    (neither the previous-frame warp nor the memory warp shows the pixel: a
    strip coming into view, a disocclusion), 1 elsewhere. There the truth is
    not knowable, and full-weight regression teaches the mean of what could
    be there: the smear the long walks show."""
    inp = batch["noisy_in"][:, 1:]
    seen = (inp[:, :, 6:7] > 0.5) | (inp[:, :, 10:11] > 0.5)
    generating = (batch["t_noisy"][:, 1:] > 0.99)[..., None, None, None]
    hole = ~seen & generating
    return torch.where(hole, torch.full((), float(hole_weight)), torch.ones(()))


def losses(model, batch, hole_weight=1.0):
    x0, logd = forward_clip(model, batch["clean_in"], batch["noisy_in"], batch["t_clean"], batch["t_noisy"],
                            batch["motion"], batch["poses"], batch["mem_idx"])
    x0, logd = x0.float(), logd.float()
    gen, truth = x0[:, 1:], batch["target"][:, 1:]
    depth = F.l1_loss(logd, batch["log_depth"])
    if hole_weight == 1.0:
        return F.mse_loss(gen, truth), depth, gradient_l1(gen, truth), lowfreq_mse(gen, truth), energy_mse(gen, truth)
    w = unknowable_weight(batch, hole_weight)
    rgb = (((gen - truth) ** 2) * w).sum() / (w.sum() * 3)
    # the other terms see the held-back pixels only as far as their weight lets the prediction through
    gen_w = truth + (gen - truth) * w
    return rgb, depth, gradient_l1(gen_w, truth), lowfreq_mse(gen_w, truth), energy_mse(gen_w, truth)


def energy_mse(a, b, cell=8):
    """Squared differences of each frame's edge energy (mean gradient
    magnitude, what the eval's sharpness compares) and of each cell's
    contrast (standard deviation). MSE answers uncertainty by shrinking
    toward the mean, a little each frame (a gain of 0.98 on the warped
    frame); in a rollout that compounds into grey blur. This pays for lost
    contrast wherever it is lost, and leaves where the edges go to the MSE."""
    def edge(x):
        return (x[..., :, 1:] - x[..., :, :-1]).abs().mean((-1, -2)) + (x[..., 1:, :] - x[..., :-1, :]).abs().mean((-1, -2))

    def contrast(x):
        x = x.reshape(-1, *x.shape[-3:])
        mean = F.avg_pool2d(x, cell)
        return (F.avg_pool2d(x * x, cell) - mean * mean).clamp(min=0).add(1e-6).sqrt()
    return F.mse_loss(edge(a), edge(b)) + F.mse_loss(contrast(a), contrast(b))


def lowfreq_mse(a, b, cell=8):
    """MSE of cell x cell means: low-frequency errors (a colour or brightness
    offset) pass through the warp frame after frame and add up in a rollout,
    so they are worth more than their share of the plain MSE."""
    pool = lambda x: F.avg_pool2d(x.reshape(-1, *x.shape[-3:]), cell)  # noqa: E731
    return F.mse_loss(pool(a), pool(b))


def gradient_l1(a, b):
    """L1 between horizontal and vertical finite differences: MSE alone
    answers uncertainty with blur, this pays for missing edges."""
    dx = lambda x: x[..., :, 1:] - x[..., :, :-1]  # noqa: E731
    dy = lambda x: x[..., 1:, :] - x[..., :-1, :]  # noqa: E731
    return F.l1_loss(dx(a), dx(b)) + F.l1_loss(dy(a), dy(b))


def own_context_batch(model, cfg, batch, frames, depth, poses, gen, args):
    """Rebuilds the batch with the model's own one-step frames (t = 1) and
    predicted depth as context, args.self_rounds times over, no gradient.
    The memory frames come from the first round, or, in a share
    args.memory_truth of batches, from the truth (see make_batch)."""
    first = None
    mem_truth = float(torch.rand((), generator=gen)) < args.memory_truth
    for _ in range(max(1, args.self_rounds)):
        with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=not args.no_bf16):
            ones = torch.ones_like(batch["t_noisy"])
            noisy = batch["noisy_in"].clone()
            noisy[:, :, :3] = torch.randn(noisy[:, :, :3].shape, generator=gen)
            x_own, logd_own = forward_clip(model, batch["clean_in"], noisy, batch["t_clean"], ones,
                                           batch["motion"], batch["poses"], batch["mem_idx"])
        own = (x_own.float(), logd_own.float().exp())
        first = first or own
        mem = "truth" if mem_truth else first
        batch = make_batch(cfg, frames, depth, poses, gen, own=own, mem_own=mem, prev_dropout=args.prev_dropout,
                           prev_degrade=args.prev_degrade, near_memory=args.near_memory)
    return batch


CLIP_KINDS = ("walk", "idle", "back", "pause", "drift")


def self_forcing_clips(data, rng, gen, args):
    """B clips of args.sf_length frames, shaped by clip_indices: a share
    walks, stands still, walks out and back, pauses, returns after an
    emulated long drift (args.sf_kinds). Returns (frames, depth, poses,
    drift [B] bool)."""
    weights = torch.tensor([float(v) for v in args.sf_kinds.split(",")])
    fs, ds, ps, drift = [], [], [], []
    for _ in range(args.sf_batch):
        kind = CLIP_KINDS[int(torch.multinomial(weights, 1, generator=gen))]
        drift.append(kind == "drift")
        f, d, p, _ = data.clip(int(rng.integers(data.episodes)), 0, data.frames)
        idx = clip_indices(kind, args.sf_length, data.frames, gen)
        fs.append(f[idx])
        ds.append(d[idx])
        ps.append(p[idx])
    x = to_unit(np.stack(fs))
    return x, torch.from_numpy(np.stack(ds)), torch.from_numpy(np.stack(ps)), torch.tensor(drift)


def self_forcing_losses(model, disc, x, depth, poses, gen, args, drift=None):
    """One self-forcing rollout: the generator's losses and the
    discriminator's inputs. Regression (MSE and low-frequency MSE) only
    where the true start frame shows the view (knowable_mask); the
    adversarial hinge term on frame triples ending in a frame with
    gradients; depth of the model's own frames against the truth."""
    t = x.shape[1]
    g = min(args.sf_grad_frames, t - 2)
    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=not args.no_bf16):
        gen_frames, logd = rollout(model, x, poses, gen, g, drift)
    at = list(range(t - g, t))
    know_all = knowable_mask(x, depth, poses, model.cfg.warp_filter)
    know = know_all[:, at, None]
    err = (gen_frames[:, at] - x[:, at]) ** 2 * know
    rec = err.sum() / (know.sum() * 3 + 1.0)
    low = lowfreq_mse(gen_frames[:, at] * know, x[:, at] * know)
    log_true = torch.clamp(torch.log(torch.clamp(depth[:, at], min=1e-3)), LOG_DEPTH_MIN, LOG_DEPTH_MAX)
    dep = F.l1_loss(logd[:, at], log_true)
    judged = gen_frames
    if args.adv_where == "known":   # same values; the adversarial gradient reaches only pixels the start shows
        k = know_all[:, :, None].to(gen_frames.dtype)
        judged = gen_frames * k + gen_frames.detach() * (1 - k)
    fake, real = triples(judged, at), triples(x, at)
    if args.disc_cond == "start":   # each triple beside its clip's true start frame
        start = x[:, 0, None].expand(x.shape[0], len(at), *x.shape[2:]).reshape(-1, *x.shape[2:])
        fake, real = torch.cat([fake, start], 1), torch.cat([real, start], 1)
    adv = -disc(fake).mean() if args.adv_weight > 0 else torch.zeros(())
    return rec, low, dep, adv, fake.detach(), real, gen_frames.detach()


def discriminator_step(disc, dopt, real, fake, steps=1, gen=None, bank=None):
    """Hinge loss, `steps` updates (a rollout is dear, an update cheap): the
    first on these triples, the second and later on a random left-right
    mirror of each (a mirrored maze is still a maze) or, with a bank
    (disc_bank.py), on as many triples drawn from it, these included.
    Returns (loss, mean logit on real, on fake) of the first update."""
    if bank is not None:
        bank.add(real, fake)
    first = None
    for i in range(steps):
        r, f = real, fake
        if i > 0 and bank is not None:
            r, f = bank.sample(real.shape[0], gen)
        elif i > 0:
            flip = torch.rand(real.shape[0], generator=gen) < 0.5
            r = torch.where(flip[:, None, None, None], real.flip(-1), real)
            flip = torch.rand(fake.shape[0], generator=gen) < 0.5
            f = torch.where(flip[:, None, None, None], fake.flip(-1), fake)
        stats = hinge_update(disc, dopt, r, f)
        if first is None:
            first = stats
    return first


def hinge_update(disc, dopt, real, fake):
    """One discriminator update on the hinge loss: returns (loss, mean logit
    on real, on fake)."""
    dr, df = disc(real), disc(fake)
    loss = F.relu(1 - dr).mean() + F.relu(1 + df).mean()
    dopt.zero_grad(set_to_none=True)
    loss.backward()
    dopt.step()
    return loss.item(), dr.mean().item(), df.mean().item()


def warm_discriminator(model, disc, dopt, bank, data, rng, gen, args):
    """Before the first generator step: fill the bank with rollouts of the
    model as it is (no gradients), then train the discriminator on it for
    args.disc_warmup updates, so the generator meets a discriminator that
    already tells its frames from the truth. One more rollout, kept out of
    the bank, measures how often it does."""
    def triples_of_one_rollout():
        x, d, p, drift = self_forcing_clips(data, rng, gen, args)
        with torch.no_grad():
            _, _, _, _, fake, real, _ = self_forcing_losses(model, disc, x, d, p, gen, args, drift)
        return real, fake

    held_real, held_fake = triples_of_one_rollout()
    while bank.size < bank.capacity:
        bank.add(*triples_of_one_rollout())
        print(f"\rdiscriminator warm-up: bank {bank.size}/{bank.capacity} triples", end="", flush=True)
    before = after = disc_accuracy(disc, held_real, held_fake)
    print(f"\ndiscriminator warm-up: held-out accuracy {before:.3f} before", flush=True)
    for i in range(args.disc_warmup):
        loss, _, _ = hinge_update(disc, dopt, *bank.sample(held_real.shape[0], gen))
        if (i + 1) % 100 == 0 or i + 1 == args.disc_warmup:   # the last update always reports
            after = disc_accuracy(disc, held_real, held_fake)
            print(f"discriminator warm-up: update {i + 1}/{args.disc_warmup}, hinge {loss:.3f}, held-out "
                  f"accuracy {after:.3f}", flush=True)
    return before, after


def same_shapes(saved, cfg):
    """A run may go on with another warp filter, or grow its head from 4 to 8
    conditioning channels or from 0 to 2 gates (grow_head); everything else
    must match."""
    free = ("warp_filter", "head_cond", "head_gates", "gate_scale", "head_unet")
    a = {k: v for k, v in saved.items() if k not in free}
    b = {k: v for k, v in cfg.to_dict().items() if k not in free}
    return (a == b and saved.get("head_cond", 4) <= cfg.head_cond and saved.get("head_gates", 0) <= cfg.head_gates
            and saved.get("head_unet", 0) <= cfg.head_unet)


def grow_head(weights, ema_weights, cfg):
    """Pads rgb_conv1's input channels, in the weights and their EMA (each
    on its own: a warm start may pair a grown run with an older export), up
    to cfg.head_cond with zeros: the new inputs (the memory warp) start
    unused, so the function is unchanged and training goes on from where it
    was. Gates grow the same way on rgb_conv2's outputs: zero weights and
    a shut bias (GATE_BIAS_INIT). Returns the names of the weights (not
    only the EMA) that were grown: their optimiser moments start afresh."""
    want = cfg.head_channels + cfg.head_cond
    want_out = 3 + cfg.head_gates
    grown = [set(), set()]
    for state, names in zip((weights, ema_weights), grown):
        w = state["rgb_conv1.weight"]
        if w.shape[1] != want:
            state["rgb_conv1.weight"] = torch.cat([w, w.new_zeros(w.shape[0], want - w.shape[1], *w.shape[2:])], 1)
            names.add("rgb_conv1.weight")
        w, b = state["rgb_conv2.weight"], state["rgb_conv2.bias"]
        if w.shape[0] != want_out:
            extra = want_out - w.shape[0]
            state["rgb_conv2.weight"] = torch.cat([w, w.new_zeros(extra, *w.shape[1:])], 0)
            state["rgb_conv2.bias"] = torch.cat([b, b.new_full((extra,), GATE_BIAS_INIT)], 0)
            names.update(("rgb_conv2.weight", "rgb_conv2.bias"))
    if cfg.head_unet and any("unet.up1.weight" not in st for st in (weights, ema_weights)):
        # one fresh U-Net for both (its last conv at zero: the function does not change), seeded so a
        # warm start is repeatable
        torch.manual_seed(GROW_SEED)
        fresh = {f"unet.{k}": v for k, v in HeadUNet(32).state_dict().items()}
        for state, names in zip((weights, ema_weights), grown):
            if "unet.up1.weight" not in state:
                state.update({k: v.clone() for k, v in fresh.items()})
                names.update(fresh)
    if grown[0] or grown[1]:
        print(f"grew the rgb head to {cfg.head_cond} conditioning channels and {cfg.head_gates} gates"
              f"{', with a U-Net' if cfg.head_unet else ''}", flush=True)
    return grown[0]


GROW_SEED = 4242


HEAD_CONVS = ("rgb_conv1.", "rgb_conv2.", "unet.")


def make_optimizer(model, lr):
    """AdamW in two groups: everything, then the rgb head's convs, which may
    learn faster (--head-lr-mult): Adam moves a weight about lr a step, so a
    head that grew new inputs at zero needs a larger lr to use them soon."""
    named = list(model.named_parameters())
    head = [p for n, p in named if n.startswith(HEAD_CONVS)]
    rest = [p for n, p in named if not n.startswith(HEAD_CONVS)]
    return torch.optim.AdamW([{"params": rest}, {"params": head}], lr=lr, weight_decay=0.01, betas=(0.9, 0.99))


def regroup_optimizer_state(model, saved):
    """A single-group optimizer state (saved before the head had its own
    group) -> the two-group layout of make_optimizer."""
    if len(saved["param_groups"]) != 1:
        return saved
    is_head = [n.startswith(HEAD_CONVS) for n, _ in model.named_parameters()]
    order = [i for i, h in enumerate(is_head) if not h] + [i for i, h in enumerate(is_head) if h]
    group = saved["param_groups"][0]
    rest = is_head.count(False)
    return {"state": {new: saved["state"][old] for new, old in enumerate(order) if old in saved["state"]},
            "param_groups": [dict(group, params=list(range(rest))), dict(group, params=list(range(rest, len(order))))]}


def save(path, state):
    tmp = path + ".tmp"
    torch.save(state, tmp)
    os.replace(tmp, path)


def bf16_is_faster():
    """Times one layer-sized matmul in float32 and in bfloat16 (a fraction of a second)."""
    a, w = torch.randn(256, 1024), torch.randn(1024, 1024)
    best = {}
    for dtype in (torch.float32, torch.bfloat16):
        x, y = a.to(dtype), w.to(dtype)
        x @ y  # warm up
        t0 = time.perf_counter()
        for _ in range(3):
            x @ y
        best[dtype] = time.perf_counter() - t0
    return best[torch.bfloat16] < best[torch.float32]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", required=True)
    ap.add_argument("--run", required=True)
    ap.add_argument("--steps", type=int, default=1_000_000)
    ap.add_argument("--batch", type=int, default=4)
    ap.add_argument("--clip", type=int, default=24)
    ap.add_argument("--lr", type=float, default=3e-4)
    ap.add_argument("--warmup", type=int, default=200)
    ap.add_argument("--ema", type=float, default=0.999)
    ap.add_argument("--depth-weight", type=float, default=0.1)
    ap.add_argument("--save-every", type=int, default=100)
    ap.add_argument("--log-every", type=int, default=10)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--tiny", action="store_true", help="a tiny config, for smoke tests")
    ap.add_argument("--no-bf16", action="store_true", help="train in float32")
    ap.add_argument("--bf16", action="store_true",
                    help="train in bfloat16 even where a start-up check finds it slower than float32 (by default "
                         "bfloat16 is used only where it is faster: on CPUs without bfloat16 instructions it is "
                         "emulated, 13x slower than float32 on an AVX2 EPYC)")
    ap.add_argument("--self-context", type=float, default=0.0,
                    help="share of batches whose context is the model's own one-step frames and depth")
    ap.add_argument("--self-rounds", type=int, default=1,
                    help="rounds of own context: round k feeds round k-1's frames back, so frame t's context "
                         "is a min(t, k)-frame chain of the model's own output, as in a rollout")
    ap.add_argument("--grad-weight", type=float, default=0.0,
                    help="weight of an L1 loss on image gradients (against blur)")
    ap.add_argument("--lowfreq-weight", type=float, default=0.0,
                    help="weight of an MSE on 8x8 means (against colour and brightness drift)")
    ap.add_argument("--energy-weight", type=float, default=0.0,
                    help="weight of matching each frame's edge energy and each cell's contrast (against blur)")
    ap.add_argument("--memory-truth", type=float, default=0.0,
                    help="share of own-context batches whose memory warp reads the true frame")
    ap.add_argument("--prev-dropout", type=float, default=0.0,
                    help="share of frames whose previous-frame warp is blanked (teaches use of the memory warp)")
    ap.add_argument("--prev-degrade", type=float, default=0.0,
                    help="share of frames whose previous-frame warp is blurred, as a long chain of own frames "
                         "leaves it (teaches the model to take a sharper remembered view's detail)")
    ap.add_argument("--near-memory", type=float, default=0.0,
                    help="share of own-context frames whose memory warp reads the true frame 1 to 3 back (a "
                         "revisit in miniature: teaches copying an aligned remembered view)")
    ap.add_argument("--head-lr-mult", type=float, default=1.0,
                    help="learning-rate multiplier of the rgb head's convs (rgb_conv1, rgb_conv2, the U-Net)")
    ap.add_argument("--head-cond", type=int, choices=(4, 8), default=4,
                    help="conditioning channels the rgb head's conv reads: 4, or 8 with the memory warp (a run "
                         "saved with 4 grows to 8, the new weights at zero)")
    ap.add_argument("--head-gates", type=int, choices=(0, 2), default=0,
                    help="2: per-pixel gates blend the output towards the previous-frame warp and the memory warp")
    ap.add_argument("--head-unet", type=int, choices=(0, 1), default=0,
                    help="1: a small U-Net between the rgb head's convs (model.HeadUNet), grown at zero on a run "
                         "saved without one, so the head can continue a texture into the incoming strip")
    ap.add_argument("--gate-scale", type=float, default=1.0,
                    help="the gate logits are this times their conv outputs, so the gates learn this many times "
                         "faster (a reparametrisation: export and pack_resume fold it into the weights)")
    ap.add_argument("--warp-filter", choices=("bilinear", "catmull_rom"), default="catmull_rom",
                    help="how the warp samples (a resumed run may switch: it changes no weight)")
    ap.add_argument("--self-forcing", type=float, default=0.0,
                    help="share of steps that roll the model out on its own frames (selfforce.py) instead of "
                         "teacher forcing")
    ap.add_argument("--sf-length", type=int, default=64, help="frames of a self-forcing rollout")
    ap.add_argument("--sf-batch", type=int, default=4, help="clips in a self-forcing rollout")
    ap.add_argument("--sf-grad-frames", type=int, default=8,
                    help="last frames of the rollout that carry gradients (truncated back-propagation)")
    ap.add_argument("--sf-kinds", default="4,2,3,1",
                    help="relative shares of walk, idle (stand still first), back (out and back), pause clips, "
                         "and (optional fifth) drift: a return after an emulated long drift")
    ap.add_argument("--adv-weight", type=float, default=0.0,
                    help="weight of the adversarial (hinge) loss of the frame-triple patch discriminator")
    ap.add_argument("--know-weight", type=float, default=1.0,
                    help="weight of the MSE on pixels the true start frame shows (self-forcing steps)")
    ap.add_argument("--d-lr", type=float, default=1e-4, help="the discriminator's learning rate")
    ap.add_argument("--d-steps", type=int, default=1,
                    help="discriminator updates per self-forcing step: the first on its triples, the later ones on "
                         "them mirrored or, with --disc-bank, on triples drawn from the bank")
    ap.add_argument("--disc-cond", choices=("none", "start"), default="none",
                    help="start: the discriminator also sees the clip's true start frame beside each triple, so it "
                         "can tell a colour the scene does not have (a saved 9-channel one grows at zero)")
    ap.add_argument("--adv-where", choices=("all", "known"), default="all",
                    help="known: the adversarial gradient reaches only pixels the true start frame shows (where "
                         "it sharpens); what no view shows is left to regression")
    ap.add_argument("--disc-bank", type=int, default=0,
                    help="keep the last N real and fake triples (disc_bank.py): --d-steps updates after the first "
                         "draw from them instead of mirroring the current batch (0: off)")
    ap.add_argument("--disc-warmup", type=int, default=0,
                    help="with --disc-bank on a new or warm-started run: fill the bank with rollouts of the "
                         "starting model and train the discriminator this many updates before the first step")
    ap.add_argument("--hole-weight", type=float, default=1.0,
                    help="teacher-forced steps: weight of the regression on pixels no warp shows in frames "
                         "generated from pure noise (1: as everywhere; below 1 leaves them to the adversarial term)")
    ap.add_argument("--init-model", help="start from these weights (a resume file from pack_resume.py)")
    ap.add_argument("--init-ema", help="and this EMA (the exported model); both needed for a warm start")
    ap.add_argument("--init-disc", help="and this self-forcing discriminator (pack_resume.py's .disc.safetensors)")
    args = ap.parse_args()
    if args.disc_warmup and not (args.disc_bank and args.self_forcing > 0 and args.adv_weight > 0):
        sys.exit("--disc-warmup needs --disc-bank N, --self-forcing and --adv-weight above 0")

    torch.set_num_threads(args.threads)
    if not args.no_bf16 and not args.bf16 and not bf16_is_faster():
        print("bfloat16 matmuls are slower than float32 on this CPU: training in float32 (--bf16 forces it)",
              flush=True)
        args.no_bf16 = True
    os.makedirs(args.run, exist_ok=True)
    ckpt_path = os.path.join(args.run, "checkpoint.pt")
    cfg = Config(dim=64, depth=2, heads=2, head_channels=8) if args.tiny else Config()
    cfg.warp_filter = args.warp_filter
    cfg.head_cond = args.head_cond
    cfg.head_gates = args.head_gates
    cfg.gate_scale = args.gate_scale
    cfg.head_unet = args.head_unet
    model = Student(cfg)
    ema = Student(cfg)
    ema.load_state_dict(model.state_dict())
    opt = make_optimizer(model, args.lr)
    disc = PatchDiscriminator(cond=3 if args.disc_cond == "start" else 0)
    dopt = torch.optim.Adam(disc.parameters(), lr=args.d_lr, betas=(0.0, 0.99))
    step = warm_from = 0
    resumed = False
    gen = torch.Generator().manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    if os.path.exists(ckpt_path):
        state = torch.load(ckpt_path)
        if not same_shapes(state["config"], cfg):
            sys.exit(f"{ckpt_path} holds another config; use another --run")
        grown = grow_head(state["model"], state["ema"], cfg)
        factor = state["config"].get("gate_scale", 1.0) / cfg.gate_scale
        rescale_gates(state["model"], factor)
        rescale_gates(state["ema"], factor)
        model.load_state_dict(state["model"])
        ema.load_state_dict(state["ema"])
        if "opt" in state:
            saved_opt = regroup_optimizer_state(model, state["opt"])
            # grown weights had moments of the old shape: those start afresh. Indices count over the
            # optimiser's groups in order (make_optimizer: the rest, then the head's convs).
            order = [n for n, _ in model.named_parameters() if not n.startswith(HEAD_CONVS)] + \
                    [n for n, _ in model.named_parameters() if n.startswith(HEAD_CONVS)]
            if any(n.startswith("unet.") for n in grown):
                print("the U-Net is new: the optimiser's moments start afresh", flush=True)
            else:   # new parameters would shift every later index: only regrown ones keep the layout
                for name in grown:
                    saved_opt["state"].pop(order.index(name), None)
                opt.load_state_dict(saved_opt)
        if "disc" in state:
            try:
                disc_state, grown = grow_disc_input(state["disc"], disc)
            except ValueError as e:
                sys.exit(f"{ckpt_path}: {e} (it was trained with --disc-cond start)")
            disc.load_state_dict(disc_state)
            if grown:   # the first conv's Adam moments no longer fit: the discriminator's optimiser starts afresh
                print("grew the discriminator's input to the start frame", flush=True)
            else:
                dopt.load_state_dict(state["dopt"])
        step = state["step"]
        gen.set_state(state["torch_rng"])
        rng = np.random.default_rng()
        rng.bit_generator.state = state["np_rng"]
        resumed = True
        print(f"resumed {ckpt_path} at step {step}", flush=True)
    elif args.init_model:
        if not args.init_ema:
            sys.exit("--init-model needs --init-ema (the exported .safetensors)")
        from safetensors_io import read_safetensors
        weights, meta = read_safetensors(args.init_model)
        ema_weights, _ = read_safetensors(args.init_ema)
        if not same_shapes(json.loads(meta["config"]), cfg):
            sys.exit(f"{args.init_model} holds another config")
        grow_head(weights, ema_weights, cfg)
        # resume files and exports hold gate_scale 1 (pack_resume and export fold it in)
        model.load_state_dict(rescale_gates(weights, 1.0 / cfg.gate_scale))
        ema.load_state_dict(rescale_gates(ema_weights, 1.0 / cfg.gate_scale))
        step = int(meta["step"])
        warm_from = step  # the optimiser's moments were not kept: warm up again from here
        if args.init_disc:
            disc_weights, _ = read_safetensors(args.init_disc)
            try:
                disc_weights, grown = grow_disc_input(disc_weights, disc)
            except ValueError as e:
                sys.exit(f"{args.init_disc}: {e} (it was trained with --disc-cond start)")
            disc.load_state_dict(disc_weights)
            if grown:
                print("grew the discriminator's input to the start frame", flush=True)
        print(f"warm start from {args.init_model} at step {step} (optimiser state reset)", flush=True)
    data = Dataset(args.data)
    nparams = sum(p.numel() for p in model.parameters())
    print(f"student: {nparams / 1e6:.2f}M parameters, config {cfg.to_dict()}", flush=True)
    log = open(os.path.join(args.run, "log.jsonl"), "a")
    bank = TripleBank(args.disc_bank) if args.disc_bank else None
    if args.disc_warmup and not resumed:   # a resumed run's discriminator was trained already
        before, after = warm_discriminator(model, disc, dopt, bank, data, rng, gen, args)
        log.write(json.dumps(dict(step=step, disc_warmup=args.disc_warmup, disc_bank=args.disc_bank,
                                  d_accuracy_before=before, d_accuracy_after=after)) + "\n")
    t_last = time.time()
    while step < args.steps:
        lr = args.lr * min(1.0, max(0.05, (step - warm_from + 1) / args.warmup))
        for g, mult in zip(opt.param_groups, (1.0, args.head_lr_mult)):
            g["lr"] = lr * mult
        sf = rng.random() < args.self_forcing
        dstats = None
        if sf:
            x, d, p, drift = self_forcing_clips(data, rng, gen, args)
            rec, low, dep, adv, fake, real, _ = self_forcing_losses(model, disc, x, d, p, gen, args, drift)
            loss = (args.know_weight * rec + args.lowfreq_weight * low + args.depth_weight * dep +
                    args.adv_weight * adv)
            rgb, grad, energy, own = rec, torch.zeros(()), torch.zeros(()), True
        else:
            frames, depth, poses, _ = data.batch(rng, args.batch, args.clip)
            batch = make_batch(cfg, frames, depth, poses, gen, prev_dropout=args.prev_dropout,
                               prev_degrade=args.prev_degrade)
            own = rng.random() < args.self_context
            if own:
                batch = own_context_batch(model, cfg, batch, frames, depth, poses, gen, args)
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=not args.no_bf16):
                rgb, dep, grad, low, energy = losses(model, batch, args.hole_weight)
            loss = (rgb + args.depth_weight * dep + args.grad_weight * grad + args.lowfreq_weight * low +
                    args.energy_weight * energy)
            adv = torch.zeros(())
        opt.zero_grad(set_to_none=True)
        loss.backward()
        gnorm = torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        if not math.isfinite(loss.item()):
            sys.exit(f"step {step}: loss is {loss.item()}; stopping")
        opt.step()
        if sf and args.adv_weight > 0:
            dstats = discriminator_step(disc, dopt, real, fake, args.d_steps, gen, bank)
        with torch.no_grad():
            for pe, pm in zip(ema.parameters(), model.parameters()):
                pe.mul_(args.ema).add_(pm, alpha=1 - args.ema)
        step += 1
        if step % args.log_every == 0:
            now = time.time()
            rec = dict(step=step, loss=loss.item(), rgb_mse=rgb.item(), depth_l1=dep.item(), grad_l1=grad.item(), lowfreq_mse=low.item(), energy_mse=energy.item(),
                       lr=lr, own_context=own, self_forcing=sf, adv=float(adv),
                       grad_norm=float(gnorm), sec_per_step=(now - t_last) / args.log_every, time=now)
            if dstats:
                rec.update(d_loss=dstats[0], d_real=dstats[1], d_fake=dstats[2])
            t_last = now
            log.write(json.dumps(rec) + "\n")
            log.flush()
            print(json.dumps(rec), flush=True)
        if step % args.save_every == 0 or step == args.steps:
            save(ckpt_path, dict(config=cfg.to_dict(), model=model.state_dict(), ema=ema.state_dict(),
                                 opt=opt.state_dict(), disc=disc.state_dict(), dopt=dopt.state_dict(), step=step, torch_rng=gen.get_state(),
                                 np_rng=rng.bit_generator.state))


if __name__ == "__main__":
    main()
