"""infer.Session for many rollouts at once: the same memory layout and
rules (sink, a window of W frames, a bank of compressed slots with the
engine's retrieval and eviction, per rollout), with the network run on the
whole batch per pass. The eval's long walks, stand-stills, returns and the
classifier test run hundreds of rollouts of hundreds of frames; one at a
time that takes hours on two cores.

Not the golden reference: infer.Session is. check_batch_session in
check_infer.py shows the two agree.
"""
import torch

from kv_quant import fake_pack_frame, fake_quant
from model import SRC_MEMORY, SRC_SINK, SRC_WINDOW, Student
from retrieval import MIN_OVERLAP, overlap, sample_points, score_milli
from selfforce import frame_pass
from warp import warp


class _Slot:
    __slots__ = ("k", "v", "pose", "time", "frame", "rgb", "depth")

    def __init__(self, k, v, pose, time, rgb, depth):
        self.k, self.v, self.pose, self.time, self.frame, self.rgb, self.depth = k, v, pose, time, time, rgb, depth


def eviction_choice_fast(poses, times):
    """infer.eviction_choice, vectorised: the first closest pair in (i, j)
    order, the newer of the two goes."""
    p = torch.stack(poses)
    n = p.shape[0]
    dxz = p[:, None, [0, 2]] - p[None, :, [0, 2]]
    dist = torch.sqrt((dxz * dxz).sum(-1)).double()
    dyaw = (torch.remainder(p[:, None, 3] - p[None, :, 3] + 180, 360) - 180).abs().double() / 45.0
    d = dist + dyaw
    iu = torch.triu_indices(n, n, 1)
    k = int(torch.argmin(d[iu[0], iu[1]]))
    i, j = int(iu[0, k]), int(iu[1, k])
    return j if times[i] < times[j] else i


def retrieve_fast(bank, pose, now, k):
    """infer.retrieve_slots with every slot's overlap in one call: the same
    rule (overlap at least MIN_OVERLAP, best by score, ties to the older)."""
    if not bank:
        return []
    pts = sample_points(pose[None])[0]
    poses = torch.stack([s.pose for s in bank])
    ov = overlap(poses, pts[None].expand(len(bank), *pts.shape))
    ages = torch.tensor([now - s.time for s in bank])
    score = score_milli(ov, ages)
    keep = [(-int(score[i]), bank[i].time, i) for i in range(len(bank)) if float(ov[i]) >= MIN_OVERLAP]
    keep.sort()
    return [bank[i] for _, _, i in keep[:k]]


