#version 450
// The GPU matmul: the same contract and epilogue as matmul.comp, with the
// classic shared-memory tiling (64 x 64 output tile, K in steps of 16, 4 x 4
// outputs per invocation). Right where shared memory is fast and barriers
// are cheap (discrete and integrated GPUs); on lavapipe it is slower than
// matmul.comp, and tests force it there (WORLDKV_MATMUL=tiled) to check it.
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"

layout(local_size_x = 16, local_size_y = 16, local_size_z = 1) in;
layout(constant_id = 4) const int ACT = ACT_NONE;
layout(constant_id = 5) const bool HAS_BIAS = false;
layout(constant_id = 6) const bool HAS_RES = false;
layout(constant_id = 8) const bool HAS_GATE = false;

layout(binding = 0) uniform samplerBuffer a_tex; // scalar views (f32 or f16)
layout(binding = 1) uniform samplerBuffer w_tex;
layout(binding = 2) readonly buffer Bias { float bias[]; };
layout(binding = 3) readonly buffer Res { float res[]; };
layout(binding = 4) writeonly buffer Out { float c[]; };
layout(binding = 5) readonly buffer Gate { float gate[]; };

layout(push_constant) uniform Push {
    uint M, N, K;
    uint batch_stride_a, batch_stride_c;
    uint gate_stride, gate_off;
} p;

const uint BM = 64, BN = 64, BK = 16;
shared float As[BK][BM];
shared float Ws[BK][BN];

void main()
{
    uint tx = gl_LocalInvocationID.x, ty = gl_LocalInvocationID.y;
    uint tid = ty * 16 + tx;
    uint col_tile = gl_WorkGroupID.x * BN, row_tile = gl_WorkGroupID.y * BM;
    uint batch = gl_WorkGroupID.z;
    uint a_base = batch * p.batch_stride_a;
    float acc[4][4];
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 4; j++)
            acc[i][j] = 0.0;
    for (uint k0 = 0; k0 < p.K; k0 += BK) {
        // 256 invocations load 64 x 16 of A and of W: 4 values each
        for (uint l = 0; l < 4; l++) {
            uint e = tid + l * 256;
            uint kk = e % BK, mm = e / BK;
            uint k = k0 + kk;
            uint r = row_tile + mm, n = col_tile + mm;
            As[kk][mm] = (r < p.M && k < p.K) ? texelFetch(a_tex, int(a_base + r * p.K + k)).x : 0.0;
            Ws[kk][mm] = (n < p.N && k < p.K) ? texelFetch(w_tex, int(n * p.K + k)).x : 0.0;
        }
        barrier();
        for (uint kk = 0; kk < BK; kk++) {
            float a[4], w[4];
            for (int i = 0; i < 4; i++)
                a[i] = As[kk][ty * 4 + i];
            for (int j = 0; j < 4; j++)
                w[j] = Ws[kk][tx * 4 + j];
            for (int i = 0; i < 4; i++)
                for (int j = 0; j < 4; j++)
                    acc[i][j] = fma(a[i], w[j], acc[i][j]);
        }
        barrier();
    }
    uint c_base = batch * p.batch_stride_c;
    for (int i = 0; i < 4; i++) {
        uint r = row_tile + ty * 4 + i;
        if (r >= p.M)
            break;
        for (int j = 0; j < 4; j++) {
            uint cc = col_tile + tx * 4 + j;
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
