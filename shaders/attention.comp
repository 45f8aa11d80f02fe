#version 450
// Softmax attention in one pass (online softmax) for queries q[N, H*dh]
// over keys gathered from a KV arena: key s is row rows[s] of k[R, H*dh]
// and v[R, H*dh], from source group groups[s]. Each group g adds its offset
// gemb[g] to its keys at read time (the relative pose of that source), so
// nothing stored depends on where or when it is read. The arena holds every
// source (the current frame, the sink, the window ring, memory slots): the
// row list is the mask. One invocation per (query, head); dh <= 128, at
// most 32 groups.
layout(local_size_x = 64, local_size_y = 1) in;
layout(constant_id = 0) const int DH4 = 16;   // dh / 4
layout(constant_id = 1) const int MAX_GROUPS = 32;

layout(binding = 0) uniform samplerBuffer q_tex;
layout(binding = 1) uniform samplerBuffer k_tex;
layout(binding = 2) uniform samplerBuffer v_tex;
layout(binding = 3) readonly buffer Rows { uint rows[]; };
layout(binding = 4) readonly buffer Groups { uint groups[]; };
layout(binding = 5) uniform samplerBuffer e_tex;   // gemb[G, H*dh]
layout(binding = 6) writeonly buffer Out { vec4 o[]; };

layout(push_constant) uniform Push { uint N, S, H, G; float scale; } p;

void main()
{
    uint n = gl_GlobalInvocationID.x, h = gl_GlobalInvocationID.y;
    if (n >= p.N || h >= p.H)
        return;
    uint d4 = p.H * DH4;            // row length in vec4s
    uint off = h * DH4;
    vec4 q[DH4];
    for (int i = 0; i < DH4; i++)
        q[i] = texelFetch(q_tex, int(n * d4 + off + i));
    float qe[MAX_GROUPS];
    for (uint g = 0; g < p.G; g++) {
        float s = 0.0;
        for (int i = 0; i < DH4; i++)
            s += dot(q[i], texelFetch(e_tex, int(g * d4 + off + i)));
        qe[g] = s;
    }
    vec4 acc[DH4];
    for (int i = 0; i < DH4; i++)
        acc[i] = vec4(0.0);
    float m = -3.0e38, l = 0.0;
    for (uint s = 0; s < p.S; s++) {
        uint row = rows[s] * d4 + off;
        float dotk = 0.0;
        for (int i = 0; i < DH4; i++)
            dotk += dot(q[i], texelFetch(k_tex, int(row + i)));
        float score = (dotk + qe[groups[s]]) * p.scale;
        float m_new = max(m, score);
        float corr = exp(m - m_new);
        float w = exp(score - m_new);
        l = l * corr + w;
        for (int i = 0; i < DH4; i++)
            acc[i] = acc[i] * corr + w * texelFetch(v_tex, int(row + i));
        m = m_new;
    }
    float inv = l > 0.0 ? 1.0 / l : 0.0;
    for (int i = 0; i < DH4; i++)
        o[n * d4 + off + i] = acc[i] * inv;
}
