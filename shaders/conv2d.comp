#version 450
// 2-D convolution with groups, padding and stride, fused bias and
// activation. Layout [C, H, W] (channel-major) or, with CHANNELS_LAST,
// [H, W, C] (a token grid, as ConvKV compresses keys and values). Weights
// are [Cout, Cin / groups, KH, KW] as in PyTorch. Each invocation computes
// TCO output channels (all in one group) of one output pixel.
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"

layout(local_size_x = 64) in;
layout(constant_id = 0) const int TCO = 4;
layout(constant_id = 1) const int ACT = ACT_NONE;
layout(constant_id = 2) const bool HAS_BIAS = false;
layout(constant_id = 3) const bool CHANNELS_LAST = false;

layout(binding = 0) readonly buffer In { float x[]; };
layout(binding = 1) readonly buffer Wt { float wt[]; };
layout(binding = 2) readonly buffer Bias { float bias[]; };
layout(binding = 3) writeonly buffer Out { float o[]; };

layout(push_constant) uniform Push {
    uint cin, h, w, cout, ho, wo, k, stride, pad, groups;
} p;

uint in_index(uint c, uint y, uint x0)
{
    return CHANNELS_LAST ? (y * p.w + x0) * p.cin + c : (c * p.h + y) * p.w + x0;
}

uint out_index(uint c, uint y, uint x0)
{
    return CHANNELS_LAST ? (y * p.wo + x0) * p.cout + c : (c * p.ho + y) * p.wo + x0;
}

void main()
{
    uint pix = gl_GlobalInvocationID.x;
    uint co0 = gl_GlobalInvocationID.y * TCO;
    if (pix >= p.ho * p.wo || co0 >= p.cout)
        return;
    uint oy = pix / p.wo, ox = pix % p.wo;
    uint cin_g = p.cin / p.groups, cout_g = p.cout / p.groups;
    // the host picks TCO dividing cout / groups, so a block of output
    // channels shares one group and every input value is read once
    uint g = co0 / cout_g;
    float acc[TCO];
    for (int t = 0; t < TCO; t++)
        acc[t] = 0.0;
    uint kk = p.k * p.k;
    for (uint ci = 0; ci < cin_g; ci++) {
        uint c = g * cin_g + ci;
        for (uint ky = 0; ky < p.k; ky++) {
            int iy = int(oy * p.stride + ky) - int(p.pad);
            if (iy < 0 || iy >= int(p.h))
                continue;
            for (uint kx = 0; kx < p.k; kx++) {
                int ix = int(ox * p.stride + kx) - int(p.pad);
                if (ix < 0 || ix >= int(p.w))
                    continue;
                float xv = x[in_index(c, uint(iy), uint(ix))];
                uint wbase = (co0 * cin_g + ci) * kk + ky * p.k + kx;
                for (int t = 0; t < TCO; t++)
                    acc[t] += xv * wt[wbase + uint(t) * cin_g * kk];
            }
        }
    }
    for (int t = 0; t < TCO; t++) {
        uint co = co0 + t;
        if (co >= p.cout)
            break;
        float v = acc[t];
        if (HAS_BIAS)
            v += bias[co];
        o[out_index(co, oy, ox)] = act_apply(v, ACT);
    }
}
