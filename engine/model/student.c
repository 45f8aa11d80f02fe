#include "student.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "student_weights.h"

#define MAX_ARENA_KEYS 8192

typedef struct layer {
    wk_tensor ada_w, ada_b, wq, wk, wv, bq, bk, bv, proj_w, proj_b, src_w, src_b, fc1_w, fc1_b, fc2_w, fc2_b;
    wk_tensor ck_w, ck_b, cv_w, cv_b;
} layer;

typedef struct pass_slot { /* the small per-pass inputs uploaded from the host */
    wk_tensor temb, motion, feats, rows, groups;
} pass_slot;

struct student {
    wk_backend *be;
    model_config cfg;
    wk_tensor embed_w, embed_b, pos, t1_w, t1_b, t2_w, t2_b, cam_w, cam_b, fada_w, fada_b;
    wk_tensor rgb_proj_w, rgb_proj_b, rgb_c1_w, rgb_c1_b, rgb_c2_w, rgb_c2_b;
    wk_tensor dproj_w, dproj_b, dc1_w, dc1_b, dc2_w, dc2_b;
    layer *layers;
    /* activations, allocated once */
    wk_tensor tokens, x[2], h, q, attn, mlp, t1, cam, c, sc, ada, fada, gemb, head_tok, head_img, head_mid, head_y, base;
    wk_tensor depth_tok, depth_img, depth_mid, depth_raw;
    pass_slot slots[STUDENT_SLOTS];
    int slot;
    uint32_t rows[MAX_ARENA_KEYS], groups[MAX_ARENA_KEYS]; /* host staging of a pass's key list */
    int trace;
    wk_tensor trace_embed, trace_cond, *trace_blocks;
};

/* Uploads a tensor shaped ne from the named weight, starting at its row r0
 * (a slice of a 2-D weight, or 0 for all of it). */
static int upload(student *s, const st_file *f, const char *prefix, const char *name, int64_t r0, wk_tensor *t,
                  int64_t ne0, int64_t ne1, int64_t ne2, int64_t ne3, char *err, size_t n)
{
    char full[ST_MAX_NAME + 32];
    snprintf(full, sizeof full, "%s%s", prefix, name);
    const st_tensor *st = st_find(f, full);
    if (!st) { /* student_check_weights ran first, so this is a bug */
        snprintf(err, n, "tensor '%s' is missing", full);
        return -1;
    }
    int64_t row_len = st->ndim >= 2 ? st_nelements(st) / st->shape[0] : 1;
    if (wk_tensor_alloc(s->be, t, ne0, ne1, ne2, ne3, err, n) != 0)
        return -1;
    return wk_tensor_set(s->be, t, (const float *)st->data + r0 * row_len, err, n);
}

#define LOAD(t, name, ne0, ne1, ne2, ne3)                                                                              \
    do {                                                                                                               \
        if (upload(s, f, prefix, name, 0, &(t), ne0, ne1, ne2, ne3, err, n) != 0)                                   \
            goto fail;                                                                                                 \
    } while (0)

static int alloc(student *s, wk_tensor *t, int64_t ne0, int64_t ne1, int64_t ne2, char *err, size_t n)
{
    return wk_tensor_alloc(s->be, t, ne0, ne1, ne2, 1, err, n);
}

