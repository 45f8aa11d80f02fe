#include "student.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "student_weights.h"

#define MAX_ARENA_KEYS 8192

typedef struct pass_slot { /* the small per-pass inputs uploaded from the host */
    wk_tensor temb, motion, feats, rows, groups;
} pass_slot;

struct student {
    wk_backend *be;
    model_config cfg;
    student_weights w; /* the checkpoint's module tree */
    /* activations, allocated once */
    wk_tensor tokens, x[2], h, q, attn, mlp, t1, cam, c, sc, ada, fada, gemb, head_tok, head_img, head_mid, head_y, base;
    wk_tensor gen, blend, diff, gate, gate_masked; /* the head's gates (head_gates 2) */
    /* the head's U-Net (head_unet 1): each level on the way down, the bottom, the way up, the sum */
    wk_tensor u_d1, u_d2, u_mid, u_mid_up, u_up2, u_sum2, u_sum2_up, u_up1, head_sum;
    wk_tensor depth_tok, depth_img, depth_mid, depth_raw;
    pass_slot slots[STUDENT_SLOTS];
    int slot;
    uint32_t rows[MAX_ARENA_KEYS], groups[MAX_ARENA_KEYS]; /* host staging of a pass's key list */
    int trace;
    wk_tensor trace_embed, trace_cond, *trace_blocks;
};

static int alloc(student *s, wk_tensor *t, int64_t ne0, int64_t ne1, int64_t ne2, char *err, size_t n)
{
    return wk_tensor_alloc(s->be, t, ne0, ne1, ne2, 1, err, n);
}

int student_create(wk_backend *be, const st_file *f, const model_config *cfg, const char *prefix, int trace,
                   student **out, char *err, size_t n)
{
    *out = NULL;
    student *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, n, "out of memory");
        return -1;
    }
    s->be = be;
    s->cfg = *cfg;
    s->trace = trace;
    const int64_t D = cfg->dim, N = cfg->tokens, P2 = (int64_t)cfg->patch * cfg->patch, C = cfg->head_channels;
    const int64_t H = cfg->image, M = (int64_t)cfg->mlp_ratio * D;
    if (student_weights_load(be, f, cfg, prefix, &s->w, err, n) != 0) {
        free(s);
        return -1;
    }
    if (alloc(s, &s->tokens, STUDENT_IN_CHANNELS * P2, N, 1, err, n) || alloc(s, &s->x[0], D, N, 1, err, n) ||
        alloc(s, &s->x[1], D, N, 1, err, n) || alloc(s, &s->h, D, N, 1, err, n) || alloc(s, &s->q, D, N, 1, err, n) ||
        alloc(s, &s->attn, D, N, 1, err, n) || alloc(s, &s->mlp, M, N, 1, err, n) || alloc(s, &s->t1, D, 1, 1, err, n) ||
        alloc(s, &s->cam, D, 1, 1, err, n) || alloc(s, &s->c, D, 1, 1, err, n) || alloc(s, &s->sc, D, 1, 1, err, n) ||
        alloc(s, &s->ada, 6 * D, 1, 1, err, n) || alloc(s, &s->fada, 2 * D, 1, 1, err, n) ||
        alloc(s, &s->gemb, D, STUDENT_MAX_SOURCES + 1, 1, err, n) || alloc(s, &s->head_tok, P2 * C, N, 1, err, n) ||
        alloc(s, &s->head_img, H, H, C + cfg->head_cond, err, n) || alloc(s, &s->head_mid, H, H, 32, err, n) ||
        alloc(s, &s->head_y, H, H, 3 + cfg->head_gates, err, n) || alloc(s, &s->base, H, H, 3, err, n) ||
        alloc(s, &s->depth_tok, P2 * 8, N, 1, err, n) || alloc(s, &s->depth_img, H, H, 8, err, n) ||
        alloc(s, &s->depth_mid, H, H, 8, err, n) || alloc(s, &s->depth_raw, H, H, 1, err, n))
        goto fail;
    if (cfg->head_gates && (alloc(s, &s->gen, H, H, 3, err, n) || alloc(s, &s->blend, H, H, 3, err, n) ||
                            alloc(s, &s->diff, H, H, 3, err, n) || alloc(s, &s->gate, H, H, 1, err, n) ||
                            alloc(s, &s->gate_masked, H, H, 1, err, n)))
        goto fail;
    const int64_t H2 = H / 2, H4 = H / 4;
    if (cfg->head_unet && (alloc(s, &s->u_d1, H2, H2, 48, err, n) || alloc(s, &s->u_d2, H4, H4, 64, err, n) ||
                           alloc(s, &s->u_mid, H4, H4, 64, err, n) || alloc(s, &s->u_mid_up, H2, H2, 64, err, n) ||
                           alloc(s, &s->u_up2, H2, H2, 48, err, n) || alloc(s, &s->u_sum2, H2, H2, 48, err, n) ||
                           alloc(s, &s->u_sum2_up, H, H, 48, err, n) || alloc(s, &s->u_up1, H, H, 32, err, n) ||
                           alloc(s, &s->head_sum, H, H, 32, err, n)))
        goto fail;
    for (int i = 0; i < STUDENT_SLOTS; i++) {
        pass_slot *p = &s->slots[i];
        if (alloc(s, &p->temb, cfg->t_freq, 1, 1, err, n) || alloc(s, &p->motion, COND_MOTION_FEATURES, 1, 1, err, n) ||
            alloc(s, &p->feats, COND_SOURCE_FEATURES, STUDENT_MAX_SOURCES + 1, 1, err, n) ||
            alloc(s, &p->rows, MAX_ARENA_KEYS, 1, 1, err, n) || alloc(s, &p->groups, MAX_ARENA_KEYS, 1, 1, err, n))
            goto fail;
    }
    if (trace) {
        s->trace_blocks = calloc((size_t)cfg->depth, sizeof(wk_tensor));
        if (!s->trace_blocks || alloc(s, &s->trace_embed, D, N, 1, err, n) || alloc(s, &s->trace_cond, D, 1, 1, err, n))
            goto fail;
        for (int l = 0; l < cfg->depth; l++)
            if (alloc(s, &s->trace_blocks[l], D, N, 1, err, n))
                goto fail;
    }
    *out = s;
    return 0;
