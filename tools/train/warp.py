"""The reprojection warp: a source frame with its depth, seen from another
camera. The engine's warp shader implements exactly this.

For each destination pixel, start from the rotation-only answer (infinite
depth), then FIXED_POINT_STEPS times: read the source depth there (nearest),
lift that source pixel to 3D, take its depth along the destination ray, and
project that point back into the source. Finally sample the source colour
(bilinear, or Catmull-Rom bicubic; clamped to the edge) and mark the pixel
valid when it landed
inside the source, in front of it, and the depths agree (no disocclusion).
Gather-only, so it runs as one compute shader with no atomics.

Why Catmull-Rom: a rollout warps every frame again, and bilinear resampling
compounds into blur (warping a true frame along 64 true poses with true
depth keeps 0.33 of its sharpness with bilinear taps, 0.62 with
Catmull-Rom, at a slightly better PSNR). The 16 taps are summed in a fixed
order (rows top to bottom, taps left to right) that the shader follows.
"""
import torch

from camera import basis, focal_px

FIXED_POINT_STEPS = 3
DEPTH_TOLERANCE = 0.08   # relative
MIN_DEPTH = 0.05
FILTERS = ("bilinear", "catmull_rom")


def depths_agree(found, expected):
    """The warp's occlusion test: a depth found along a ray matches the
    expected one within DEPTH_TOLERANCE of it plus 5 cm."""
    return torch.abs(found - expected) <= DEPTH_TOLERANCE * expected + 0.05


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


def catmull_rom_weights(t):
    """Weights of the taps at -1, 0, 1, 2 for a fraction t in [0, 1)."""
    t2 = t * t
    t3 = t2 * t
    return ((-t3 + 2.0 * t2 - t) * 0.5, (3.0 * t3 - 5.0 * t2 + 2.0) * 0.5,
            (-3.0 * t3 + 4.0 * t2 + t) * 0.5, (t3 - t2) * 0.5)


def _catmull_rom(img, px, py):
    """img [B, C, H, W]; clamp-to-edge Catmull-Rom at pixel coordinates."""
    b, c, h, w = img.shape
    px = torch.clamp(px, 0.0, w - 1.0)
    py = torch.clamp(py, 0.0, h - 1.0)
    x0, y0 = torch.floor(px), torch.floor(py)
    wx, wy = catmull_rom_weights(px - x0), catmull_rom_weights(py - y0)
    x0, y0 = x0.long(), y0.long()
    flat = img.reshape(b, c, h * w)
    out = None
    for j in range(4):
        yy = torch.clamp(y0 + (j - 1), 0, h - 1)
        row = None
        for i in range(4):
            xx = torch.clamp(x0 + (i - 1), 0, w - 1)
            idx = (yy * w + xx).reshape(b, 1, -1).expand(b, c, -1)
            tap = torch.gather(flat, 2, idx).reshape(b, c, *px.shape[1:]) * wx[i][:, None]
            row = tap if row is None else row + tap
        out = row * wy[j][:, None] if out is None else out + row * wy[j][:, None]
    return out


def warp(src_rgb, src_depth, src_pose, dst_pose, filter="bilinear"):
    """src_rgb [B, C, H, W], src_depth [B, H, W] (z-depth, metres), poses
    [B, 5]; filter one of FILTERS. Returns (warped [B, C, H, W], valid
    mask [B, 1, H, W])."""
    if filter not in FILTERS:
        raise ValueError(f"unknown warp filter {filter!r}")
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
    agree = depths_agree(d, zs)
    valid = (inside & agree).float()[:, None]
    sample = _catmull_rom if filter == "catmull_rom" else _bilinear
    return sample(src_rgb, px, py) * valid, valid
