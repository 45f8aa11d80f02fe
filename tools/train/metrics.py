"""Image metrics for the eval: PSNR, SSIM and sharpness (on [0, 1] RGB)."""
import torch
import torch.nn.functional as F


def psnr(a, b):
    mse = float(((a - b) ** 2).mean())
    return 99.0 if mse == 0 else 10.0 * torch.log10(torch.tensor(1.0 / mse)).item()


def _gauss(size=11, sigma=1.5):
    x = torch.arange(size, dtype=torch.float32) - size // 2
    g = torch.exp(-x * x / (2 * sigma * sigma))
    g = g / g.sum()
    return (g[:, None] * g[None, :])[None, None]


def ssim(a, b):
    """Mean SSIM over channels, Gaussian 11 x 11 window (Wang et al. 2004)."""
    w = _gauss().expand(3, 1, 11, 11)
    a, b = a[None], b[None]
    mu_a, mu_b = F.conv2d(a, w, groups=3), F.conv2d(b, w, groups=3)
    va = F.conv2d(a * a, w, groups=3) - mu_a ** 2
    vb = F.conv2d(b * b, w, groups=3) - mu_b ** 2
    cov = F.conv2d(a * b, w, groups=3) - mu_a * mu_b
    c1, c2 = 0.01 ** 2, 0.03 ** 2
    s = ((2 * mu_a * mu_b + c1) * (2 * cov + c2)) / ((mu_a ** 2 + mu_b ** 2 + c1) * (va + vb + c2))
    return float(s.mean())


def gradient_energy(x):
    gx = x[:, :, 1:] - x[:, :, :-1]
    gy = x[:, 1:, :] - x[:, :-1, :]
    return float(gx.abs().mean() + gy.abs().mean())


def sharpness(generated, truth):
    """Mean gradient magnitude of the generated frame over the truth's:
    about 1 is right, well under 1 is blur, well over 1 is noise."""
    t = gradient_energy(truth)
    return gradient_energy(generated) / t if t > 0 else 1.0
