"""The reprojection warp: a source frame with its depth, seen from another
camera. The engine's warp shader implements exactly this.

For each destination pixel, start from the rotation-only answer (infinite
depth), then FIXED_POINT_STEPS times: read the source depth there (nearest),
lift that source pixel to 3D, take its depth along the destination ray, and
project that point back into the source. Finally sample the source colour
bilinearly (clamped to the edge) and mark the pixel valid when it landed
inside the source, in front of it, and the depths agree (no disocclusion).
Gather-only, so it runs as one compute shader with no atomics.
"""
import torch

from camera import basis, focal_px

FIXED_POINT_STEPS = 3
DEPTH_TOLERANCE = 0.08   # relative
MIN_DEPTH = 0.05


def pixel_rays(h, w, device):
    """Per-pixel (u, v) image-plane coordinates, [h, w] each."""
    f = focal_px(w)
    xs = (torch.arange(w, device=device, dtype=torch.float32) + 0.5 - w / 2) / f
    ys = (h / 2 - torch.arange(h, device=device, dtype=torch.float32) - 0.5) / f
    return xs[None, :].expand(h, w), ys[:, None].expand(h, w)


def _dot(a, b):
    return (a * b).sum(-1)


def _nearest(img, px, py):
    """img [B, H, W]; px, py [B, H, W] pixel coordinates (centres at integers)."""
    b, h, w = img.shape
    ix = torch.clamp(torch.floor(px + 0.5), 0, w - 1).long()
    iy = torch.clamp(torch.floor(py + 0.5), 0, h - 1).long()
    flat = img.reshape(b, h * w)
    return torch.gather(flat, 1, (iy * w + ix).reshape(b, -1)).reshape(b, *px.shape[1:])


def _bilinear(img, px, py):
    """img [B, C, H, W]; clamp-to-edge bilinear at pixel coordinates."""
    b, c, h, w = img.shape
    px = torch.clamp(px, 0.0, w - 1.0)
    py = torch.clamp(py, 0.0, h - 1.0)
    x0 = torch.clamp(torch.floor(px), 0, w - 2)
    y0 = torch.clamp(torch.floor(py), 0, h - 2)
    fx, fy = px - x0, py - y0
    x0, y0 = x0.long(), y0.long()
    flat = img.reshape(b, c, h * w)

    def tap(yy, xx):
        idx = (yy * w + xx).reshape(b, 1, -1).expand(b, c, -1)
        return torch.gather(flat, 2, idx).reshape(b, c, *px.shape[1:])

    top = tap(y0, x0) * (1 - fx)[:, None] + tap(y0, x0 + 1) * fx[:, None]
    bot = tap(y0 + 1, x0) * (1 - fx)[:, None] + tap(y0 + 1, x0 + 1) * fx[:, None]
    return top * (1 - fy)[:, None] + bot * fy[:, None]


def warp(src_rgb, src_depth, src_pose, dst_pose):
    """src_rgb [B, C, H, W], src_depth [B, H, W] (z-depth, metres), poses
    [B, 5]. Returns (warped [B, C, H, W], valid mask [B, 1, H, W])."""
    b, c, h, w = src_rgb.shape
    f = focal_px(w)
    u, v = pixel_rays(h, w, src_rgb.device)
    fs, rs, us = [t[:, None, None, :] for t in basis(src_pose)]
    fd, rd, ud = [t[:, None, None, :] for t in basis(dst_pose)]
    cs = src_pose[:, None, None, :3]
    cd = dst_pose[:, None, None, :3]
    ray = fd + rd * u[None, :, :, None] + ud * v[None, :, :, None]      # [B, H, W, 3]
    # rotation only: the ray direction itself, in the source camera
    zs = _dot(ray, fs)
    sx = _dot(ray, rs) / torch.clamp(zs, min=1e-6)
    sy = _dot(ray, us) / torch.clamp(zs, min=1e-6)
    for _ in range(FIXED_POINT_STEPS):
        px = sx * f + w / 2 - 0.5
        py = h / 2 - 0.5 - sy * f
        d = _nearest(src_depth, px, py)
        point = cs + d[..., None] * (fs + rs * sx[..., None] + us * sy[..., None])
        zd = torch.clamp(_dot(point - cd, fd), min=MIN_DEPTH)
        x = cd + zd[..., None] * ray - cs
        zs = _dot(x, fs)
        safe = torch.clamp(zs, min=1e-6)
        sx = _dot(x, rs) / safe
        sy = _dot(x, us) / safe
    px = sx * f + w / 2 - 0.5
    py = h / 2 - 0.5 - sy * f
    d = _nearest(src_depth, px, py)
    inside = (px > -0.5) & (px < w - 0.5) & (py > -0.5) & (py < h - 0.5) & (zs > MIN_DEPTH)
    agree = torch.abs(d - zs) <= DEPTH_TOLERANCE * zs + 0.05
    valid = (inside & agree).float()[:, None]
    return _bilinear(src_rgb, px, py) * valid, valid
