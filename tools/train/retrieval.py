"""Memory retrieval by view overlap, the same rule the engine uses.

The current camera's view is sampled by a fixed fan of points on the eye
plane (5 bearings across the field of view x 4 distances). A stored frame
scores the fraction of those points that fall inside its own view (within
its half field of view and 10 m); slots that share at least a quarter of
the view are read, the best score first, where the score is that overlap
plus 0.002 per frame of age, up to 100 frames (0.2).

Why older first: in a rollout every later view of a place was generated
from a longer chain of the model's own frames, so it has drifted further
than the first one; reading the first view makes a revisit look like the
first visit. The cap keeps overlap in charge among old slots. Occlusion is
ignored: cheap, deterministic, microseconds for a bank of slots.
"""
import math

import torch

BEARINGS_DEG = (-28.0, -14.0, 0.0, 14.0, 28.0)
DISTANCES_M = (1.0, 2.5, 4.5, 7.0)
HALF_FOV_DEG = 33.0
MAX_RANGE_M = 10.0
AGE_BONUS = 0.002
AGE_CAP = 100
MIN_OVERLAP = 0.25


def sample_points(pose):
    """[..., 20, 2] points (x, z) in the current view."""
    pts = []
    for b in BEARINGS_DEG:
        yaw = torch.deg2rad(pose[..., 3] + b)
        for d in DISTANCES_M:
            pts.append(torch.stack([pose[..., 0] + d * torch.sin(yaw), pose[..., 2] - d * torch.cos(yaw)], -1))
    return torch.stack(pts, -2)


def overlap(slot_pose, points):
    """Fraction of points [..., N, 2] inside the slot camera's view."""
    dx = points[..., 0] - slot_pose[..., None, 0]
    dz = points[..., 1] - slot_pose[..., None, 2]
    dist = torch.sqrt(dx * dx + dz * dz)
    bearing = torch.rad2deg(torch.atan2(dx, -dz))
    off = torch.remainder(bearing - slot_pose[..., None, 3] + 180.0, 360.0) - 180.0
    inside = (torch.abs(off) <= HALF_FOV_DEG) & (dist <= MAX_RANGE_M)
    return inside.float().mean(-1)


def score_milli(overlap_fraction, age):
    """Overlap fractions and ages in frames (tensors) -> scores in exact
    integer thousandths (50 a point of the fan, 2 a frame of age): the
    engine ranks the same integers, ties included."""
    points = len(BEARINGS_DEG) * len(DISTANCES_M)
    return (torch.round(overlap_fraction * points).long() * (1000 // points) +
            round(AGE_BONUS * 1000) * age.clamp(max=AGE_CAP))


def retrieve(poses, window, k):
    """For every frame j of poses [B, T, 5], pick up to k memory frames i in
    [1, j - window - 1]. Returns (indices [B, T, k] with -1 for none,
    best index [B, T]) sorted by score, best first."""
    b, t, _ = poses.shape
    pts = sample_points(poses)                                  # [B, T, 20, 2]
    ov = overlap(poses[:, None, :, :].expand(b, t, t, 5), pts[:, :, None].expand(b, t, t, *pts.shape[-2:]))
    j = torch.arange(t)[:, None]
    i = torch.arange(t)[None, :]
    score = score_milli(ov, (j - i).expand(b, t, t))
    allowed = (i >= 1) & (i <= j - window - 1)
    score = torch.where(allowed[None] & (ov >= MIN_OVERLAP), score, torch.full_like(score, -1))
    top = torch.topk(score, k=min(k, t), dim=-1)
    idx = torch.where(top.values >= 0, top.indices, torch.full_like(top.indices, -1))
    if idx.shape[-1] < k:
        idx = torch.cat([idx, torch.full((b, t, k - idx.shape[-1]), -1, dtype=idx.dtype)], -1)
    return idx, idx[..., 0]