fail:
    student_destroy(s);
    return -1;
}

void student_destroy(student *s)
{
    if (!s)
        return;
    wk_backend *be = s->be;
    /* activations first, then the weights (reverse order of creation) */
    wk_tensor *all[] = {&s->tokens, &s->x[0], &s->x[1], &s->h, &s->q, &s->attn, &s->mlp, &s->t1, &s->cam, &s->c,
                        &s->sc, &s->ada, &s->fada, &s->gemb, &s->head_tok, &s->head_img, &s->head_mid, &s->head_y,
                        &s->base, &s->gen, &s->blend, &s->diff, &s->gate, &s->gate_masked, &s->u_d1, &s->u_d2,
                        &s->u_mid, &s->u_mid_up, &s->u_up2, &s->u_sum2, &s->u_sum2_up, &s->u_up1, &s->head_sum,
                        &s->depth_tok, &s->depth_img, &s->depth_mid, &s->depth_raw, &s->trace_embed,
                        &s->trace_cond};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        wk_tensor_free(be, all[i]);
    for (int i = 0; i < STUDENT_SLOTS; i++) {
        pass_slot *p = &s->slots[i];
        wk_tensor_free(be, &p->temb), wk_tensor_free(be, &p->motion), wk_tensor_free(be, &p->feats);
        wk_tensor_free(be, &p->rows), wk_tensor_free(be, &p->groups);
    }
    for (int l = 0; s->trace_blocks && l < s->cfg.depth; l++)
        wk_tensor_free(be, &s->trace_blocks[l]);
    student_weights_free(be, &s->cfg, &s->w);
    free(s->trace_blocks);
    free(s);
}

void student_begin(student *s)
{
    s->slot = 0;
}

const wk_tensor *student_trace(const student *s, const char *name)
{
    if (!s->trace)
        return NULL;
    if (!strcmp(name, "embed"))
        return &s->trace_embed;
    if (!strcmp(name, "cond"))
        return &s->trace_cond;
    int l;
    char tail;
    if (sscanf(name, "block%d%c", &l, &tail) == 1 && l >= 0 && l < s->cfg.depth)
        return &s->trace_blocks[l];
    return NULL;
}

