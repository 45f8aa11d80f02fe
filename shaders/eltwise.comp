#version 450
// Element-wise ops: out[i] = a[i] + b[i % nb], a[i] * b[i % nb], gelu(a[i]),
// silu(a[i]), clamp(a[i], lo, hi), exp(a[i]), sigmoid(a[i]) or a[i]. b broadcasts by
// repeating (a bias row, a mask over every channel).
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"

layout(local_size_x = 256) in;
layout(constant_id = 0) const int OP = 0; // 0 add, 1 mul, 2 gelu, 3 silu, 4 clamp, 5 exp, 6 copy, 7 axpby, 8 sigmoid, 9 flag non-finite

layout(binding = 0) readonly buffer A { float a[]; };
layout(binding = 1) readonly buffer B { float b[]; };
layout(binding = 2) writeonly buffer Out { float o[]; };

layout(push_constant) uniform Push { uint n, nb; float lo, hi; } p;

void main()
{
    uint i = gl_GlobalInvocationID.x + gl_GlobalInvocationID.y * gl_NumWorkGroups.x * gl_WorkGroupSize.x;
    if (i >= p.n)
        return;
    float v = a[i];
    if (OP == 9) { // o[0] = 1 if any a[i] is NaN or infinite; every writer writes the same value
        if (isnan(v) || isinf(v))
            o[0] = 1.0;
        return;
    }
    if (OP == 0)
        v += b[i % p.nb];
    else if (OP == 7)
        v = p.lo * v + p.hi * b[i % p.nb]; // lo * a + hi * b
    else if (OP == 1)
        v *= b[i % p.nb];
    else if (OP == 2 || OP == 3)
        v = act_apply(v, OP == 2 ? ACT_GELU : ACT_SILU);
    else if (OP == 4)
        v = clamp(v, p.lo, p.hi);
    else if (OP == 5)
        v = exp(v);
    else if (OP == 8)
        v = 1.0 / (1.0 + exp(-v)); // exp overflows to inf for v < -88: 1 / inf is the right 0
    o[i] = v;
}
