"""Quantized memory slots (issue 15's first step, measured in the reference
before the engine follows): a slot's ConvKV-compressed keys and values are
stored as signed integers of `bits` bits with one scale per channel (the
largest magnitude over the slot's tokens, symmetric), and read back as
scale x integer. fake_quant returns what attention would then read."""
import torch


def fake_quant(x, bits):
    """x [..., N, D] (N tokens, D channels) -> x after per-channel
    symmetric quantization over the N tokens to `bits` bits (None: x)."""
    if not bits:
        return x
    qmax = 2 ** (bits - 1) - 1
    scale = x.abs().amax(-2, keepdim=True).clamp(min=1e-12) / qmax
    return torch.round(x / scale).clamp(-qmax, qmax) * scale