/* -- modules: one forward each, as model.py's ------------------------------- */
static int linear(student *s, const nn_linear *m, const wk_tensor *x, wk_act act, const wk_tensor *res,
                  const wk_gate *gate, wk_tensor *out, char *err, size_t n)
{
    return wk_matmul_gated(s->be, x, &m->weight, &m->bias, res, act, gate, out, err, n);
}

static int conv3x3(student *s, const nn_conv2d *m, const wk_tensor *x, wk_act act, wk_tensor *out, char *err,
                   size_t n)
{
    wk_conv_params cp = {3, 1, 1, 1, 0, act};
    return wk_conv2d(s->be, x, &m->weight, &m->bias, &cp, out, err, n);
}

static int conv3x3_down(student *s, const nn_conv2d *m, const wk_tensor *x, wk_tensor *out, char *err, size_t n)
{
    wk_conv_params cp = {3, 2, 1, 1, 0, WK_ACT_GELU};
    return wk_conv2d(s->be, x, &m->weight, &m->bias, &cp, out, err, n);
}

/* model.HeadUNet: h0 (the head's features) -> h0 + up1(up(gelu(up2(up(mid))) + d1)) */
static int unet_forward(student *s, const wk_tensor *h0, wk_tensor *out, char *err, size_t n)
{
    wk_backend *be = s->be;
    const head_unet *u = &s->w.unet;
    return conv3x3_down(s, &u->down1, h0, &s->u_d1, err, n) || conv3x3_down(s, &u->down2, &s->u_d1, &s->u_d2, err, n) ||
                   conv3x3(s, &u->mid, &s->u_d2, WK_ACT_GELU, &s->u_mid, err, n) ||
                   wk_upsample_nearest(be, &s->u_mid, 2, &s->u_mid_up, err, n) ||
                   conv3x3(s, &u->up2, &s->u_mid_up, WK_ACT_GELU, &s->u_up2, err, n) ||
                   wk_add(be, &s->u_up2, &s->u_d1, &s->u_sum2, err, n) ||
                   wk_upsample_nearest(be, &s->u_sum2, 2, &s->u_sum2_up, err, n) ||
                   conv3x3(s, &u->up1, &s->u_sum2_up, WK_ACT_NONE, &s->u_up1, err, n) ||
                   wk_add(be, h0, &s->u_up1, out, err, n)
               ? -1
               : 0;
}

/* embed(patchify(inp)) + pos */
static int embed_forward(student *s, const student_pass_in *in, char *err, size_t n)
{
    return wk_patchify(s->be, in->image, s->cfg.patch, &s->tokens, err, n) ||
                   linear(s, &s->w.embed, &s->tokens, WK_ACT_NONE, &s->w.pos, NULL, &s->x[0], err, n) ||
                   (s->trace && wk_copy(s->be, &s->x[0], &s->trace_embed, err, n))
               ? -1
               : 0;
}

/* Student.cond: t_embed2(silu(t_embed1(sinusoid(t)))) + cam_embed(motion); SiLU of it feeds every adaLN */
static int cond_forward(student *s, const pass_slot *ps, char *err, size_t n)
{
    return linear(s, &s->w.t_embed1, &ps->temb, WK_ACT_SILU, NULL, NULL, &s->t1, err, n) ||
                   linear(s, &s->w.cam_embed, &ps->motion, WK_ACT_NONE, NULL, NULL, &s->cam, err, n) ||
                   linear(s, &s->w.t_embed2, &s->t1, WK_ACT_NONE, &s->cam, NULL, &s->c, err, n) ||
                   wk_silu(s->be, &s->c, &s->sc, err, n) ||
                   (s->trace && wk_copy(s->be, &s->c, &s->trace_cond, err, n))
               ? -1
               : 0;
}

/* Block: adaLN-Zero attention over [self, sources] (this frame's keys and
 * values written into arena rows [0, N)), then the gated MLP. */
