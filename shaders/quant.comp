#version 450
// Quantized memory slots, int8 or int4 (engine/ops/ops_ref.c: ref_quantize).
// x [N, D] f32, D channels innermost; q [N, D / PER] uint, PER = 32 / BITS
// codes a word, channel PER i + j in bits BITS j upward; scale [D].
// Quantize: one invocation per word's PER channels finds their largest
// magnitude over the N tokens, then packs each token's codes (roundEven,
// as the reference's nearbyintf). Dequantize: one invocation per value.
// Codes are packed by hand: no 8-bit storage feature needed.
// MODE 2 and 3 pack and unpack a stored frame (ref_pack_frame): x [4, hw]
// (RGB planes in [-1, 1], depth) <-> q: RGB8 in word i, then binary16
// depths two a word; one invocation per pixel pair.
layout(local_size_x = 64) in;
layout(constant_id = 0) const int MODE = 0; // 0 quantize, 1 dequantize, 2 pack frame, 3 unpack frame
layout(constant_id = 1) const int BITS = 8; // 8 or 4
const uint PER = 32u / uint(BITS);
const int QMAX_CODE = (1 << (BITS - 1)) - 1; // 127 or 7
const uint MASK = (1u << uint(BITS)) - 1u;

layout(binding = 0) buffer X { float x[]; };
layout(binding = 1) buffer Q { uint q[]; };
layout(binding = 2) buffer S { float s[]; };

layout(push_constant) uniform Push { uint tokens, dim; } p; // frames: tokens = hw

uint colour_byte(float v)
{
    return uint(clamp(roundEven((v + 1.0) * 127.5), 0.0, 255.0));
}

void frame(uint pair)
{
    uint hw = p.tokens;
    if (pair >= hw / 2)
        return;
    for (uint k = 0; k < 2; k++) {
        uint i = 2 * pair + k;
        if (MODE == 2) {
            q[i] = colour_byte(x[i]) | colour_byte(x[hw + i]) << 8 | colour_byte(x[2 * hw + i]) << 16;
        } else {
            for (uint c = 0; c < 3; c++)
                x[c * hw + i] = float((q[i] >> (8 * c)) & 0xffu) / 127.5 - 1.0;
        }
    }
    if (MODE == 2) {
        q[hw + pair] = packHalf2x16(vec2(x[3 * hw + 2 * pair], x[3 * hw + 2 * pair + 1]));
    } else {
        vec2 d = unpackHalf2x16(q[hw + pair]);
        x[3 * hw + 2 * pair] = d.x;
        x[3 * hw + 2 * pair + 1] = d.y;
    }
}

void main()
{
    uint i = gl_GlobalInvocationID.x;
    uint words = p.dim / PER;
    if (MODE >= 2) {
        frame(i);
        return;
    }
    if (MODE == 1) {
        if (i >= p.tokens * p.dim)
            return;
        uint c = i % p.dim, n = i / p.dim;
        int v = bitfieldExtract(int(q[n * words + c / PER]), int(uint(BITS) * (c % PER)), BITS);
        x[i] = s[c] * float(v);
        return;
    }
    if (i >= words)
        return;
    float qmax = float(QMAX_CODE), scale[8];
    for (uint j = 0; j < PER; j++) {
        float amax = 0.0;
        for (uint n = 0; n < p.tokens; n++)
            amax = max(amax, abs(x[n * p.dim + PER * i + j]));
        scale[j] = amax / qmax;
        s[PER * i + j] = scale[j];
    }
    for (uint n = 0; n < p.tokens; n++) {
        uint word = 0;
        for (uint j = 0; j < PER; j++) {
            float r = scale[j] > 0.0 ? roundEven(x[n * p.dim + PER * i + j] / scale[j]) : 0.0;
            int v = int(clamp(r, -qmax, qmax));
            word |= (uint(v) & MASK) << (uint(BITS) * j);
        }
        q[n * words + i] = word;
    }
}