class BatchSession:
    def __init__(self, model: Student, batch, memory_slots=16, memory=True, seed=0, steps=None, kv_bits=None):
        """seed: one int, or a list of B ints to draw each rollout's noise
        as infer.Session(seed=...) would (for checks). kv_bits: memory slots
        quantized to this many bits per value (kv_quant), None: float."""
        self.model = model.eval()
        self.cfg = model.cfg
        self.b = batch
        self.memory_slots = memory_slots
        self.memory = memory
        self.kv_bits = kv_bits
        if isinstance(seed, (list, tuple)):
            self.gens = [torch.Generator().manual_seed(int(s)) for s in seed]
        else:
            self.gens = [torch.Generator().manual_seed(seed)]
        self.schedule = list(self.cfg.schedule if steps is None else self.cfg.schedule[:steps])
        self.sink = None
        self.window = []            # dicts: k, v (per layer [B, N, D]), pose, rgb, depth, time
        self.banks = [[] for _ in range(batch)]
        self.time = 0

    def _commit(self, rgb, prev, mem, pose, motion, sources):
        b = self.b
        log_depth, ks, vs = frame_pass(self.model, torch.cat([rgb, prev, mem], 1), torch.zeros(b), motion, pose,
                                       sources, "depth")
        frame = dict(k=ks, v=vs, pose=pose, rgb=rgb, depth=torch.exp(log_depth), time=self.time)
        if self.sink is None:
            self.sink = frame
            return
        self.window.append(frame)
        if len(self.window) > self.cfg.window:
            old = self.window.pop(0)
            if self.memory:
                self._remember(old)

    def _remember(self, f):
        m = self.model
        ck = [fake_quant(blk.compress(blk.comp_k, k), self.kv_bits) for blk, k in zip(m.blocks, f["k"])]
        cv = [fake_quant(blk.compress(blk.comp_v, v), self.kv_bits) for blk, v in zip(m.blocks, f["v"])]
        rgb, depth = fake_pack_frame(f["rgb"], f["depth"]) if self.kv_bits else (f["rgb"], f["depth"])
        for e in range(self.b):
            slot = _Slot([k[e].clone() for k in ck], [v[e].clone() for v in cv], f["pose"][e].clone(), f["time"],
                         rgb[e].clone(), depth[e].clone())
            bank = self.banks[e]
            if len(bank) < self.memory_slots:
                bank.append(slot)
                continue
            drop = eviction_choice_fast([s.pose for s in bank] + [slot.pose], [s.time for s in bank] + [slot.time])
            if drop < len(bank):
                bank[drop] = slot

    def _sources(self, slots):
        b = self.b
        yes = torch.ones(b, dtype=torch.bool)
        src = [(self.sink["k"], self.sink["v"], self.sink["pose"], SRC_SINK, yes)]
        for f in reversed(self.window):
            src.append((f["k"], f["v"], f["pose"], SRC_WINDOW, yes))
        layers = len(self.model.blocks)
        for kk in range(self.cfg.memory_k):
            ok = torch.tensor([len(s) > kk for s in slots])
            if not ok.any():
                break
            ref = next(s[kk] for s in slots if len(s) > kk)
            pick = [s[kk] if len(s) > kk else ref for s in slots]
            mk = [torch.stack([p.k[li] for p in pick]) for li in range(layers)]
            mv = [torch.stack([p.v[li] for p in pick]) for li in range(layers)]
            src.append((mk, mv, torch.stack([p.pose for p in pick]), SRC_MEMORY, ok))
        return src

    def _noise(self):
        shape = (3, self.cfg.image, self.cfg.image)
        if len(self.gens) == 1:
            return torch.randn((self.b, *shape), generator=self.gens[0])
        return torch.stack([torch.randn(shape, generator=g) for g in self.gens])

    @torch.no_grad()
    def start(self, rgb, pose):
        """rgb [B, 3, H, W] in [-1, 1]; pose [B, 5]."""
        z = torch.zeros(self.b, 4, self.cfg.image, self.cfg.image)
        self._commit(rgb, z, z, pose, torch.zeros(self.b, 8), [])
        self.time = 1
        self.prev_pose = pose

    @torch.no_grad()
    def step(self, pose, truth=None):
        cfg, b = self.cfg, self.b
        motion = Student.motion_features(self.prev_pose, pose)
        last = self.window[-1] if self.window else self.sink
        wp, mp = warp(last["rgb"], last["depth"], last["pose"], pose, cfg.warp_filter)
        prev = torch.cat([wp, mp], 1)
        slots = [retrieve_fast(bank, pose[e], self.time, cfg.memory_k) if self.memory else []
                 for e, bank in enumerate(self.banks)]
        mem = torch.zeros(b, 4, cfg.image, cfg.image)
        has = [e for e in range(b) if slots[e]]
        if has:
            best = [slots[e][0] for e in has]
            wm, mm = warp(torch.stack([s.rgb for s in best]), torch.stack([s.depth for s in best]),
                          torch.stack([s.pose for s in best]), pose[has], cfg.warp_filter)
            mem[has] = torch.cat([wm, mm], 1)
        sources = self._sources(slots)
        x = self._noise()
        x0 = None
        for i, t in enumerate(self.schedule):
            x0, _, _ = frame_pass(self.model, torch.cat([x, prev, mem], 1), torch.full((b,), float(t)), motion,
                                  pose, sources, "rgb")
            x0 = x0.clamp(-1, 1)
            if i + 1 < len(self.schedule):
                tn = self.schedule[i + 1]
                x = (1 - tn) * x0 + tn * self._noise()
        self._commit(x0 if truth is None else truth, prev, mem, pose, motion, sources)
        self.time += 1
        self.prev_pose = pose
        return x0
