#version 450
// int8 memory slots (engine/ops/ops_ref.c: ref_quantize_i8). x [N, D] f32,
// D channels innermost; q [N, D / 4] uint, channel 4i + j in byte j of
// word i; scale [D]. Quantize: one invocation per 4 channels finds their
// largest magnitude over the N tokens, then packs each token's 4 bytes
// (roundEven, as the reference's nearbyintf). Dequantize: one invocation
// per value. Bytes are packed by hand: no 8-bit storage feature needed.
layout(local_size_x = 64) in;
layout(constant_id = 0) const int DEQUANT = 0;

layout(binding = 0) buffer X { float x[]; };
layout(binding = 1) buffer Q { uint q[]; };
layout(binding = 2) buffer S { float s[]; };

layout(push_constant) uniform Push { uint tokens, dim; } p;

void main()
{
    uint i = gl_GlobalInvocationID.x;
    uint words = p.dim / 4;
    if (DEQUANT == 1) {
        if (i >= p.tokens * p.dim)
            return;
        uint c = i % p.dim, n = i / p.dim;
        int v = bitfieldExtract(int(q[n * words + c / 4]), int(8 * (c % 4)), 8);
        x[i] = s[c] * float(v);
        return;
    }
    if (i >= words)
        return;
    vec4 amax = vec4(0.0);
    for (uint n = 0; n < p.tokens; n++)
        amax = max(amax, abs(vec4(x[n * p.dim + 4 * i], x[n * p.dim + 4 * i + 1], x[n * p.dim + 4 * i + 2],
                                  x[n * p.dim + 4 * i + 3])));
    vec4 scale = amax / 127.0;
    for (uint j = 0; j < 4; j++)
        s[4 * i + j] = scale[j];
    for (uint n = 0; n < p.tokens; n++) {
        uint word = 0;
        for (uint j = 0; j < 4; j++) {
            float r = scale[j] > 0.0 ? roundEven(x[n * p.dim + 4 * i + j] / scale[j]) : 0.0;
            int v = int(clamp(r, -127.0, 127.0));
            word |= uint(v & 0xff) << (8 * j);
        }
        q[n * words + i] = word;
    }
}