static int block_forward(student *s, int l, const pass_slot *ps, const wk_tensor *rows, const wk_tensor *groups,
                         wk_tensor *const *k_arena, wk_tensor *const *v_arena, char *err, size_t n)
{
    wk_backend *be = s->be;
    const model_config *cfg = &s->cfg;
    const int64_t D = cfg->dim, N = cfg->tokens;
    const student_block *b = &s->w.blocks[l];
    float scale = 1.0f / sqrtf((float)(D / cfg->heads));
    wk_tensor kcur, vcur;
    wk_modulation m1 = {&s->ada, N, 6 * D, 0, D}, m2 = {&s->ada, N, 6 * D, 3 * D, 4 * D};
    wk_gate g1 = {&s->ada, 0, 2 * D}, g2 = {&s->ada, 0, 5 * D};
    if (wk_tensor_view(be, k_arena[l], 0, D, N, 1, 1, &kcur, err, n) ||
        wk_tensor_view(be, v_arena[l], 0, D, N, 1, 1, &vcur, err, n))
        return -1;
    int rc = linear(s, &b->ada, &s->sc, WK_ACT_NONE, NULL, NULL, &s->ada, err, n) ||
             wk_norm(be, WK_NORM_LAYER, &s->x[0], NULL, NULL, &m1, 1e-6f, &s->h, err, n) ||
             linear(s, &b->qkv[0], &s->h, WK_ACT_NONE, NULL, NULL, &s->q, err, n) ||
             linear(s, &b->qkv[1], &s->h, WK_ACT_NONE, NULL, NULL, &kcur, err, n) ||
             linear(s, &b->qkv[2], &s->h, WK_ACT_NONE, NULL, NULL, &vcur, err, n) ||
             linear(s, &b->src_embed, &ps->feats, WK_ACT_NONE, NULL, NULL, &s->gemb, err, n) ||
             wk_attention(be, &s->q, k_arena[l], v_arena[l], rows, groups, &s->gemb, cfg->heads, scale, &s->attn, err,
                          n) ||
             linear(s, &b->proj, &s->attn, WK_ACT_NONE, &s->x[0], &g1, &s->x[1], err, n) ||
             wk_norm(be, WK_NORM_LAYER, &s->x[1], NULL, NULL, &m2, 1e-6f, &s->h, err, n) ||
             linear(s, &b->fc1, &s->h, WK_ACT_GELU, NULL, NULL, &s->mlp, err, n) ||
             linear(s, &b->fc2, &s->mlp, WK_ACT_NONE, &s->x[1], &g2, &s->x[0], err, n) ||
             (s->trace && wk_copy(be, &s->x[0], &s->trace_blocks[l], err, n));
    wk_tensor_view_release(be, &kcur);
    wk_tensor_view_release(be, &vcur);
    return rc ? -1 : 0;
}

/* Student.depth_head: depth_conv2(gelu(depth_conv1(unpatchify(depth_proj(norm(x)))))), clamped log depth */
static int depth_head_forward(student *s, const student_pass_in *in, char *err, size_t n)
{
    wk_backend *be = s->be;
    return wk_norm(be, WK_NORM_LAYER, &s->x[0], NULL, NULL, NULL, 1e-6f, &s->h, err, n) ||
                   linear(s, &s->w.depth_proj, &s->h, WK_ACT_NONE, NULL, NULL, &s->depth_tok, err, n) ||
                   wk_unpatchify(be, &s->depth_tok, s->cfg.patch, &s->depth_img, err, n) ||
                   conv3x3(s, &s->w.depth_conv1, &s->depth_img, WK_ACT_GELU, &s->depth_mid, err, n) ||
                   conv3x3(s, &s->w.depth_conv2, &s->depth_mid, WK_ACT_NONE, &s->depth_raw, err, n) ||
                   wk_clamp(be, &s->depth_raw, logf(0.1f), logf(100.0f), in->out, err, n)
               ? -1
               : 0;
}

/* out = x + sigmoid(logit) * mask * (warp - x): one of the head's gates.
 * Every op writes a tensor it does not read (no op runs in place). */
static int gate_forward(student *s, const wk_tensor *x, const wk_tensor *logit, const wk_tensor *warp,
                        const wk_tensor *mask, wk_tensor *out, char *err, size_t n)
{
    wk_backend *be = s->be;
    return wk_sigmoid(be, logit, &s->gate, err, n) || wk_mul(be, &s->gate, mask, &s->gate_masked, err, n) ||
           wk_axpby(be, -1.0f, x, 1.0f, warp, &s->diff, err, n) ||
           wk_mul(be, &s->diff, &s->gate_masked, &s->base, err, n) || wk_add(be, x, &s->base, out, err, n);
}

