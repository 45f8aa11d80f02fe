#version 450
// C[M, N] = R[M, N] + gate[N] * act(A[M, K] . W[N, K]^T + bias[N]), row-major;
// the gate (adaLN-Zero) and residual are optional, the gate per batch item.
//
// Each invocation owns a TM x TN block of C held in registers, and reads A
// and W through texel buffers (vec4 along K, or scalars when K % 4 != 0).
// No shared memory and no barriers: on lavapipe those are slow, and on
// GPUs the texel cache does the staging. Bias, activation and residual are
// fused into the epilogue, saving a dispatch each.
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"

layout(local_size_x_id = 0, local_size_y_id = 1, local_size_z = 1) in;
layout(constant_id = 2) const int TM = 8;
layout(constant_id = 3) const int TN = 8;
layout(constant_id = 4) const int ACT = ACT_NONE;
layout(constant_id = 5) const bool HAS_BIAS = false;
layout(constant_id = 6) const bool HAS_RES = false;
layout(constant_id = 7) const bool VEC4 = true;
layout(constant_id = 8) const bool HAS_GATE = false;

layout(binding = 0) uniform samplerBuffer a_tex;
layout(binding = 1) uniform samplerBuffer w_tex;
layout(binding = 2) readonly buffer Bias { float bias[]; };
layout(binding = 3) readonly buffer Res { float res[]; };
layout(binding = 4) writeonly buffer Out { float c[]; };
layout(binding = 5) readonly buffer Gate { float gate[]; };

layout(push_constant) uniform Push {
    uint M, N, K;
    uint batch_stride_a, batch_stride_c; // elements between batch items
    uint gate_stride, gate_off;          // gate of item b, column n: gate[b * gate_stride + gate_off + n]
} p;

void main()
{
    uint col0 = gl_GlobalInvocationID.x * TN;
    uint row0 = gl_GlobalInvocationID.y * TM;
    uint batch = gl_GlobalInvocationID.z;
    if (col0 >= p.N || row0 >= p.M)
        return;
    uint a_base = batch * p.batch_stride_a;
    float acc[TM][TN];
    for (int i = 0; i < TM; i++)
        for (int j = 0; j < TN; j++)
            acc[i][j] = 0.0;
    if (VEC4) {
        uint k4n = p.K / 4;
        for (uint k4 = 0; k4 < k4n; k4++) {
            vec4 a[TM];
            for (int i = 0; i < TM; i++) {
                uint r = min(row0 + i, p.M - 1);
                a[i] = texelFetch(a_tex, int((a_base + r * p.K) / 4 + k4));
            }
            for (int j = 0; j < TN; j++) {
                uint cc = min(col0 + j, p.N - 1);
                vec4 w = texelFetch(w_tex, int(cc * k4n + k4));
                for (int i = 0; i < TM; i++)
                    acc[i][j] += dot(a[i], w);
            }
        }
    } else {
        for (uint k = 0; k < p.K; k++) {
            float a[TM];
            for (int i = 0; i < TM; i++)
                a[i] = texelFetch(a_tex, int(a_base + min(row0 + i, p.M - 1) * p.K + k)).x;
            for (int j = 0; j < TN; j++) {
                float w = texelFetch(w_tex, int(min(col0 + j, p.N - 1) * p.K + k)).x;
                for (int i = 0; i < TM; i++)
                    acc[i][j] = fma(a[i], w, acc[i][j]);
            }
        }
    }
    uint c_base = batch * p.batch_stride_c;
    for (int i = 0; i < TM; i++) {
        uint r = row0 + i;
        if (r >= p.M)
            break;
        for (int j = 0; j < TN; j++) {
            uint cc = col0 + j;
            if (cc >= p.N)
                break;
            float v = acc[i][j];
            if (HAS_BIAS)
                v += bias[cc];
            v = act_apply(v, ACT);
            if (HAS_GATE)
                v *= gate[batch * p.gate_stride + p.gate_off + cc];
            if (HAS_RES)
                v += res[c_base + r * p.N + cc];
            c[c_base + r * p.N + cc] = v;
        }
    }
}
