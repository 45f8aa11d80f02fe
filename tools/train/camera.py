"""The camera model of tools/world/camera.h, in torch (batched).

Poses are [..., 5] tensors: x, y, z (metres), yaw, pitch (degrees); axes
+x east, +y up, +z south; yaw 0 looks north (-z), positive turns right.
"""
import math

import torch

HFOV_DEG = 66.0


def focal_px(width):
    return 0.5 * width / math.tan(math.radians(HFOV_DEG / 2))


def basis(pose):
    """Forward, right and up unit vectors, each [..., 3]."""
    yaw = torch.deg2rad(pose[..., 3])
    pitch = torch.deg2rad(pose[..., 4])
    sy, cy, sp, cp = torch.sin(yaw), torch.cos(yaw), torch.sin(pitch), torch.cos(pitch)
    fwd = torch.stack([sy * cp, sp, -cy * cp], -1)
    right = torch.stack([cy, torch.zeros_like(cy), sy], -1)
    up = torch.stack([-sy * sp, cp, cy * sp], -1)
    return fwd, right, up


def wrap_deg(d):
    return torch.remainder(d + 180.0, 360.0) - 180.0


def relative(frm, to):
    """`to` in `frm`'s heading frame: right, up, forward, dyaw, dpitch."""
    yaw = torch.deg2rad(frm[..., 3])
    sy, cy = torch.sin(yaw), torch.cos(yaw)
    dx, dz = to[..., 0] - frm[..., 0], to[..., 2] - frm[..., 2]
    return torch.stack([dx * cy + dz * sy, to[..., 1] - frm[..., 1], dx * sy - dz * cy,
                        wrap_deg(to[..., 3] - frm[..., 3]), to[..., 4] - frm[..., 4]], -1)


def relative_features(src, cur):
    """What the network sees of a source frame's pose from the current one:
    7 bounded numbers (metres scaled by 1/2 and clipped, angles as sin/cos)."""
    r = relative(cur, src)
    t = torch.clamp(r[..., :3] * 0.5, -4.0, 4.0)
    dyaw, dpitch = torch.deg2rad(r[..., 3]), torch.deg2rad(r[..., 4])
    return torch.cat([t, torch.sin(dyaw)[..., None], torch.cos(dyaw)[..., None] - 1.0,
                      torch.sin(dpitch)[..., None], torch.cos(dpitch)[..., None] - 1.0], -1)
