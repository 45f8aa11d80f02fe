#version 450
// Patchify [C, H, W] into tokens [(H/P)*(W/P), C*P*P] (features ordered
// c, py, px, as the PyTorch reference does), or the inverse.
layout(local_size_x = 256) in;
layout(constant_id = 0) const bool UNPATCHIFY = false;

layout(binding = 0) readonly buffer In { float x[]; };
layout(binding = 1) writeonly buffer Out { float o[]; };

layout(push_constant) uniform Push { uint c, h, w, p; } pc;

void main()
{
    uint i = gl_GlobalInvocationID.x;       // over the image
    if (i >= pc.c * pc.h * pc.w)
        return;
    uint c = i / (pc.h * pc.w), y = (i / pc.w) % pc.h, xx = i % pc.w;
    uint gw = pc.w / pc.p;
    uint token = (y / pc.p) * gw + xx / pc.p;
    uint feat = (c * pc.p + y % pc.p) * pc.p + xx % pc.p;
    uint t = token * (pc.c * pc.p * pc.p) + feat;
    if (UNPATCHIFY)
        o[i] = x[t];
    else
        o[t] = x[i];
}
