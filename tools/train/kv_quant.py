"""Quantized memory slots (issue 15's first step, measured in the reference
before the engine follows): a slot's ConvKV-compressed keys and values are
stored as signed integers of `bits` bits with one scale per channel (the
largest magnitude over the slot's tokens, symmetric), and read back as
scale x integer. fake_quant returns what attention would then read. A
slot's frame (what the memory warp reads) is stored packed as well:
RGB as bytes and depth as binary16 (fake_pack_frame)."""
import torch


def fake_quant(x, bits):
    """x [..., N, D] (N tokens, D channels) -> x after per-channel
    symmetric quantization over the N tokens to `bits` bits (None: x)."""
    if not bits:
        return x
    qmax = 2 ** (bits - 1) - 1
    scale = x.abs().amax(-2, keepdim=True).clamp(min=1e-12) / qmax
    return torch.round(x / scale).clamp(-qmax, qmax) * scale


def fake_pack_frame(rgb, depth):
    """rgb [..., 3, H, W] in [-1, 1], depth [..., 1, H, W] (or [..., H, W]) ->
    both as stored in a packed slot: RGB8 (round half to even, clamped) and
    the depth's binary16 value (engine: wk_pack_frame)."""
    rgb8 = torch.round((rgb + 1) * 127.5).clamp(0, 255) / 127.5 - 1
    return rgb8, depth.half().float()
