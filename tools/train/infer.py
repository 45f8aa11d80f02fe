"""Frame-by-frame inference with the engine's memory layout: the reference
the C engine must match, and the sampler behind eval.py and export.py.

A Session holds what the engine holds:
  sink     per-layer K, V of the start frame, always attended
  window   per-layer K, V of the last W frames, uncompressed (a ring)
  bank     up to M memory slots: per-layer ConvKV-compressed K, V, plus the
           slot's camera pose, frame time, source frame id, RGB and depth
           (for the memory warp)
  prev     the last frame's RGB, depth and pose (for the warp)
Each step: warp the previous frame (and the best retrieved slot) into the
new view, denoise from seeded noise through the config's schedule, run one
clean pass on the result to write its K, V (and predict its depth), and let
the frame that leaves the window become a memory slot.
"""
import math
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F

from kv_quant import fake_pack_frame, fake_quant
from model import SRC_MEMORY, SRC_SELF, SRC_SINK, SRC_WINDOW, Student, modulate, patchify
from retrieval import MIN_OVERLAP, overlap, sample_points, score_milli
from warp import warp


@dataclass
class Slot:
    k: list      # per layer [N/c^2, D]
    v: list
    pose: torch.Tensor
    time: int
    frame: int
    rgb: torch.Tensor     # [3, H, W] in [-1, 1]
    depth: torch.Tensor   # [H, W] metres


@dataclass
class Frame:
    k: list
    v: list
    pose: torch.Tensor
    time: int
    rgb: torch.Tensor
    depth: torch.Tensor


@dataclass
class Trace:
    """Named intermediate values of every pass, for golden vectors."""
    enabled: bool = False
    values: dict = field(default_factory=dict)

    def put(self, name, x):
        if self.enabled:
            self.values[name] = x.detach().float().clone()


def retrieve_slots(bank, pose, now, k):
    """The engine's rule (retrieval.py): slots sharing at least MIN_OVERLAP of
    the view, best first by overlap plus a capped bonus for age."""
    if not bank:
        return []
    pts = sample_points(pose[None])[0]
    scored = []
    for i, s in enumerate(bank):
        ov = overlap(s.pose[None], pts[None])[0]
        if ov >= MIN_OVERLAP:
            scored.append((-int(score_milli(ov, torch.tensor(now - s.time))), s.time, i))   # ties: the older first
    scored.sort()
    return [bank[i] for _, _, i in scored[:k]]


def eviction_choice(poses, times):
    """A full bank: of the two closest poses among the slots and the
    newcomer (the last entry), the newer goes (the newcomer itself, if it is
    one of them); this keeps the bank spread over space and keeps a place's
    first view. Returns the index that goes."""
    best, drop = None, 0
    for i in range(len(poses)):
        for j in range(i + 1, len(poses)):
            a, b = poses[i], poses[j]
            d = float(torch.linalg.norm(a[[0, 2]] - b[[0, 2]])) + abs(float(
                torch.remainder(a[3] - b[3] + 180, 360) - 180)) / 45.0
            if best is None or d < best:
                best, drop = d, j if times[i] < times[j] else i
    return drop


