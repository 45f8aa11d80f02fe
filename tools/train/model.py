"""The worldkv student: a frame-causal, adaLN diffusion transformer over
8x8 RGB patch tokens, conditioned on the previous frame (and the best
memory frame) warped into the new view.

Module tree (the engine mirrors these names):
  embed            Linear(11*P*P -> D): patches of [x_t, warp_prev, mask_prev, warp_mem, mask_mem]
  pos              [N, D] learned in-frame position (bounded: nothing depends on frame index)
  t_embed          sinusoid(t) -> Linear(F -> D) -> SiLU -> Linear(D -> D)
  cam_embed        Linear(8 -> D): motion since the previous frame (+ current pitch)
  blocks.i         adaLN-Zero DiT block:
    ada            Linear(D -> 6D) on SiLU(cond)
    qkv, proj      attention over [self, sink, window, memory] keys
    src_embed      Linear(11 -> D): relative pose + source type, added to keys at read time
    mlp.fc1/fc2    D -> 4D -> D, GELU (tanh)
    comp_k/comp_v  Conv2d(D, D, 2, stride 2, groups=heads): ConvKV compression for memory
  final_ada        Linear(D -> 2D)
  rgb_head         Linear(D -> P*P*C) -> unpatchify -> conv3x3(C+head_cond -> 32) GELU conv3x3(32 -> 3+head_gates),
                   gen = conv[0:3] + warp_prev*mask_prev
                   (head_cond 4: the conv reads warp_prev, mask_prev; 8: also warp_mem, mask_mem)
                   head_gates 2: a learned per-pixel blend towards the warps,
                     x = gen + sigmoid(conv[3])*mask_prev*(warp_prev - gen); out = x + sigmoid(conv[4])*mask_mem*(warp_mem - x)
  unet             head_unet 1 (HeadUNet), between the rgb head's convs: down1 conv3x3/2 (32 -> 48), down2
                   conv3x3/2 (48 -> 64), mid (64 -> 64), up2 (64 -> 48) after 2x nearest, + down1's output, up1
                   (48 -> 32) after 2x nearest, + the head's features; GELU but for up1 (zero at the start)
  depth_head       Linear(D -> P*P*8) -> unpatchify -> conv3x3(8 -> 8) GELU conv3x3(8 -> 1): log depth
"""
import math
from dataclasses import asdict, dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F

from camera import relative, relative_features

SRC_SELF, SRC_SINK, SRC_WINDOW, SRC_MEMORY = range(4)
IN_CHANNELS = 11
LOG_DEPTH_MIN, LOG_DEPTH_MAX = math.log(0.1), math.log(100.0)
GATE_BIAS_INIT = -4.0   # a new gate starts almost shut (sigmoid 0.018): the head's function barely changes


