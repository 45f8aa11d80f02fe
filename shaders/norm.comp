#version 450
// LayerNorm or RMSNorm over each row of x[rows, D], with optional affine
// (gamma, beta) and optional adaLN modulation: out = n * (1 + scale) + shift,
// where shift and scale come from a per-item conditioning vector (item =
// row / rows_per_item). One invocation per row; two passes keep the
// variance exact.
layout(local_size_x = 64) in;
layout(constant_id = 0) const int MODE = 0;          // 0 LayerNorm, 1 RMSNorm
layout(constant_id = 1) const bool HAS_AFFINE = false;
layout(constant_id = 2) const bool MODULATE = false;

layout(binding = 0) readonly buffer X { float x[]; };
layout(binding = 1) readonly buffer Gamma { float gamma[]; };
layout(binding = 2) readonly buffer Beta { float beta[]; };
layout(binding = 3) readonly buffer Mod { float mod_v[]; };
layout(binding = 4) writeonly buffer Out { float o[]; };

layout(push_constant) uniform Push {
    uint rows, D, rows_per_item, mod_stride, shift_off, scale_off;
    float eps;
} p;

void main()
{
    uint r = gl_GlobalInvocationID.x;
    if (r >= p.rows)
        return;
    uint base = r * p.D;
    float mean = 0.0;
    if (MODE == 0) {
        for (uint c = 0; c < p.D; c++)
            mean += x[base + c];
        mean /= float(p.D);
    }
    float var = 0.0;
    for (uint c = 0; c < p.D; c++) {
        float d = x[base + c] - mean;
        var += d * d;
    }
    float inv = inversesqrt(var / float(p.D) + p.eps);
    uint m = (r / p.rows_per_item) * p.mod_stride;
    for (uint c = 0; c < p.D; c++) {
        float v = (x[base + c] - mean) * inv;
        if (HAS_AFFINE) {
            v *= gamma[c];
            if (MODE == 0)
                v += beta[c];
        }
        if (MODULATE)
            v = v * (1.0 + mod_v[m + p.scale_off + c]) + mod_v[m + p.shift_off + c];
        o[base + c] = v;
    }
}