/* Student.rgb_head: modulated final norm, unpatchify to C channels, then two
 * convs over [features, warp_prev, mask_prev (, warp_mem, mask_mem)], added
 * to the masked warp; the input image holds the conditioning in that order.
 * With gates, two more conv outputs blend that towards the previous-frame
 * warp, then the memory warp. */
static int rgb_head_forward(student *s, const student_pass_in *in, char *err, size_t n)
{
    wk_backend *be = s->be;
    const model_config *cfg = &s->cfg;
    const int64_t D = cfg->dim, N = cfg->tokens, H = cfg->image, HW = H * H, C = cfg->head_channels;
    wk_modulation mf = {&s->fada, N, 2 * D, 0, D};
    /* zeroed: a view that was never made (an earlier one failed) releases as a no-op */
    wk_tensor feat, cond_dst, cond_src, warp, mask, y_rgb, y_gates[2], warp_mem, mask_mem;
    wk_tensor *views[] = {&feat, &cond_dst, &cond_src, &warp, &mask, &y_rgb, &y_gates[0], &y_gates[1], &warp_mem,
                          &mask_mem};
    for (size_t i = 0; i < sizeof views / sizeof views[0]; i++)
        memset(views[i], 0, sizeof *views[i]);
    int gates = cfg->head_gates;
    int rc = wk_tensor_view(be, &s->head_img, 0, H, H, C, 1, &feat, err, n) ||
             wk_tensor_view(be, &s->head_img, C * HW, H, H, cfg->head_cond, 1, &cond_dst, err, n) ||
             wk_tensor_view(be, in->image, 3 * HW, H, H, cfg->head_cond, 1, &cond_src, err, n) ||
             wk_tensor_view(be, in->image, 3 * HW, H, H, 3, 1, &warp, err, n) ||
             wk_tensor_view(be, in->image, 6 * HW, H, H, 1, 1, &mask, err, n) ||
             wk_tensor_view(be, &s->head_y, 0, H, H, 3, 1, &y_rgb, err, n);
    if (!rc && gates)
        rc = wk_tensor_view(be, &s->head_y, 3 * HW, H, H, 1, 1, &y_gates[0], err, n) ||
             wk_tensor_view(be, &s->head_y, 4 * HW, H, H, 1, 1, &y_gates[1], err, n) ||
             wk_tensor_view(be, in->image, 7 * HW, H, H, 3, 1, &warp_mem, err, n) ||
             wk_tensor_view(be, in->image, 10 * HW, H, H, 1, 1, &mask_mem, err, n);
    rc = rc || linear(s, &s->w.final_ada, &s->sc, WK_ACT_NONE, NULL, NULL, &s->fada, err, n) ||
         wk_norm(be, WK_NORM_LAYER, &s->x[0], NULL, NULL, &mf, 1e-6f, &s->h, err, n) ||
         linear(s, &s->w.rgb_proj, &s->h, WK_ACT_NONE, NULL, NULL, &s->head_tok, err, n) ||
         wk_unpatchify(be, &s->head_tok, cfg->patch, &feat, err, n) || wk_copy(be, &cond_src, &cond_dst, err, n) ||
         conv3x3(s, &s->w.rgb_conv1, &s->head_img, WK_ACT_GELU, &s->head_mid, err, n) ||
         (cfg->head_unet && unet_forward(s, &s->head_mid, &s->head_sum, err, n)) ||
         conv3x3(s, &s->w.rgb_conv2, cfg->head_unet ? &s->head_sum : &s->head_mid, WK_ACT_NONE, &s->head_y, err, n) ||
         wk_mul(be, &warp, &mask, &s->base, err, n) ||
         wk_add(be, &s->base, &y_rgb, gates ? &s->gen : in->out, err, n);
    if (gates)
        rc = rc || gate_forward(s, &s->gen, &y_gates[0], &warp, &mask, &s->blend, err, n) ||
             gate_forward(s, &s->blend, &y_gates[1], &warp_mem, &mask_mem, in->out, err, n);
    for (size_t i = 0; i < sizeof views / sizeof views[0]; i++)
        wk_tensor_view_release(be, views[i]);
    return rc ? -1 : 0;
}