@dataclass
class Config:
    image: int = 64
    patch: int = 8
    dim: int = 256
    depth: int = 4
    heads: int = 4
    mlp_ratio: int = 4
    head_channels: int = 16
    window: int = 4
    memory_k: int = 4
    compress: int = 2
    t_freq: int = 128
    schedule: tuple = (1.0, 0.5)    # noise levels of the sampler's steps
    warp_filter: str = "bilinear"   # or "catmull_rom" (warp.py); files without the key mean bilinear
    head_cond: int = 4              # conditioning channels the rgb conv head reads: 4 (previous-frame warp and
                                    # mask) or 8 (+ memory warp and mask); files without the key mean 4
    head_gates: int = 0             # 0, or 2: per-pixel gates that blend the output towards the previous-frame
                                    # warp and then the memory warp (a still camera can copy exactly, a return
                                    # can restore the remembered view); files without the key mean 0
    head_unet: int = 0              # 0, or 1: a small U-Net between the rgb head's two convs (64 -> 32 -> 16 and
                                    # back, additive skips), so the head sees about 20 pixels around instead of 2
                                    # and can carry a texture on into the strip that comes into view; files
                                    # without the key mean 0
    gate_scale: float = 1.0         # training only: the gate logits are gate_scale x rgb_conv2's gate outputs,
                                    # so Adam (which moves a weight about lr a step) moves them gate_scale times
                                    # faster; folded into the weights (and dropped) on export and pack

    @property
    def tokens(self):
        return (self.image // self.patch) ** 2

    def to_dict(self):
        d = asdict(self)
        d["schedule"] = list(self.schedule)
        if d["gate_scale"] == 1.0:
            del d["gate_scale"]   # exported files keep the engine's key set
        if d["head_unet"] == 0:
            del d["head_unet"]    # and models without a U-Net keep the key set of older files
        return d


def rescale_gates(state, factor):
    """Multiplies the gate outputs of rgb_conv2 (channels 3..) in a state dict
    by factor, in place: factor = old gate_scale / new gate_scale keeps the
    function while changing how fast training moves the gates."""
    if factor == 1.0 or state["rgb_conv2.weight"].shape[0] <= 3:
        return state
    w, b = state["rgb_conv2.weight"].clone(), state["rgb_conv2.bias"].clone()
    w[3:] *= factor
    b[3:] *= factor
    state["rgb_conv2.weight"], state["rgb_conv2.bias"] = w, b
    return state


def patchify(x, p):
    b, c, h, w = x.shape
    x = x.reshape(b, c, h // p, p, w // p, p).permute(0, 2, 4, 1, 3, 5)
    return x.reshape(b, (h // p) * (w // p), c * p * p)


def unpatchify(x, p, c, h, w):
    b = x.shape[0]
    x = x.reshape(b, h // p, w // p, c, p, p).permute(0, 3, 1, 4, 2, 5)
    return x.reshape(b, c, h, w)


def timestep_embedding(t, dim):
    half = dim // 2
    freqs = torch.exp(-math.log(10000.0) * torch.arange(half, dtype=torch.float32, device=t.device) / half)
    args = t[:, None].float() * 1000.0 * freqs[None]
    return torch.cat([torch.cos(args), torch.sin(args)], -1)


def modulate(x, shift, scale):
    return x * (1 + scale[:, None]) + shift[:, None]


class Block(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        d = cfg.dim
        self.heads = cfg.heads
        self.norm1 = nn.LayerNorm(d, elementwise_affine=False, eps=1e-6)
        self.norm2 = nn.LayerNorm(d, elementwise_affine=False, eps=1e-6)
        self.ada = nn.Linear(d, 6 * d)
        self.qkv = nn.Linear(d, 3 * d)
        self.proj = nn.Linear(d, d)
        self.src_embed = nn.Linear(11, d)
        self.fc1 = nn.Linear(d, cfg.mlp_ratio * d)
        self.fc2 = nn.Linear(cfg.mlp_ratio * d, d)
        self.comp_k = nn.Conv2d(d, d, cfg.compress, stride=cfg.compress, groups=cfg.heads)
        self.comp_v = nn.Conv2d(d, d, cfg.compress, stride=cfg.compress, groups=cfg.heads)
        nn.init.zeros_(self.ada.weight)
        nn.init.zeros_(self.ada.bias)

    def compress(self, conv, k):
        """ConvKV: per-frame keys or values [M, N, D] on their token grid ->
        [M, N / compress^2, D]."""
        m, n, d = k.shape
        side = int(round(math.sqrt(n)))
        out = conv(k.transpose(1, 2).reshape(m, d, side, side))
        return out.reshape(m, d, -1).transpose(1, 2)

    def attend(self, q, k_self, v_self, ctx_k, ctx_v, src_e, group_of_key, bias):
        """One frame's attention over [its own keys, the context keys].

        q, k_self, v_self [M, N, D]; ctx_k, ctx_v [M, S, D] (sink, window,
        memory); src_e [M, G, D] per-source key offsets, added at read time
        as q . e (group_of_key [N + S] maps each key to its source);
        bias [M, 1, N + S] is 0 or -inf (masked)."""
        m, n, d = q.shape
        h, dh = self.heads, d // self.heads
        scale = 1.0 / math.sqrt(dh)
        qh = q.reshape(m, n, h, dh).transpose(1, 2)

        def heads(x):
            return x.reshape(m, x.shape[1], h, dh).transpose(1, 2)

        scores = torch.cat([torch.matmul(qh, heads(k_self).transpose(-1, -2)),
                            torch.matmul(qh, heads(ctx_k).transpose(-1, -2))], -1)
        qe = torch.matmul(qh, heads(src_e).transpose(-1, -2))                       # [M, H, N, G]
        scores = (scores + qe.index_select(-1, group_of_key)).float() * scale + bias[:, None]
        p = torch.softmax(scores, -1).to(v_self.dtype)
        out = torch.matmul(p[..., :n], heads(v_self)) + torch.matmul(p[..., n:], heads(ctx_v))
        return out.transpose(1, 2).reshape(m, n, d)


class HeadUNet(nn.Module):
    """The rgb head's U-Net on its 32-channel, full-resolution features:
    two stride-2 convs down (64 -> 32 -> 16), one at the bottom, and back up
    by nearest upsampling and a conv, each level added to the skip from the
    way down. up1, the last conv, starts at zero, so a model grown with a
    U-Net computes what it did before (h0 in, h0 out) until training moves
    it. Every conv is 3 x 3, padding 1, GELU (tanh) but for up1."""

    def __init__(self, c=32):
        super().__init__()
        self.down1 = nn.Conv2d(c, 48, 3, stride=2, padding=1)
        self.down2 = nn.Conv2d(48, 64, 3, stride=2, padding=1)
        self.mid = nn.Conv2d(64, 64, 3, padding=1)
        self.up2 = nn.Conv2d(64, 48, 3, padding=1)
        self.up1 = nn.Conv2d(48, c, 3, padding=1)
        nn.init.zeros_(self.up1.weight)
        nn.init.zeros_(self.up1.bias)

    def forward(self, h0):
        gelu = lambda x: F.gelu(x, approximate="tanh")  # noqa: E731
        d1 = gelu(self.down1(h0))
        d2 = gelu(self.down2(d1))
        m = gelu(self.mid(d2))
        u2 = gelu(self.up2(F.interpolate(m, scale_factor=2, mode="nearest"))) + d1
        return h0 + self.up1(F.interpolate(u2, scale_factor=2, mode="nearest"))


class Student(nn.Module):
    def __init__(self, cfg: Config):
        super().__init__()
        self.cfg = cfg
        d, p = cfg.dim, cfg.patch
        self.embed = nn.Linear(IN_CHANNELS * p * p, d)
        self.pos = nn.Parameter(torch.randn(cfg.tokens, d) * 0.02)
        self.t_embed1 = nn.Linear(cfg.t_freq, d)
        self.t_embed2 = nn.Linear(d, d)
        self.cam_embed = nn.Linear(8, d)
        self.blocks = nn.ModuleList([Block(cfg) for _ in range(cfg.depth)])
        self.final_norm = nn.LayerNorm(d, elementwise_affine=False, eps=1e-6)
        self.final_ada = nn.Linear(d, 2 * d)
        self.rgb_proj = nn.Linear(d, p * p * cfg.head_channels)
        self.rgb_conv1 = nn.Conv2d(cfg.head_channels + cfg.head_cond, 32, 3, padding=1)
        if cfg.head_unet:
            self.unet = HeadUNet(32)
        self.rgb_conv2 = nn.Conv2d(32, 3 + cfg.head_gates, 3, padding=1)
        self.depth_proj = nn.Linear(d, p * p * 8)
        self.depth_conv1 = nn.Conv2d(8, 8, 3, padding=1)
        self.depth_conv2 = nn.Conv2d(8, 1, 3, padding=1)
        nn.init.zeros_(self.final_ada.weight)
        nn.init.zeros_(self.final_ada.bias)
        nn.init.zeros_(self.rgb_conv2.weight)
        nn.init.zeros_(self.rgb_conv2.bias)
        with torch.no_grad():
            self.rgb_conv2.bias[3:] = GATE_BIAS_INIT

    # -- conditioning ---------------------------------------------------
    def cond(self, t, motion):
        """t [M]; motion [M, 8] -> [M, D]."""
        e = self.t_embed2(F.silu(self.t_embed1(timestep_embedding(t, self.cfg.t_freq))))
        return e + self.cam_embed(motion)

    @staticmethod
    def motion_features(prev_pose, pose):
        """Camera motion from the previous frame plus the current pitch: 8 numbers."""
        r = relative(prev_pose, pose)
        dyaw, dpitch = torch.deg2rad(r[..., 3]), torch.deg2rad(r[..., 4])
        return torch.stack([r[..., 0] * 10, r[..., 1] * 10, r[..., 2] * 10, torch.sin(dyaw) * 10,
                            torch.cos(dyaw) - 1, torch.sin(dpitch) * 10, torch.cos(dpitch) - 1,
                            torch.deg2rad(pose[..., 4])], -1)

    @staticmethod
    def source_features(src_pose, cur_pose, src_type):
        f = relative_features(src_pose, cur_pose)
        onehot = F.one_hot(torch.as_tensor(src_type, device=f.device).expand(f.shape[:-1]), 4).float()
        return torch.cat([f, onehot], -1)

    # -- heads ----------------------------------------------------------
    def rgb_head(self, x, c, cond_img):
        """x [M, N, D] -> x0 prediction [M, 3, H, W]; cond_img [M, 8, H, W] holds warp_prev, mask_prev,
        warp_mem, mask_mem. The memory warp reaches the pixels directly (head_cond 8), not only through
        8 x 8 patch tokens: a revisit can then copy the remembered view's detail."""
        cfg = self.cfg
        shift, scale = self.final_ada(F.silu(c)).chunk(2, -1)
        h = modulate(self.final_norm(x), shift, scale)
        feat = unpatchify(self.rgb_proj(h), cfg.patch, cfg.head_channels, cfg.image, cfg.image)
        base = cond_img[:, 0:3] * cond_img[:, 3:4]
        h = F.gelu(self.rgb_conv1(torch.cat([feat, cond_img[:, 0:cfg.head_cond]], 1)), approximate="tanh")
        if cfg.head_unet:
            h = self.unet(h)
        y = self.rgb_conv2(h)
        out = base + y[:, 0:3]
        if cfg.head_gates:
            if cfg.gate_scale != 1.0:
                y = torch.cat([y[:, 0:3], y[:, 3:] * cfg.gate_scale], 1)
            out = out + torch.sigmoid(y[:, 3:4]) * cond_img[:, 3:4] * (cond_img[:, 0:3] - out)
            out = out + torch.sigmoid(y[:, 4:5]) * cond_img[:, 7:8] * (cond_img[:, 4:7] - out)
        return out

    def depth_head(self, x):
        cfg = self.cfg
        feat = unpatchify(self.depth_proj(self.final_norm(x)), cfg.patch, 8, cfg.image, cfg.image)
        y = self.depth_conv2(F.gelu(self.depth_conv1(feat), approximate="tanh"))
        return torch.clamp(y[:, 0], LOG_DEPTH_MIN, LOG_DEPTH_MAX)


def _gather_frames(x, idx):
    """x [B, T, ...]; idx [B, T, K] (frame indices, clamped) -> [B, T, K, ...]."""
    b, t = x.shape[:2]
    k = idx.shape[-1]
    flat = idx.clamp(min=0).reshape(b, t * k)
    bi = torch.arange(b, device=x.device)[:, None].expand(b, t * k)
    return x[bi, flat].reshape(b, t, k, *x.shape[2:])


def forward_clip(model, clean_in, noisy_in, t_clean, t_noisy, motion, poses, mem_idx):
    """Teacher-forced training pass over clips.

    clean_in, noisy_in [B, T, 11, H, W]; t_* [B, T]; motion [B, T, 8];
    poses [B, T, 5]; mem_idx [B, T, K] (-1: none). Frame j of both streams
    attends to: its own tokens, the clean sink (frame 0), the clean window
    (frames j-W..j-1, not 0) and the compressed clean memory frames. Returns
    (x0 prediction [B, T, 3, H, W] from the noisy stream, log depth
    [B, T, H, W] from the clean stream)."""
    cfg = model.cfg
    b, t = clean_in.shape[:2]
    n, d, w = cfg.tokens, cfg.dim, cfg.window
    dev = clean_in.device
    m = b * t

    def tokens(x):
        return model.embed(patchify(x.reshape(m, *x.shape[2:]), cfg.patch)) + model.pos

    hc, hn = tokens(clean_in), tokens(noisy_in)
    cc = model.cond(t_clean.reshape(m), motion.reshape(m, -1))
    cn = model.cond(t_noisy.reshape(m), motion.reshape(m, -1))

    j = torch.arange(t, device=dev)
    win_idx = (j[:, None] - torch.arange(1, w + 1, device=dev)[None, :])          # [T, W]
    win_ok = (win_idx >= 1)[None].expand(b, t, w)
    win_idx = win_idx.clamp(min=0)[None].expand(b, t, w)
    mem_ok = mem_idx >= 0
    sink_ok_clean = (j >= 1)[None].expand(b, t)
    # source features: self, sink, window w, memory k
    pose0 = poses[:, :1].expand(b, t, 5)
    feats = [model.source_features(poses, poses, SRC_SELF)[:, :, None],
             model.source_features(pose0, poses, SRC_SINK)[:, :, None],
             model.source_features(_gather_frames(poses, win_idx), poses[:, :, None].expand(b, t, w, 5), SRC_WINDOW),
             model.source_features(_gather_frames(poses, mem_idx), poses[:, :, None].expand(b, t, mem_idx.shape[-1], 5),
                                   SRC_MEMORY)]
    feats = torch.cat(feats, 2)                                                     # [B, T, 2+W+K, 11]
    ones = torch.ones(b, t, n, dtype=torch.bool, device=dev)
    kmem = mem_idx.shape[-1]
    nc = n // cfg.compress ** 2
    ctx_mask = torch.cat([sink_ok_clean[..., None].expand(b, t, n)] +
                         [win_ok[:, :, i, None].expand(b, t, n) for i in range(w)] +
                         [mem_ok[:, :, i, None].expand(b, t, nc) for i in range(kmem)], -1)
    ctx_mask_noisy = ctx_mask.clone()
    ctx_mask_noisy[..., :n] = True                                                  # the noisy frame 0 may see the sink
    zero = torch.zeros((), device=dev)
    ninf = torch.full((), float("-inf"), device=dev)
    bias_clean = torch.where(torch.cat([ones, ctx_mask], -1), zero, ninf).reshape(m, 1, -1)
    bias_noisy = torch.where(torch.cat([ones, ctx_mask_noisy], -1), zero, ninf).reshape(m, 1, -1)
    sizes = [n, n] + [n] * w + [nc] * kmem
    group_of_key = torch.repeat_interleave(torch.arange(len(sizes), device=dev), torch.tensor(sizes, device=dev))

    for blk in model.blocks:
        sc1, scale1, gc1, sc2, scale2, gc2 = blk.ada(F.silu(cc)).chunk(6, -1)
        sn1, scalen1, gn1, sn2, scalen2, gn2 = blk.ada(F.silu(cn)).chunk(6, -1)
        qc, kc, vc = blk.qkv(modulate(blk.norm1(hc), sc1, scale1)).chunk(3, -1)
        qn, kn, vn = blk.qkv(modulate(blk.norm1(hn), sn1, scalen1)).chunk(3, -1)
        kc5, vc5 = kc.reshape(b, t, n, d), vc.reshape(b, t, n, d)
        ck = blk.compress(blk.comp_k, kc).reshape(b, t, -1, d)
        cv = blk.compress(blk.comp_v, vc).reshape(b, t, -1, d)
        ctx_k = torch.cat([kc5[:, :1].expand(b, t, n, d),
                           _gather_frames(kc5, win_idx).reshape(b, t, w * n, d),
                           _gather_frames(ck, mem_idx).reshape(b, t, -1, d)], 2).reshape(m, -1, d)
        ctx_v = torch.cat([vc5[:, :1].expand(b, t, n, d),
                           _gather_frames(vc5, win_idx).reshape(b, t, w * n, d),
                           _gather_frames(cv, mem_idx).reshape(b, t, -1, d)], 2).reshape(m, -1, d)
        e = blk.src_embed(feats).reshape(m, -1, d)                                  # [M, G, D]
        hc = hc + gc1[:, None] * blk.proj(blk.attend(qc, kc, vc, ctx_k, ctx_v, e, group_of_key, bias_clean))
        hn = hn + gn1[:, None] * blk.proj(blk.attend(qn, kn, vn, ctx_k, ctx_v, e, group_of_key, bias_noisy))
        hc = hc + gc2[:, None] * blk.fc2(F.gelu(blk.fc1(modulate(blk.norm2(hc), sc2, scale2)), approximate="tanh"))
        hn = hn + gn2[:, None] * blk.fc2(F.gelu(blk.fc1(modulate(blk.norm2(hn), sn2, scalen2)), approximate="tanh"))

    cond_img = noisy_in.reshape(m, *noisy_in.shape[2:])[:, 3:11]
    x0 = model.rgb_head(hn, cn, cond_img).reshape(b, t, 3, cfg.image, cfg.image)
    logd = model.depth_head(hc).reshape(b, t, cfg.image, cfg.image)
    return x0, logd
