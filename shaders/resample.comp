#version 450
// Upsampling of x[C, H, W]: nearest by an integer factor f to [C, H*f, W*f],
// or pixel shuffle of [C*f*f, H, W] to [C, H*f, W*f] (PyTorch's order).
layout(local_size_x = 256) in;
layout(constant_id = 0) const int MODE = 0; // 0 nearest, 1 pixel shuffle

layout(binding = 0) readonly buffer In { float x[]; };
layout(binding = 1) writeonly buffer Out { float o[]; };

layout(push_constant) uniform Push { uint c, h, w, f; } p;

void main()
{
    uint i = gl_GlobalInvocationID.x;
    uint ho = p.h * p.f, wo = p.w * p.f;
    if (i >= p.c * ho * wo)
        return;
    uint c = i / (ho * wo), y = (i / wo) % ho, xo = i % wo;
    uint sy = y / p.f, sx = xo / p.f;
    if (MODE == 0)
        o[i] = x[(c * p.h + sy) * p.w + sx];
    else
        o[i] = x[((c * p.f * p.f + (y % p.f) * p.f + (xo % p.f)) * p.h + sy) * p.w + sx];
}
