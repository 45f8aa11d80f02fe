"""Self-forcing: the student rolls a batch of clips out on its own frames,
as the engine does, and a patch discriminator judges what it made.

Why: every teacher-forced loss regresses against the true frame. Where the
truth cannot be known (what comes round a corner) regression learns the
mean of the possibilities, which is blur, and rollouts compound it into
mush. Here the model generates every frame from its own previous frames,
warps and memory, as in the engine, and is scored two ways:
  - regression only where the truth is knowable: pixels of the start view
    seen again (the true start frame warped into the view with true
    depth), which covers idle stretches, out-and-back returns and full turns;
  - an adversarial hinge loss on runs of three consecutive frames (realism
    and temporal consistency at once) everywhere else.

The rollout mirrors infer.Session frame by frame (sink, a window of W
frames, up to K compressed memory frames, the one-step denoising pass then
the clean pass that writes K/V and depth), batched over clips. Memory
frames are chosen by training's rule (retrieval.retrieve over all earlier
frames). Gradients flow through the last `grad_frames` frames only
(truncated back-propagation through time); earlier frames run without them.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F

from model import SRC_MEMORY, SRC_SELF, SRC_SINK, SRC_WINDOW, Student, modulate, patchify
from retrieval import retrieve
from warp import warp


# -- clip shapes: what a rollout should learn to hold -----------------------
def clip_indices(kind, length, episode_frames, gen):
    """Frame indices into a 64-frame episode that make a clip of `length`:
    'walk' plays it forward; 'idle' stands still at the start for a stretch
    (the true picture does not change, so neither may the model's), then
    walks; 'back' walks out and retraces the same poses back to the start
    (a return to a seen view); 'pause' walks, stands still, walks on;
    'drift' is a 'back' that is home at least 12 frames before the end, so
    the last frames (those with gradients) stand at the start after a
    return over frames that rollout() flattens (see drift_frame).
    Reversed poses are a valid camera path: the world is static."""
    def rint(lo, hi):   # short clips (tests) can leave hi below lo: take lo
        return int(torch.randint(lo, max(lo, hi) + 1, (), generator=gen))
    if kind == "idle":
        hold = rint(length // 4, length - 8)
        idx = [0] * hold + list(range(1, length - hold + 1))
    elif kind in ("back", "drift"):
        out = rint(length // 3, length // 2) if kind == "back" else rint(length // 4, length // 2 - 6)
        idx = list(range(out + 1)) + list(range(out - 1, -1, -1))
        idx += [0] * (length - len(idx))
    elif kind == "pause":
        a, hold = rint(4, length // 2), rint(8, length // 3)
        idx = list(range(a)) + [a] * hold
        idx += list(range(a + 1, a + 1 + length - len(idx)))
    else:
        idx = list(range(length))
    idx = [min(i, episode_frames - 1) for i in idx[:length]]
    return idx


# -- the discriminator ----------------------------------------------------
class PatchDiscriminator(nn.Module):
    """Spectral-norm conv net over three consecutive frames (9 channels,
    64 x 64) -> an 8 x 8 grid of real/fake logits: each logit sees a
    patch, so it judges texture and edges, and the frame triple lets it see
    flicker and drift between frames. With cond 3 it also sees the clip's
    true start frame, so it can judge "a frame of this world", not only "a
    frame of some world" (a colour the scene does not have is fake)."""

    def __init__(self, frames=3, width=64, cond=0):
        super().__init__()
        sn = nn.utils.spectral_norm
        c = 3 * frames + cond
        self.net = nn.Sequential(
            sn(nn.Conv2d(c, width, 4, 2, 1)), nn.LeakyReLU(0.2),
            sn(nn.Conv2d(width, 2 * width, 4, 2, 1)), nn.LeakyReLU(0.2),
            sn(nn.Conv2d(2 * width, 4 * width, 4, 2, 1)), nn.LeakyReLU(0.2),
            sn(nn.Conv2d(4 * width, 4 * width, 3, 1, 1)), nn.LeakyReLU(0.2),
            sn(nn.Conv2d(4 * width, 1, 3, 1, 1)))

    def forward(self, x):
        return self.net(x)


def grow_disc_input(state, disc):
    """A saved discriminator state for a net with more input channels:
    the first conv's new input channels start at zero (and so does their
    part of spectral norm's right singular vector), so the grown net judges
    exactly as the saved one until training moves them. Returns (state,
    grown: bool)."""
    want = disc.state_dict()["net.0.weight_orig"].shape[1]
    w = state["net.0.weight_orig"]
    if w.shape[1] == want:
        return state, False
    if w.shape[1] > want:
        raise ValueError(f"the saved discriminator reads {w.shape[1]} channels, more than this one's {want}")
    state = dict(state)
    extra = want - w.shape[1]
    state["net.0.weight_orig"] = torch.cat([w, w.new_zeros(w.shape[0], extra, *w.shape[2:])], 1)
    v = state["net.0.weight_v"]
    state["net.0.weight_v"] = torch.cat([v, v.new_zeros(extra * w.shape[2] * w.shape[3])])
    return state, True


def triples(frames, at):
    """frames [B, T, 3, H, W]; at: frame indices j >= 2 -> [B * len(at), 9, H, W]
    of (j - 2, j - 1, j)."""
    b = frames.shape[0]
    out = torch.stack([torch.cat([frames[:, j - 2], frames[:, j - 1], frames[:, j]], 1) for j in at], 1)
    return out.reshape(b * len(at), *out.shape[2:])


# -- one network pass over one frame of every clip -------------------------
def frame_pass(model, inp, t, motion, pose, sources, head):
    """inp [B, 11, H, W]; t [B]; motion [B, 8]; pose [B, 5];
    sources: list of (K per layer [B, S, D], V per layer, source pose [B, 5],
    type, ok [B] bool) -> (head output, K and V per layer [B, N, D])."""
    cfg = model.cfg
    b = inp.shape[0]
    x = model.embed(patchify(inp, cfg.patch)) + model.pos
    c = model.cond(t, motion)
    n = x.shape[1]
    feats = torch.stack([model.source_features(pose, pose, SRC_SELF)] +
                        [model.source_features(sp, pose, ty) for _, _, sp, ty, _ in sources], 1)   # [B, G, 11]
    sizes = [n] + [s[0][0].shape[1] for s in sources]
    group = torch.repeat_interleave(torch.arange(len(sizes)), torch.tensor(sizes))
    ok = torch.cat([torch.ones(b, n, dtype=torch.bool)] + [s[4][:, None].expand(b, sz) for s, sz in
                                                          zip(sources, sizes[1:])], 1)
    bias = torch.where(ok, torch.zeros(()), torch.full((), float("-inf")))[:, None]
    ks, vs = [], []
    for li, blk in enumerate(model.blocks):
        s1, sc1, g1, s2, sc2, g2 = blk.ada(F.silu(c)).chunk(6, -1)
        q, k, v = blk.qkv(modulate(blk.norm1(x), s1, sc1)).chunk(3, -1)
        ks.append(k)
        vs.append(v)
        ctx_k = torch.cat([s[0][li] for s in sources], 1) if sources else k[:, :0]
        ctx_v = torch.cat([s[1][li] for s in sources], 1) if sources else v[:, :0]
        e = blk.src_embed(feats)
        a = blk.attend(q, k, v, ctx_k, ctx_v, e, group, bias)
        x = x + g1[:, None] * blk.proj(a)
        x = x + g2[:, None] * blk.fc2(F.gelu(blk.fc1(modulate(blk.norm2(x), s2, sc2)), approximate="tanh"))
    out = model.rgb_head(x, c, inp[:, 3:11]) if head == "rgb" else model.depth_head(x)
    return out, ks, vs


# -- a long drift, emulated ------------------------------------------------
DRIFT_FROM = 3   # frames 1 and 2 stay the model's own: the engine's memory keeps them for a long return


def drift_strength(b, gen):
    """Per clip: how far its frames flatten (0.8 to 1) and the colour cast
    they take (-0.15 to 0.15 per channel), fixed over the clip."""
    return (0.8 + 0.2 * torch.rand(b, generator=gen),
            0.3 * torch.rand(b, 3, generator=gen) - 0.15)


def drift_frame(x0, amount, cast):
    """x0 [B, 3, H, W] -> what thousands of frames of the model's own output
    look like (docs/model-walk.png: a flat grey field): detail gone (a
    16 x 16 pooled blur), contrast shrunk to 0.3 toward the frame's mean
    colour, that colour half desaturated, and a colour cast;
    amount [B] mixes it in. Why: a return after a long walk starts from such
    a window, and the memory's old view is then the only source of the
    place; 64-frame clips never drift that far on their own."""
    size = x0.shape[-2:]
    low = F.interpolate(F.avg_pool2d(x0, 16), size=size, mode="bilinear", align_corners=False)
    mean = x0.mean((-2, -1), keepdim=True)
    grey = 0.5 * mean + 0.5 * mean.mean(1, keepdim=True)
    flat = (grey + 0.3 * (low - mean) + cast[:, :, None, None]).clamp(-1, 1)
    a = amount[:, None, None, None]
    return (1 - a) * x0 + a * flat


def rollout(model, x, poses, gen, grad_frames, drift=None):
    """Rolls clips out on the model's own frames.

    x [B, T, 3, H, W] true frames in [-1, 1] (only frame 0, the start, is
    read; every depth is predicted, as in the engine); poses [B, T, 5].
    Returns (frames [B, T, 3, H, W] with frame 0 the truth, log depth
    [B, T, H, W] predicted by the clean passes); frames from T - grad_frames
    on carry gradients. drift [B] bool: those clips' frames from DRIFT_FROM
    up to the first frame with gradients are flattened by drift_frame, ramped
    in over 8 frames, before the clean pass writes them."""
    cfg = model.cfg
    b, t = x.shape[:2]
    w = cfg.window
    ones, zeros = torch.ones(b), torch.zeros(b)
    mem_idx, best = retrieve(poses, w, cfg.memory_k)
    frames = [x[:, 0]]
    logd = []
    kv = []        # per frame: (K list, V list)
    comp = []      # per frame: (compressed K list, V list)
    empty = torch.zeros(b, 4, cfg.image, cfg.image)
    motion0 = torch.zeros(b, 8)
    drifting = drift is not None and bool(drift.any())
    if drifting:
        amount, cast = drift_strength(b, gen)
        amount = torch.where(drift, amount, torch.zeros(()))

    def commit(rgb, prev, mem, pose, motion, sources):
        out, ks, vs = frame_pass(model, torch.cat([rgb, prev, mem], 1), zeros, motion, pose, sources, "depth")
        kv.append((ks, vs))
        comp.append(([blk.compress(blk.comp_k, k) for blk, k in zip(model.blocks, ks)],
                     [blk.compress(blk.comp_v, v) for blk, v in zip(model.blocks, vs)]))
        logd.append(out)

    with torch.no_grad():
        commit(x[:, 0], empty, empty, poses[:, 0], motion0, [])
    for j in range(1, t):
        with torch.set_grad_enabled(j >= t - grad_frames and torch.is_grad_enabled()):
            pose = poses[:, j]
            motion = Student.motion_features(poses[:, j - 1], pose)
            wp, mp = warp(frames[j - 1], logd[j - 1].exp(), poses[:, j - 1], pose, cfg.warp_filter)
            prev = torch.cat([wp, mp], 1)
            mem = empty
            has = best[:, j] >= 0
            if has.any():
                bi = torch.nonzero(has)[:, 0]
                ii = best[bi, j]
                src_rgb = torch.stack([frames[int(i)][int(bb)] for bb, i in zip(bi, ii)])
                src_d = torch.stack([logd[int(i)][int(bb)] for bb, i in zip(bi, ii)]).exp()
                wm, mm = warp(src_rgb, src_d, poses[bi, ii], pose[bi], cfg.warp_filter)
                mem = empty.clone()
                mem[bi] = torch.cat([wm, mm], 1)
            sources = [(kv[0][0], kv[0][1], poses[:, 0], SRC_SINK, torch.ones(b, dtype=torch.bool))]
            for i in range(j - 1, j - w - 1, -1):                  # the window, newest first
                if i >= 1:
                    sources.append((kv[i][0], kv[i][1], poses[:, i], SRC_WINDOW, torch.ones(b, dtype=torch.bool)))
            for kk in range(cfg.memory_k):
                idx = mem_idx[:, j, kk]
                okk = idx >= 0
                if not okk.any():
                    continue
                safe = idx.clamp(min=0)
                bsel = torch.arange(b)
                mk = [torch.stack([comp[int(i)][0][li][bb] for bb, i in zip(bsel, safe)]) for li in
                      range(len(model.blocks))]
                mv = [torch.stack([comp[int(i)][1][li][bb] for bb, i in zip(bsel, safe)]) for li in
                      range(len(model.blocks))]
                sources.append((mk, mv, poses[bsel, safe], SRC_MEMORY, okk))
            noise = torch.randn(b, 3, cfg.image, cfg.image, generator=gen)
            x0, _, _ = frame_pass(model, torch.cat([noise, prev, mem], 1), ones, motion, pose, sources, "rgb")
            x0 = x0.float().clamp(-1, 1)
            if drifting and DRIFT_FROM <= j < t - grad_frames:
                x0 = drift_frame(x0, amount * min(1.0, (j - DRIFT_FROM + 1) / 8), cast)
            frames.append(x0)
            commit(x0, prev, mem, pose, motion, sources)
    return torch.stack(frames, 1), torch.stack(logd, 1).float()


def knowable_mask(x, depth, poses, warp_filter):
    """[B, T, H, W]: pixels of each frame that the true start frame shows
    (warped with true depth): there the truth is knowable from the start
    alone, so regression is right; elsewhere it would teach blur."""
    b, t = x.shape[:2]
    src = x[:, :1].expand(b, t, *x.shape[2:]).reshape(b * t, *x.shape[2:])
    d0 = depth[:, :1].expand(b, t, *depth.shape[2:]).reshape(b * t, *depth.shape[2:])
    p0 = poses[:, :1].expand(b, t, 5).reshape(b * t, 5)
    _, m = warp(src, d0, p0, poses.reshape(b * t, 5), warp_filter)
    return m.reshape(b, t, *m.shape[2:])