/* Records the network over one frame; see student.h. */
int student_pass(student *s, const student_pass_in *in, wk_tensor *const *k_arena, wk_tensor *const *v_arena,
                 char *err, size_t n)
{
    wk_backend *be = s->be;
    const model_config *cfg = &s->cfg;
    const int64_t N = cfg->tokens;
    if (s->slot >= STUDENT_SLOTS) {
        snprintf(err, n, "more than %d student passes in one batch", STUDENT_SLOTS);
        return -1;
    }
    if (in->source_count < 0 || in->source_count > STUDENT_MAX_SOURCES) {
        snprintf(err, n, "a pass reads at most %d sources", STUDENT_MAX_SOURCES);
        return -1;
    }
    pass_slot *ps = &s->slots[s->slot++];

    /* host-side inputs: noise-level embedding, motion, sources */
    float temb[4096], feats[(STUDENT_MAX_SOURCES + 1) * COND_SOURCE_FEATURES];
    uint32_t *rows = s->rows, *groups = s->groups;
    if (cfg->t_freq > 4096) {
        snprintf(err, n, "t_freq %d is larger than this engine supports", cfg->t_freq);
        return -1;
    }
    cond_timestep(in->t, cfg->t_freq, temb);
    cond_source_features(in->pose, in->pose, COND_SRC_SELF, feats);
    int64_t keys = 0, arena_rows = k_arena[0]->ne[1];
    for (int64_t r = 0; r < N; r++, keys++) {
        rows[keys] = (uint32_t)r;
        groups[keys] = 0;
    }
    for (int i = 0; i < in->source_count; i++) {
        const student_source *src = &in->sources[i];
        if (src->row < N || src->row + src->rows > arena_rows || keys + src->rows > MAX_ARENA_KEYS) {
            snprintf(err, n, "source %d (rows %lld..%lld) lies outside the arena's context rows", i,
                     (long long)src->row, (long long)(src->row + src->rows));
            return -1;
        }
        cond_source_features(src->pose, in->pose, src->type, feats + (i + 1) * COND_SOURCE_FEATURES);
        for (int64_t r = 0; r < src->rows; r++, keys++) {
            rows[keys] = (uint32_t)(src->row + r);
            groups[keys] = (uint32_t)(i + 1);
        }
    }
    /* unused source slots stay zero: no key reads their offsets. The row
     * lists are views (storage bindings hold no Vulkan object, so they can
     * be released once recorded); feats and gemb are read as texel buffers,
     * whose views live with the full tensors. */
    for (int i = in->source_count + 1; i <= STUDENT_MAX_SOURCES; i++)
        memset(feats + i * COND_SOURCE_FEATURES, 0, sizeof(float) * COND_SOURCE_FEATURES);
    wk_tensor rows_t, groups_t;
    if (wk_tensor_set(be, &ps->temb, temb, err, n) || wk_tensor_set(be, &ps->motion, in->motion, err, n) ||
        wk_tensor_set(be, &ps->feats, feats, err, n) || wk_tensor_set_u32(be, &ps->rows, rows, err, n) ||
        wk_tensor_set_u32(be, &ps->groups, groups, err, n) ||
        wk_tensor_view(be, &ps->rows, 0, keys, 1, 1, 1, &rows_t, err, n) ||
        wk_tensor_view(be, &ps->groups, 0, keys, 1, 1, 1, &groups_t, err, n))
        return -1;

    int rc = embed_forward(s, in, err, n) || cond_forward(s, ps, err, n);
    for (int l = 0; !rc && l < cfg->depth; l++)
        rc = block_forward(s, l, ps, &rows_t, &groups_t, k_arena, v_arena, err, n);
    wk_tensor_view_release(be, &rows_t);
    wk_tensor_view_release(be, &groups_t);
    if (rc)
        return -1;
    return in->head == STUDENT_HEAD_DEPTH ? depth_head_forward(s, in, err, n) : rgb_head_forward(s, in, err, n);
}

int student_clean(student *s, const student_frame_in *in, wk_tensor *const *k_arena, wk_tensor *const *v_arena,
                  char *err, size_t n)
{
    student_pass_in p = {in->image, 0.0f, {0}, {0}, in->sources, in->source_count, STUDENT_HEAD_DEPTH, in->log_depth};
    memcpy(p.motion, in->motion, sizeof p.motion);
    memcpy(p.pose, in->pose, sizeof p.pose);
    return student_pass(s, &p, k_arena, v_arena, err, n);
}

