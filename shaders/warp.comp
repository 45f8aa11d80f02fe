#version 450
// Reprojects a source frame with its z-depth into another camera: the
// fixed-point backward warp of tools/train/warp.py (read that first). Out
// is [C + 1, H, W]: the warped colour, then a validity mask. Camera centres
// and bases come in as push constants, computed on the host.
layout(local_size_x = 64) in;
layout(constant_id = 0) const int STEPS = 3;

layout(binding = 0) readonly buffer Src { float src[]; };     // [C, H, W]
layout(binding = 1) readonly buffer Depth { float depth[]; }; // [H, W]
layout(binding = 2) writeonly buffer Out { float o[]; };      // [C + 1, H, W]

layout(push_constant) uniform Push {
    vec4 cs, fs, rs, us;   // source centre and basis (xyz)
    vec4 cd, fd, rd, ud;   // destination
} p;
// w, h, c and focal ride in the w components: cs.w = W, fs.w = H, rs.w = C, us.w = focal

const float DEPTH_TOLERANCE = 0.08;
const float MIN_DEPTH = 0.05;

float nearest_depth(float px, float py, int w, int h)
{
    int ix = clamp(int(floor(px + 0.5)), 0, w - 1);
    int iy = clamp(int(floor(py + 0.5)), 0, h - 1);
    return depth[iy * w + ix];
}

void main()
{
    int w = int(p.cs.w), h = int(p.fs.w), c = int(p.rs.w);
    float f = p.us.w;
    uint i = gl_GlobalInvocationID.x;
    if (i >= uint(w * h))
        return;
    int y = int(i) / w, x = int(i) % w;
    float u = (float(x) + 0.5 - float(w) / 2.0) / f;
    float v = (float(h) / 2.0 - float(y) - 0.5) / f;
    vec3 ray = p.fd.xyz + p.rd.xyz * u + p.ud.xyz * v;
    float zs = dot(ray, p.fs.xyz);
    float sx = dot(ray, p.rs.xyz) / max(zs, 1e-6);
    float sy = dot(ray, p.us.xyz) / max(zs, 1e-6);
    for (int s = 0; s < STEPS; s++) {
        float px = sx * f + float(w) / 2.0 - 0.5;
        float py = float(h) / 2.0 - 0.5 - sy * f;
        float d = nearest_depth(px, py, w, h);
        vec3 point = p.cs.xyz + d * (p.fs.xyz + p.rs.xyz * sx + p.us.xyz * sy);
        float zd = max(dot(point - p.cd.xyz, p.fd.xyz), MIN_DEPTH);
        vec3 xs = p.cd.xyz + zd * ray - p.cs.xyz;
        zs = dot(xs, p.fs.xyz);
        float safe = max(zs, 1e-6);
        sx = dot(xs, p.rs.xyz) / safe;
        sy = dot(xs, p.us.xyz) / safe;
    }
    float px = sx * f + float(w) / 2.0 - 0.5;
    float py = float(h) / 2.0 - 0.5 - sy * f;
    float d = nearest_depth(px, py, w, h);
    bool inside = px > -0.5 && px < float(w) - 0.5 && py > -0.5 && py < float(h) - 0.5 && zs > MIN_DEPTH;
    bool agree = abs(d - zs) <= DEPTH_TOLERANCE * zs + 0.05;
    float valid = (inside && agree) ? 1.0 : 0.0;
    // clamp-to-edge bilinear
    float cx = clamp(px, 0.0, float(w - 1)), cy = clamp(py, 0.0, float(h - 1));
    int x0 = clamp(int(floor(cx)), 0, w - 2), y0 = clamp(int(floor(cy)), 0, h - 2);
    float fx = cx - float(x0), fy = cy - float(y0);
    for (int ch = 0; ch < c; ch++) {
        uint b = uint(ch * w * h);
        float t = src[b + y0 * w + x0] * (1.0 - fx) + src[b + y0 * w + x0 + 1] * fx;
        float bt = src[b + (y0 + 1) * w + x0] * (1.0 - fx) + src[b + (y0 + 1) * w + x0 + 1] * fx;
        o[b + i] = (t * (1.0 - fy) + bt * fy) * valid;
    }
    o[uint(c * w * h) + i] = valid;
}