int student_create(wk_backend *be, const st_file *f, const model_config *cfg, const char *prefix, int trace,
                   student **out, char *err, size_t n)
{
    *out = NULL;
    if (student_check_weights(f, cfg, prefix, err, n) != 0)
        return -1;
    student *s = calloc(1, sizeof *s);
    if (!s || !(s->layers = calloc((size_t)cfg->depth, sizeof(layer)))) {
        free(s);
        snprintf(err, n, "out of memory");
        return -1;
    }
    s->be = be;
    s->cfg = *cfg;
    s->trace = trace;
    const int64_t D = cfg->dim, N = cfg->tokens, P2 = (int64_t)cfg->patch * cfg->patch, C = cfg->head_channels;
    const int64_t H = cfg->image, M = (int64_t)cfg->mlp_ratio * D, cg = D / cfg->heads, k = cfg->compress;
    char name[96];
    LOAD(s->embed_w, "embed.weight", STUDENT_IN_CHANNELS * P2, D, 1, 1);
    LOAD(s->embed_b, "embed.bias", D, 1, 1, 1);
    LOAD(s->pos, "pos", D, N, 1, 1);
    LOAD(s->t1_w, "t_embed1.weight", cfg->t_freq, D, 1, 1);
    LOAD(s->t1_b, "t_embed1.bias", D, 1, 1, 1);
    LOAD(s->t2_w, "t_embed2.weight", D, D, 1, 1);
    LOAD(s->t2_b, "t_embed2.bias", D, 1, 1, 1);
    LOAD(s->cam_w, "cam_embed.weight", COND_MOTION_FEATURES, D, 1, 1);
    LOAD(s->cam_b, "cam_embed.bias", D, 1, 1, 1);
    for (int l = 0; l < cfg->depth; l++) {
        layer *L = &s->layers[l];
#define LAYER(t, field, ne0, ne1, ne2, ne3)                                                                            \
    snprintf(name, sizeof name, "blocks.%d.%s", l, field);                                                             \
    LOAD(t, name, ne0, ne1, ne2, ne3)
        LAYER(L->ada_w, "ada.weight", D, 6 * D, 1, 1);
        LAYER(L->ada_b, "ada.bias", 6 * D, 1, 1, 1);
        /* qkv splits into three matmuls, so k and v land straight in the arenas */
        snprintf(name, sizeof name, "blocks.%d.qkv.weight", l);
        if (upload(s, f, prefix, name, 0, &L->wq, D, D, 1, 1, err, n) ||
            upload(s, f, prefix, name, D, &L->wk, D, D, 1, 1, err, n) ||
            upload(s, f, prefix, name, 2 * D, &L->wv, D, D, 1, 1, err, n))
            goto fail;
        {
            char full[ST_MAX_NAME + 32];
            snprintf(full, sizeof full, "%sblocks.%d.qkv.bias", prefix, l);
            const float *bias = st_find(f, full)->data; /* present: checked above */
            if (alloc(s, &L->bq, D, 1, 1, err, n) || wk_tensor_set(be, &L->bq, bias, err, n) ||
                alloc(s, &L->bk, D, 1, 1, err, n) || wk_tensor_set(be, &L->bk, bias + D, err, n) ||
                alloc(s, &L->bv, D, 1, 1, err, n) || wk_tensor_set(be, &L->bv, bias + 2 * D, err, n))
                goto fail;
        }
        LAYER(L->proj_w, "proj.weight", D, D, 1, 1);
        LAYER(L->proj_b, "proj.bias", D, 1, 1, 1);
        LAYER(L->src_w, "src_embed.weight", COND_SOURCE_FEATURES, D, 1, 1);
        LAYER(L->src_b, "src_embed.bias", D, 1, 1, 1);
        LAYER(L->fc1_w, "fc1.weight", D, M, 1, 1);
        LAYER(L->fc1_b, "fc1.bias", M, 1, 1, 1);
        LAYER(L->fc2_w, "fc2.weight", M, D, 1, 1);
        LAYER(L->fc2_b, "fc2.bias", D, 1, 1, 1);
        LAYER(L->ck_w, "comp_k.weight", k, k, cg, D);
        LAYER(L->ck_b, "comp_k.bias", D, 1, 1, 1);
        LAYER(L->cv_w, "comp_v.weight", k, k, cg, D);
        LAYER(L->cv_b, "comp_v.bias", D, 1, 1, 1);
#undef LAYER
    }
    LOAD(s->fada_w, "final_ada.weight", D, 2 * D, 1, 1);
    LOAD(s->fada_b, "final_ada.bias", 2 * D, 1, 1, 1);
    LOAD(s->rgb_proj_w, "rgb_proj.weight", D, P2 * C, 1, 1);
    LOAD(s->rgb_proj_b, "rgb_proj.bias", P2 * C, 1, 1, 1);
    LOAD(s->rgb_c1_w, "rgb_conv1.weight", 3, 3, C + cfg->head_cond, 32);
    LOAD(s->rgb_c1_b, "rgb_conv1.bias", 32, 1, 1, 1);
    LOAD(s->rgb_c2_w, "rgb_conv2.weight", 3, 3, 32, 3);
    LOAD(s->rgb_c2_b, "rgb_conv2.bias", 3, 1, 1, 1);
    LOAD(s->dproj_w, "depth_proj.weight", D, P2 * 8, 1, 1);
    LOAD(s->dproj_b, "depth_proj.bias", P2 * 8, 1, 1, 1);
    LOAD(s->dc1_w, "depth_conv1.weight", 3, 3, 8, 8);
    LOAD(s->dc1_b, "depth_conv1.bias", 8, 1, 1, 1);
    LOAD(s->dc2_w, "depth_conv2.weight", 3, 3, 8, 1);
    LOAD(s->dc2_b, "depth_conv2.bias", 1, 1, 1, 1);

    if (alloc(s, &s->tokens, STUDENT_IN_CHANNELS * P2, N, 1, err, n) || alloc(s, &s->x[0], D, N, 1, err, n) ||
        alloc(s, &s->x[1], D, N, 1, err, n) || alloc(s, &s->h, D, N, 1, err, n) || alloc(s, &s->q, D, N, 1, err, n) ||
        alloc(s, &s->attn, D, N, 1, err, n) || alloc(s, &s->mlp, M, N, 1, err, n) || alloc(s, &s->t1, D, 1, 1, err, n) ||
        alloc(s, &s->cam, D, 1, 1, err, n) || alloc(s, &s->c, D, 1, 1, err, n) || alloc(s, &s->sc, D, 1, 1, err, n) ||
        alloc(s, &s->ada, 6 * D, 1, 1, err, n) || alloc(s, &s->fada, 2 * D, 1, 1, err, n) ||
        alloc(s, &s->gemb, D, STUDENT_MAX_SOURCES + 1, 1, err, n) || alloc(s, &s->head_tok, P2 * C, N, 1, err, n) ||
        alloc(s, &s->head_img, H, H, C + cfg->head_cond, err, n) || alloc(s, &s->head_mid, H, H, 32, err, n) ||
        alloc(s, &s->head_y, H, H, 3, err, n) || alloc(s, &s->base, H, H, 3, err, n) ||
        alloc(s, &s->depth_tok, P2 * 8, N, 1, err, n) || alloc(s, &s->depth_img, H, H, 8, err, n) ||
        alloc(s, &s->depth_mid, H, H, 8, err, n) || alloc(s, &s->depth_raw, H, H, 1, err, n))
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
    /* every tensor is a slice of the backend's blocks: freeing is cheap and
     * in any order; release the texel views they hold */
    wk_tensor *all[] = {&s->embed_w, &s->embed_b, &s->pos, &s->t1_w, &s->t1_b, &s->t2_w, &s->t2_b, &s->cam_w,
                        &s->cam_b, &s->fada_w, &s->fada_b, &s->rgb_proj_w, &s->rgb_proj_b, &s->rgb_c1_w,
                        &s->rgb_c1_b, &s->rgb_c2_w, &s->rgb_c2_b, &s->dproj_w, &s->dproj_b, &s->dc1_w, &s->dc1_b,
                        &s->dc2_w, &s->dc2_b, &s->tokens, &s->x[0], &s->x[1], &s->h, &s->q, &s->attn, &s->mlp,
                        &s->t1, &s->cam, &s->c, &s->sc, &s->ada, &s->fada, &s->gemb, &s->head_tok, &s->head_img,
                        &s->head_mid, &s->head_y, &s->base, &s->depth_tok, &s->depth_img, &s->depth_mid,
                        &s->depth_raw, &s->trace_embed, &s->trace_cond};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        wk_tensor_free(be, all[i]);
    for (int i = 0; i < STUDENT_SLOTS; i++) {
        pass_slot *p = &s->slots[i];
        wk_tensor_free(be, &p->temb), wk_tensor_free(be, &p->motion), wk_tensor_free(be, &p->feats);
        wk_tensor_free(be, &p->rows), wk_tensor_free(be, &p->groups);
    }
    for (int l = 0; s->layers && l < s->cfg.depth; l++) {
        layer *L = &s->layers[l];
        wk_tensor *lt[] = {&L->ada_w, &L->ada_b, &L->wq,    &L->wk,    &L->wv,    &L->bq,    &L->bk,
                           &L->bv,    &L->proj_w, &L->proj_b, &L->src_w, &L->src_b, &L->fc1_w, &L->fc1_b,
                           &L->fc2_w, &L->fc2_b, &L->ck_w,  &L->ck_b,  &L->cv_w,  &L->cv_b};
        for (size_t i = 0; i < sizeof lt / sizeof lt[0]; i++)
            wk_tensor_free(be, lt[i]);
        if (s->trace_blocks)
            wk_tensor_free(be, &s->trace_blocks[l]);
    }
    free(s->trace_blocks);
    free(s->layers);
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

/* Records the network over one frame; see student.h. */
int student_pass(student *s, const student_pass_in *in, wk_tensor *const *k_arena, wk_tensor *const *v_arena,
                 char *err, size_t n)
{
    wk_backend *be = s->be;
    const model_config *cfg = &s->cfg;
    const int64_t D = cfg->dim, N = cfg->tokens, H = cfg->image, HW = H * H, C = cfg->head_channels;
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

    /* tokens and conditioning */
    if (wk_patchify(be, in->image, cfg->patch, &s->tokens, err, n) ||
        wk_matmul(be, &s->tokens, &s->embed_w, &s->embed_b, &s->pos, WK_ACT_NONE, &s->x[0], err, n) ||
        wk_matmul(be, &ps->temb, &s->t1_w, &s->t1_b, NULL, WK_ACT_SILU, &s->t1, err, n) ||
        wk_matmul(be, &ps->motion, &s->cam_w, &s->cam_b, NULL, WK_ACT_NONE, &s->cam, err, n) ||
        wk_matmul(be, &s->t1, &s->t2_w, &s->t2_b, &s->cam, WK_ACT_NONE, &s->c, err, n) ||
        wk_silu(be, &s->c, &s->sc, err, n))
        return -1;
    if (s->trace && (wk_copy(be, &s->x[0], &s->trace_embed, err, n) || wk_copy(be, &s->c, &s->trace_cond, err, n)))
        return -1;

    float scale = 1.0f / sqrtf((float)(D / cfg->heads));
    for (int l = 0; l < cfg->depth; l++) {
        layer *L = &s->layers[l];
        wk_tensor kcur, vcur;
        wk_modulation m1 = {&s->ada, N, 6 * D, 0, D}, m2 = {&s->ada, N, 6 * D, 3 * D, 4 * D};
        wk_gate g1 = {&s->ada, 0, 2 * D}, g2 = {&s->ada, 0, 5 * D};
        if (wk_tensor_view(be, k_arena[l], 0, D, N, 1, 1, &kcur, err, n) ||
            wk_tensor_view(be, v_arena[l], 0, D, N, 1, 1, &vcur, err, n))
            return -1;
        int rc = wk_matmul(be, &s->sc, &L->ada_w, &L->ada_b, NULL, WK_ACT_NONE, &s->ada, err, n) ||
                 wk_norm(be, WK_NORM_LAYER, &s->x[0], NULL, NULL, &m1, 1e-6f, &s->h, err, n) ||
                 wk_matmul(be, &s->h, &L->wq, &L->bq, NULL, WK_ACT_NONE, &s->q, err, n) ||
                 wk_matmul(be, &s->h, &L->wk, &L->bk, NULL, WK_ACT_NONE, &kcur, err, n) ||
                 wk_matmul(be, &s->h, &L->wv, &L->bv, NULL, WK_ACT_NONE, &vcur, err, n) ||
                 wk_matmul(be, &ps->feats, &L->src_w, &L->src_b, NULL, WK_ACT_NONE, &s->gemb, err, n) ||
                 wk_attention(be, &s->q, k_arena[l], v_arena[l], &rows_t, &groups_t, &s->gemb, cfg->heads, scale,
                              &s->attn, err, n) ||
                 wk_matmul_gated(be, &s->attn, &L->proj_w, &L->proj_b, &s->x[0], WK_ACT_NONE, &g1, &s->x[1], err, n) ||
                 wk_norm(be, WK_NORM_LAYER, &s->x[1], NULL, NULL, &m2, 1e-6f, &s->h, err, n) ||
                 wk_matmul(be, &s->h, &L->fc1_w, &L->fc1_b, NULL, WK_ACT_GELU, &s->mlp, err, n) ||
                 wk_matmul_gated(be, &s->mlp, &L->fc2_w, &L->fc2_b, &s->x[1], WK_ACT_NONE, &g2, &s->x[0], err, n) ||
                 (s->trace && wk_copy(be, &s->x[0], &s->trace_blocks[l], err, n));
        wk_tensor_view_release(be, &kcur);
        wk_tensor_view_release(be, &vcur);
        if (rc) {
            wk_tensor_view_release(be, &rows_t), wk_tensor_view_release(be, &groups_t);
            return -1;
        }
    }
    wk_tensor_view_release(be, &rows_t);
    wk_tensor_view_release(be, &groups_t);

    if (in->head == STUDENT_HEAD_DEPTH) {
        return wk_norm(be, WK_NORM_LAYER, &s->x[0], NULL, NULL, NULL, 1e-6f, &s->h, err, n) ||
                       wk_matmul(be, &s->h, &s->dproj_w, &s->dproj_b, NULL, WK_ACT_NONE, &s->depth_tok, err, n) ||
                       wk_unpatchify(be, &s->depth_tok, cfg->patch, &s->depth_img, err, n) ||
                       wk_conv2d(be, &s->depth_img, &s->dc1_w, &s->dc1_b, &(wk_conv_params){3, 1, 1, 1, 0, WK_ACT_GELU},
                                 &s->depth_mid, err, n) ||
                       wk_conv2d(be, &s->depth_mid, &s->dc2_w, &s->dc2_b, &(wk_conv_params){3, 1, 1, 1, 0, WK_ACT_NONE},
                                 &s->depth_raw, err, n) ||
                       wk_clamp(be, &s->depth_raw, logf(0.1f), logf(100.0f), in->out, err, n)
                   ? -1
                   : 0;
    }
    /* rgb: modulated final norm, unpatchify to C channels, then two convs
     * over [features, warp_prev, mask_prev (, warp_mem, mask_mem)], added to
     * the masked warp; the input image holds the conditioning in that order */
    wk_modulation mf = {&s->fada, N, 2 * D, 0, D};
    wk_tensor feat, cond_dst, cond_src, warp, mask;
    int rc = wk_tensor_view(be, &s->head_img, 0, H, H, C, 1, &feat, err, n) ||
             wk_tensor_view(be, &s->head_img, C * HW, H, H, cfg->head_cond, 1, &cond_dst, err, n) ||
             wk_tensor_view(be, in->image, 3 * HW, H, H, cfg->head_cond, 1, &cond_src, err, n) ||
             wk_tensor_view(be, in->image, 3 * HW, H, H, 3, 1, &warp, err, n) ||
             wk_tensor_view(be, in->image, 6 * HW, H, H, 1, 1, &mask, err, n);
    rc = rc || wk_matmul(be, &s->sc, &s->fada_w, &s->fada_b, NULL, WK_ACT_NONE, &s->fada, err, n) ||
         wk_norm(be, WK_NORM_LAYER, &s->x[0], NULL, NULL, &mf, 1e-6f, &s->h, err, n) ||
         wk_matmul(be, &s->h, &s->rgb_proj_w, &s->rgb_proj_b, NULL, WK_ACT_NONE, &s->head_tok, err, n) ||
         wk_unpatchify(be, &s->head_tok, cfg->patch, &feat, err, n) || wk_copy(be, &cond_src, &cond_dst, err, n) ||
         wk_conv2d(be, &s->head_img, &s->rgb_c1_w, &s->rgb_c1_b, &(wk_conv_params){3, 1, 1, 1, 0, WK_ACT_GELU},
                   &s->head_mid, err, n) ||
         wk_conv2d(be, &s->head_mid, &s->rgb_c2_w, &s->rgb_c2_b, &(wk_conv_params){3, 1, 1, 1, 0, WK_ACT_NONE},
                   &s->head_y, err, n) ||
         wk_mul(be, &warp, &mask, &s->base, err, n) || wk_add(be, &s->base, &s->head_y, in->out, err, n);
    wk_tensor_view_release(be, &feat), wk_tensor_view_release(be, &cond_dst), wk_tensor_view_release(be, &cond_src);
    wk_tensor_view_release(be, &warp), wk_tensor_view_release(be, &mask);
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
    const layer *L = &s->layers[index];
    /* the token rows [D, side * side] read as a channels-last grid [D, side, side] */
    wk_tensor kg = *k, vg = *v, ko = *k_out, vo = *v_out;
    kg.ne[1] = vg.ne[1] = side, kg.ne[2] = vg.ne[2] = side;
    ko.ne[1] = vo.ne[1] = out_side, ko.ne[2] = vo.ne[2] = out_side;
    wk_conv_params cp = {c->compress, c->compress, 0, c->heads, 1, WK_ACT_NONE};
    return wk_conv2d(s->be, &kg, &L->ck_w, &L->ck_b, &cp, &ko, err, n) ||
                   wk_conv2d(s->be, &vg, &L->cv_w, &L->cv_b, &cp, &vo, err, n)
               ? -1
               : 0;
}