int student_generate(student *s, const student_frame_in *in, wk_tensor *const *k_arena, wk_tensor *const *v_arena,
                     char *err, size_t n)
{
    const model_config *c = &s->cfg;
    const int64_t h = c->image;
    wk_tensor xt;
    if (wk_tensor_view(s->be, in->image, STUDENT_CH_XT * h * h, h, h, 3, 1, &xt, err, n) != 0)
        return -1;
    int rc = 0;
    wk_set_label(s->be, "denoise");
    for (int i = 0; !rc && i < in->steps; i++) {
        student_pass_in p = {in->image, c->schedule[i], {0}, {0}, in->sources, in->source_count, STUDENT_HEAD_RGB,
                             in->x0};
        memcpy(p.motion, in->motion, sizeof p.motion);
        memcpy(p.pose, in->pose, sizeof p.pose);
        rc = student_pass(s, &p, k_arena, v_arena, err, n) || wk_clamp(s->be, in->x0, -1.0f, 1.0f, in->x0c, err, n);
        if (!rc && i + 1 < in->steps) /* re-noise to the next level */
            rc = wk_axpby(s->be, 1.0f - c->schedule[i + 1], in->x0c, c->schedule[i + 1], &in->noise[i + 1], &xt, err,
                          n);
    }
    rc = rc || wk_copy(s->be, in->x0c, &xt, err, n);
    wk_set_label(s->be, "kv_pass");
    rc = rc || student_clean(s, in, k_arena, v_arena, err, n);
    wk_tensor_view_release(s->be, &xt);
    return rc ? -1 : 0;
}

const model_config *student_config(const student *s)
{
    return &s->cfg;
}

int student_compress(void *ctx, int index, const wk_tensor *k, const wk_tensor *v, wk_tensor *k_out,
                     wk_tensor *v_out, char *err, size_t n)
{
    student *s = ctx;
    const model_config *c = &s->cfg;
    int64_t side = c->image / c->patch, out_side = side / c->compress;
    const student_block *b = &s->w.blocks[index];
    /* the token rows [D, side * side] read as a channels-last grid [D, side, side] */
    wk_tensor kg = *k, vg = *v, ko = *k_out, vo = *v_out;
    kg.ne[1] = vg.ne[1] = side, kg.ne[2] = vg.ne[2] = side;
    ko.ne[1] = vo.ne[1] = out_side, ko.ne[2] = vo.ne[2] = out_side;
    wk_conv_params cp = {c->compress, c->compress, 0, c->heads, 1, WK_ACT_NONE};
    return wk_conv2d(s->be, &kg, &b->comp_k.weight, &b->comp_k.bias, &cp, &ko, err, n) ||
                   wk_conv2d(s->be, &vg, &b->comp_v.weight, &b->comp_v.bias, &cp, &vo, err, n)
               ? -1
               : 0;
}

/* The same count as tools/train/export.py's params_and_flops. */
double student_gflop_per_frame(const model_config *c, int steps)
{
    double n = c->tokens, d = c->dim, p2 = (double)c->patch * c->patch, img2 = (double)c->image * c->image;
    double ctx = n + n + c->window * n + c->memory_k * n / (c->compress * c->compress);
    double block = 2 * n * (d * 6 * d / n + d * 3 * d + d * d + 2.0 * c->mlp_ratio * d * d) + 2 * 2 * n * ctx * d;
    double embed = 2 * n * STUDENT_IN_CHANNELS * p2 * d;
    double head = 2 * n * d * p2 * c->head_channels +
                  2 * img2 * 9 * ((c->head_channels + c->head_cond) * 32 + 32 * (3 + c->head_gates));
    if (c->head_unet) /* down1, down2, mid, up2 and up1, each at its own resolution */
        head += 2 * img2 * 9 * (32 * 48 / 4.0 + 48 * 64 / 16.0 + 64 * 64 / 16.0 + 64 * 48 / 4.0 + 48 * 32);
    double depth_head = 2 * n * d * p2 * 8 + 2 * img2 * 9 * (8 * 8 + 8);
    double compress = 2 * 2 * (n / (c->compress * c->compress)) * d * (d / c->heads) * c->compress * c->compress *
                      c->depth;
    return (steps * (embed + c->depth * block + head) + embed + c->depth * block + depth_head + compress) / 1e9;
}
