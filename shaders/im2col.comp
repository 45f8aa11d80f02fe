#version 450
// Unfolds x[C, H, W] for a k x k, stride 1, "same"-padded convolution into
// col[H * W, K4] (row = output pixel, column = c * k * k + ky * k + kx),
// then a 1 (the bias input) and zeros up to K4, a multiple of 4. The conv
// is then one texel matmul: out[Cout, H*W] = wpack[Cout, K4] . col^T.
// With PACK_WEIGHTS it instead builds wpack = [w | bias | 0...].
layout(local_size_x = 64) in;
layout(constant_id = 0) const bool PACK_WEIGHTS = false;

layout(binding = 0) readonly buffer In { float x[]; };     // image, or weights [Cout, C*k*k]
layout(binding = 1) readonly buffer Bias { float bias[]; };
layout(binding = 2) writeonly buffer Out { float o[]; };

layout(push_constant) uniform Push { uint c, h, w, k, k4, rows; } p;

void main()
{
    uint row = gl_GlobalInvocationID.x;
    if (row >= p.rows)
        return;
    uint kk = p.c * p.k * p.k;
    uint base = row * p.k4;
    if (PACK_WEIGHTS) {
        for (uint i = 0; i < kk; i++)
            o[base + i] = x[row * kk + i];
        o[base + kk] = bias[row];
    } else {
        int y = int(row / p.w), xx = int(row % p.w), pad = int(p.k / 2);
        for (uint ci = 0; ci < p.c; ci++)
            for (uint ky = 0; ky < p.k; ky++) {
                int iy = y + int(ky) - pad;
                for (uint kx = 0; kx < p.k; kx++) {
                    int ix = xx + int(kx) - pad;
                    bool in_img = iy >= 0 && iy < int(p.h) && ix >= 0 && ix < int(p.w);
                    o[base + (ci * p.k + ky) * p.k + kx] = in_img ? x[(ci * p.h + uint(iy)) * p.w + uint(ix)] : 0.0;
                }
            }
        o[base + kk] = 1.0;
    }
    for (uint i = kk + 1; i < p.k4; i++)
        o[base + i] = 0.0;
}
