#version 450
// Rotary position embedding on x[tokens, heads, dh]: each pair (2i, 2i+1)
// of a head turns by pos[token] * base^(-2i / dh). Positions are floats, so
// a caller can rotate by relative positions and nothing grows unbounded.
layout(local_size_x = 64) in;

layout(binding = 0) readonly buffer X { float x[]; };
layout(binding = 1) readonly buffer Pos { float pos[]; };
layout(binding = 2) writeonly buffer Out { float o[]; };

layout(push_constant) uniform Push { uint tokens, heads, dh; float base; } p;

void main()
{
    uint pair = gl_GlobalInvocationID.x;             // over tokens * heads * dh / 2
    uint half_dh = p.dh / 2;
    if (pair >= p.tokens * p.heads * half_dh)
        return;
    uint i = pair % half_dh;
    uint th = pair / half_dh;
    uint t = th / p.heads;
    float freq = pow(p.base, -2.0 * float(i) / float(p.dh));
    float ang = pos[t] * freq;
    float c = cos(ang), s = sin(ang);
    uint idx = th * p.dh + 2 * i;
    float x0 = x[idx], x1 = x[idx + 1];
    o[idx] = x0 * c - x1 * s;
    o[idx + 1] = x0 * s + x1 * c;
}
