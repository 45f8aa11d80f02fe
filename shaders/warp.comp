#version 450
// Reprojects a source frame with its z-depth into another camera: the
// fixed-point backward warp of tools/train/warp.py (read that first). Out
// is [C + 1, H, W]: the warped colour, then a validity mask. Camera centres
// and bases come in as push constants, computed on the host.
layout(local_size_x = 64) in;
layout(constant_id = 0) const int STEPS = 3;
layout(constant_id = 1) const int FILTER = 0; // 0 bilinear, 1 Catmull-Rom (warp.py's order of taps)

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

// weights of the taps at -1, 0, 1, 2 for a fraction t
vec4 catmull_rom(float t)
{
    float t2 = t * t, t3 = t2 * t;
    return vec4((-t3 + 2.0 * t2 - t) * 0.5, (3.0 * t3 - 5.0 * t2 + 2.0) * 0.5, (-3.0 * t3 + 4.0 * t2 + t) * 0.5,
                (t3 - t2) * 0.5);
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
    float cx = clamp(px, 0.0, float(w - 1)), cy = clamp(py, 0.0, float(h - 1));
    if (FILTER == 1) { // clamp-to-edge Catmull-Rom: rows top to bottom, taps left to right
        float x0 = floor(cx), y0 = floor(cy);
        vec4 wx = catmull_rom(cx - x0), wy = catmull_rom(cy - y0);
        int xi[4], yi[4];
        for (int k = 0; k < 4; k++) {
            xi[k] = clamp(int(x0) + k - 1, 0, w - 1);
            yi[k] = clamp(int(y0) + k - 1, 0, h - 1);
        }
        for (int ch = 0; ch < c; ch++) {
            uint b = uint(ch * w * h);
            float acc = 0.0;
            for (int j = 0; j < 4; j++) {
                uint r = b + uint(yi[j] * w);
                float row = src[r + xi[0]] * wx.x;
                row += src[r + xi[1]] * wx.y;
                row += src[r + xi[2]] * wx.z;
                row += src[r + xi[3]] * wx.w;
                acc = j == 0 ? row * wy[j] : acc + row * wy[j];
            }
            o[b + i] = acc * valid;
        }
        o[uint(c * w * h) + i] = valid;
        return;
    }
    // clamp-to-edge bilinear
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