class Session:
    def __init__(self, model: Student, memory_slots=16, memory=True, seed=0, steps=None, trace=None, kv_bits=None):
        self.model = model.eval()
        self.kv_bits = kv_bits  # memory slots quantized to this many bits (kv_quant); None: float, as the engine
        self.cfg = model.cfg
        self.memory_slots = memory_slots
        self.memory = memory
        self.gen = torch.Generator().manual_seed(seed)
        self.schedule = list(self.cfg.schedule if steps is None else self.cfg.schedule[:steps])
        self.sink = None
        self.window = []
        self.bank = []
        self.time = 0
        self.trace = trace or Trace()
        self.last_retrieved = []

    # -- one pass of the network over one frame --------------------------
    def _pass(self, inp, t, motion, pose, sources, tag, head):
        """inp [11, H, W]; sources: list of (K list, V list, pose, type)."""
        m, cfg = self.model, self.cfg
        x = m.embed(patchify(inp[None], cfg.patch)) + m.pos                    # [1, N, D]
        c = m.cond(torch.tensor([t], dtype=torch.float32), motion[None])
        self.trace.put(f"{tag}.embed", x[0])
        self.trace.put(f"{tag}.cond", c[0])
        ks, vs = [], []
        feats = [m.source_features(pose, pose, SRC_SELF)] + [m.source_features(sp, pose, ty) for _, _, sp, ty in sources]
        feats = torch.stack(feats)                                              # [G, 11]
        for li, blk in enumerate(m.blocks):
            s1, sc1, g1, s2, sc2, g2 = blk.ada(F.silu(c)).chunk(6, -1)
            q, k, v = blk.qkv(modulate(blk.norm1(x), s1, sc1)).chunk(3, -1)
            ks.append(k[0])
            vs.append(v[0])
            ctx_k = torch.cat([src[0][li] for src in sources], 0)[None] if sources else k[:, :0]
            ctx_v = torch.cat([src[1][li] for src in sources], 0)[None] if sources else v[:, :0]
            sizes = [k.shape[1]] + [src[0][li].shape[0] for src in sources]
            group = torch.repeat_interleave(torch.arange(len(sizes)), torch.tensor(sizes))
            e = blk.src_embed(feats)[None]
            bias = torch.zeros(1, 1, sum(sizes))
            a = blk.attend(q, k, v, ctx_k, ctx_v, e, group, bias)
            x = x + g1[:, None] * blk.proj(a)
            x = x + g2[:, None] * blk.fc2(F.gelu(blk.fc1(modulate(blk.norm2(x), s2, sc2)), approximate="tanh"))
            self.trace.put(f"{tag}.block{li}", x[0])
        if head == "rgb":
            out = m.rgb_head(x, c, inp[None, 3:11])[0]
        else:
            out = m.depth_head(x)[0]
        self.trace.put(f"{tag}.out", out)
        return out, ks, vs

    def _sources(self, pose, memory_slots):
        src = []
        if self.sink is not None:
            src.append((self.sink.k, self.sink.v, self.sink.pose, SRC_SINK))
        for f in reversed(self.window):                                     # newest first
            src.append((f.k, f.v, f.pose, SRC_WINDOW))
        for s in memory_slots:
            src.append((s.k, s.v, s.pose, SRC_MEMORY))
        return src

    def _conditioning(self, pose):
        cfg = self.cfg
        prev = torch.zeros(4, cfg.image, cfg.image)
        mem = torch.zeros(4, cfg.image, cfg.image)
        if self.time > 0:
            last = self.window[-1] if self.window else self.sink
            wp, mp = warp(last.rgb[None], last.depth[None], last.pose[None], pose[None], cfg.warp_filter)
            prev = torch.cat([wp[0], mp[0]], 0)
        slots = retrieve_slots(self.bank, pose, self.time, cfg.memory_k) if self.memory else []
        if slots:
            best = slots[0]
            wm, mm = warp(best.rgb[None], best.depth[None], best.pose[None], pose[None], cfg.warp_filter)
            mem = torch.cat([wm[0], mm[0]], 0)
        return prev, mem, slots

    def _commit(self, rgb, pose, prev, mem, slots, motion):
        """The clean pass: writes the frame's K, V and predicts its depth."""
        inp = torch.cat([rgb, prev, mem], 0)
        log_depth, ks, vs = self._pass(inp, 0.0, motion, pose, self._sources(pose, slots), f"f{self.time}.clean",
                                       "depth")
        frame = Frame(ks, vs, pose, self.time, rgb, torch.exp(log_depth))
        if self.sink is None:
            self.sink = frame
            return frame
        self.window.append(frame)
        if len(self.window) > self.cfg.window:
            old = self.window.pop(0)
            if self.memory:
                self._remember(old)
        return frame

    def _remember(self, f):
        m = self.model
        ck = [fake_quant(blk.compress(blk.comp_k, k[None])[0], self.kv_bits) for blk, k in zip(m.blocks, f.k)]
        cv = [fake_quant(blk.compress(blk.comp_v, v[None])[0], self.kv_bits) for blk, v in zip(m.blocks, f.v)]
        rgb, depth = fake_pack_frame(f.rgb, f.depth) if self.kv_bits else (f.rgb, f.depth)
        slot = Slot(ck, cv, f.pose, f.time, f.time, rgb, depth)
        if len(self.bank) < self.memory_slots:
            self.bank.append(slot)
            return
        drop = eviction_choice([s.pose for s in self.bank] + [slot.pose], [s.time for s in self.bank] + [slot.time])
        if drop < len(self.bank):
            self.bank[drop] = slot

    # -- public ---------------------------------------------------------
    @torch.no_grad()
    def start(self, rgb, pose):
        """rgb [3, H, W] in [-1, 1]; pose [5]."""
        z = torch.zeros(4, self.cfg.image, self.cfg.image)
        frame = self._commit(rgb, pose, z, z, [], torch.zeros(8))
        self.trace.put("f0.depth", frame.depth)
        self.time = 1
        self.prev_pose = pose

    @torch.no_grad()
    def step(self, pose, truth=None):
        """Generates the frame at `pose`. With `truth`, the clean pass reads
        the true frame instead (teacher forcing: one step ahead)."""
        motion = Student.motion_features(self.prev_pose[None], pose[None])[0]
        prev, mem, slots = self._conditioning(pose)
        self.last_retrieved = [s.frame for s in slots]
        sources = self._sources(pose, slots)
        shape = (3, self.cfg.image, self.cfg.image)
        x = torch.randn(shape, generator=self.gen)
        self.trace.put(f"f{self.time}.noise0", x)
        x0 = None
        for i, t in enumerate(self.schedule):
            inp = torch.cat([x, prev, mem], 0)
            x0, _, _ = self._pass(inp, t, motion, pose, sources, f"f{self.time}.step{i}", "rgb")
            x0 = x0.clamp(-1, 1)
            if i + 1 < len(self.schedule):
                tn = self.schedule[i + 1]
                eps = torch.randn(shape, generator=self.gen)
                self.trace.put(f"f{self.time}.noise{i + 1}", eps)
                x = (1 - tn) * x0 + tn * eps
        self.trace.put(f"f{self.time}.warp_prev", prev)
        self.trace.put(f"f{self.time}.warp_mem", mem)
        self.trace.put(f"f{self.time}.retrieved", torch.tensor([float(f) for f in self.last_retrieved] + [-1.0] *
                                                                (self.cfg.memory_k - len(self.last_retrieved))))
        self.trace.put(f"f{self.time}.rgb", x0)
        frame = self._commit(x0 if truth is None else truth, pose, prev, mem, slots, motion)
        self.trace.put(f"f{self.time}.depth", frame.depth)
        self.time += 1
        self.prev_pose = pose
        return x0
