#include "student_weights.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Sizes the declarations refer to, resolved from the config. */
typedef enum size_sym {
    Z_DIM, Z_DIM2, Z_DIM3, Z_DIM6, Z_MLP, Z_TFREQ, Z_MOTION, Z_SRC, Z_IN_PATCH, Z_TOKENS, Z_RGB_PATCH,
    Z_DEPTH_PATCH, Z_HEAD_IN, Z_HEAD_OUT, Z_PER_HEAD, Z_COMPRESS, Z_64, Z_48, Z_32, Z_8, Z_3, Z_1
} size_sym;

static long long size_of(const model_config *c, size_sym z)
{
    long long d = c->dim, p2 = (long long)c->patch * c->patch;
    switch (z) {
    case Z_DIM: return d;
    case Z_DIM2: return 2 * d;
    case Z_DIM3: return 3 * d;
    case Z_DIM6: return 6 * d;
    case Z_MLP: return (long long)c->mlp_ratio * d;
    case Z_TFREQ: return c->t_freq;
    case Z_MOTION: return STUDENT_MOTION_FEATURES;
    case Z_SRC: return STUDENT_SOURCE_FEATURES;
    case Z_IN_PATCH: return STUDENT_IN_CHANNELS * p2;
    case Z_TOKENS: return c->tokens;
    case Z_RGB_PATCH: return p2 * c->head_channels;
    case Z_DEPTH_PATCH: return p2 * 8;
    case Z_HEAD_IN: return (long long)c->head_channels + c->head_cond;
    case Z_HEAD_OUT: return 3LL + c->head_gates;
    case Z_PER_HEAD: return d / c->heads;
    case Z_COMPRESS: return c->compress;
    case Z_64: return 64;
    case Z_48: return 48;
    case Z_32: return 32;
    case Z_8: return 8;
    case Z_3: return 3;
    case Z_1: return 1;
    }
    return 0;
}

/* LINEAR3: a Linear whose output rows split into three (qkv). BLOCKS marks
 * where model.py's blocks come in the file's order. UNET_CONV: a conv of
 * the head's U-Net, there only with head_unet. */
typedef enum decl_kind { LINEAR, LINEAR3, CONV, PARAM, BLOCKS, UNET_CONV } decl_kind;

typedef struct decl {
    const char *name;
    decl_kind kind;
    size_t offset; /* into student_weights, or student_block for block entries */
    size_sym in, out, k; /* CONV: in is per group; PARAM: the file's [out, in] */
} decl;

#define TOP(field) offsetof(student_weights, field)
#define BLK(field) offsetof(student_block, field)

/* The module tree of tools/train/model.py, in its order. */
static const decl top[] = {
    {"embed", LINEAR, TOP(embed), Z_IN_PATCH, Z_DIM, Z_1},
    {"pos", PARAM, TOP(pos), Z_DIM, Z_TOKENS, Z_1},
    {"t_embed1", LINEAR, TOP(t_embed1), Z_TFREQ, Z_DIM, Z_1},
    {"t_embed2", LINEAR, TOP(t_embed2), Z_DIM, Z_DIM, Z_1},
    {"cam_embed", LINEAR, TOP(cam_embed), Z_MOTION, Z_DIM, Z_1},
    {"blocks", BLOCKS, 0, Z_1, Z_1, Z_1},
    {"final_ada", LINEAR, TOP(final_ada), Z_DIM, Z_DIM2, Z_1},
    {"rgb_proj", LINEAR, TOP(rgb_proj), Z_DIM, Z_RGB_PATCH, Z_1},
    {"rgb_conv1", CONV, TOP(rgb_conv1), Z_HEAD_IN, Z_32, Z_3},
    {"unet.down1", UNET_CONV, TOP(unet.down1), Z_32, Z_48, Z_3},
    {"unet.down2", UNET_CONV, TOP(unet.down2), Z_48, Z_64, Z_3},
    {"unet.mid", UNET_CONV, TOP(unet.mid), Z_64, Z_64, Z_3},
    {"unet.up2", UNET_CONV, TOP(unet.up2), Z_64, Z_48, Z_3},
    {"unet.up1", UNET_CONV, TOP(unet.up1), Z_48, Z_32, Z_3},
    {"rgb_conv2", CONV, TOP(rgb_conv2), Z_32, Z_HEAD_OUT, Z_3},
    {"depth_proj", LINEAR, TOP(depth_proj), Z_DIM, Z_DEPTH_PATCH, Z_1},
    {"depth_conv1", CONV, TOP(depth_conv1), Z_8, Z_8, Z_3},
    {"depth_conv2", CONV, TOP(depth_conv2), Z_8, Z_1, Z_3},
};

static const decl block[] = {
    {"ada", LINEAR, BLK(ada), Z_DIM, Z_DIM6, Z_1},
    {"qkv", LINEAR3, BLK(qkv), Z_DIM, Z_DIM3, Z_1},
    {"proj", LINEAR, BLK(proj), Z_DIM, Z_DIM, Z_1},
    {"src_embed", LINEAR, BLK(src_embed), Z_SRC, Z_DIM, Z_1},
    {"fc1", LINEAR, BLK(fc1), Z_DIM, Z_MLP, Z_1},
    {"fc2", LINEAR, BLK(fc2), Z_MLP, Z_DIM, Z_1},
    {"comp_k", CONV, BLK(comp_k), Z_PER_HEAD, Z_DIM, Z_COMPRESS},
    {"comp_v", CONV, BLK(comp_v), Z_PER_HEAD, Z_DIM, Z_COMPRESS},
};

#define COUNT(a) (int)(sizeof(a) / sizeof((a)[0]))

/* Visits every declaration with its full name and the struct it lives in. */
typedef int (*visit_fn)(void *ctx, const decl *d, const char *name, void *base);

static int walk(const model_config *c, student_weights *w, visit_fn fn, void *ctx)
{
    char name[ST_MAX_NAME];
    for (int i = 0; i < COUNT(top); i++) {
        if (top[i].kind == UNET_CONV && !c->head_unet)
            continue;
        if (top[i].kind != BLOCKS) {
            if (fn(ctx, &top[i], top[i].name, w))
                return -1;
            continue;
        }
        for (int l = 0; l < c->depth; l++)
            for (int j = 0; j < COUNT(block); j++) {
                snprintf(name, sizeof name, "blocks.%d.%s", l, block[j].name);
                if (fn(ctx, &block[j], name, w && w->blocks ? (void *)&w->blocks[l] : NULL))
                    return -1;
            }
    }
    return 0;
}

/* -- specs and the file check --------------------------------------------- */
typedef struct spec_walk {
    const model_config *c;
    student_weight_spec *out;
    int max, n;
} spec_walk;

static void add(spec_walk *s, const char *name, const char *tail, int ndim, long long a, long long b, long long c,
                long long d)
{
    if (s->n < s->max) {
        student_weight_spec *sp = &s->out[s->n];
        if (snprintf(sp->name, sizeof sp->name, "%s%s", name, tail) >= (int)sizeof sp->name)
            sp->name[0] = 0; /* cannot happen: model.py's names are short */
        sp->ndim = ndim;
        sp->shape[0] = a, sp->shape[1] = b, sp->shape[2] = c, sp->shape[3] = d;
    }
    s->n++;
}

static int spec_visit(void *ctx, const decl *d, const char *name, void *base)
{
    (void)base;
    spec_walk *s = ctx;
    long long in = size_of(s->c, d->in), out = size_of(s->c, d->out), k = size_of(s->c, d->k);
    if (d->kind == PARAM) {
        add(s, name, "", 2, out, in, 0, 0);
    } else if (d->kind == CONV || d->kind == UNET_CONV) {
        add(s, name, ".weight", 4, out, in, k, k);
        add(s, name, ".bias", 1, out, 0, 0, 0);
    } else {
        add(s, name, ".weight", 2, out, in, 0, 0);
        add(s, name, ".bias", 1, out, 0, 0, 0);
    }
    return 0;
}

int student_weight_specs(const model_config *c, student_weight_spec *out, int max)
{
    spec_walk s = {c, out, max, 0};
    walk(c, NULL, spec_visit, &s);
    return s.n;
}

int student_check_weights(const st_file *f, const model_config *c, const char *prefix, char *err, size_t err_size)
{
    int n = student_weight_specs(c, NULL, 0);
    student_weight_spec *specs = malloc(sizeof *specs * (size_t)n);
    if (!specs) {
        snprintf(err, err_size, "out of memory");
        return -1;
    }
    student_weight_specs(c, specs, n);
    int status = 0;
    for (int i = 0; i < n; i++) {
        char name[ST_MAX_NAME + 32];
        int64_t shape[4] = {specs[i].shape[0], specs[i].shape[1], specs[i].shape[2], specs[i].shape[3]};
        const st_tensor *t;
        snprintf(name, sizeof name, "%s%s", prefix, specs[i].name);
        if (st_expect(f, name, ST_F32, specs[i].ndim, shape, &t, err, err_size) != 0) {
            status = -1;
            break;
        }
        /* NaN or infinity in a weight turns every frame black: refuse the file */
        size_t count = (size_t)((t->end - t->begin) / sizeof(float));
        for (size_t j = 0; j < count; j++) {
            float v;
            memcpy(&v, (const char *)t->data + j * sizeof v, sizeof v);
            if (!isfinite(v)) {
                snprintf(err, err_size, "tensor '%s' holds %s at element %zu: the model file is damaged", name,
                         isnan(v) ? "NaN" : "an infinity", j);
                status = -1;
                break;
            }
        }
        if (status)
            break;
    }
    free(specs);
    return status;
}

/* -- upload and free ------------------------------------------------------------- */
typedef struct load_walk {
    wk_backend *be;
    const st_file *f;
    const model_config *c;
    const char *prefix;
    char *err;
    size_t err_size;
} load_walk;

/* count floats of the named tensor from float `first`, into t shaped ne */
static int upload(load_walk *lw, const char *name, const char *tail, int64_t first, wk_tensor *t, int64_t ne0,
                  int64_t ne1, int64_t ne2, int64_t ne3)
{
    char full[ST_MAX_NAME + 40];
    snprintf(full, sizeof full, "%s%s%s", lw->prefix, name, tail);
    const st_tensor *st = st_find(lw->f, full);
    uint64_t need = (uint64_t)(first + ne0 * ne1 * ne2 * ne3) * sizeof(float);
    if (!st || st->dtype != ST_F32 || st->end - st->begin < need) { /* the caller skipped student_check_weights */
        snprintf(lw->err, lw->err_size, "tensor '%s' is missing or too small (run student_check_weights first)", full);
        return -1;
    }
    if (wk_tensor_alloc(lw->be, t, ne0, ne1, ne2, ne3, lw->err, lw->err_size) != 0)
        return -1;
    return wk_tensor_set(lw->be, t, (const float *)st->data + first, lw->err, lw->err_size);
}

static int load_visit(void *ctx, const decl *d, const char *name, void *base)
{
    load_walk *lw = ctx;
    long long in = size_of(lw->c, d->in), out = size_of(lw->c, d->out), k = size_of(lw->c, d->k);
    void *field = (char *)base + d->offset;
    if (d->kind == PARAM)
        return upload(lw, name, "", 0, field, in, out, 1, 1);
    if (d->kind == CONV || d->kind == UNET_CONV) {
        nn_conv2d *cv = field;
        return upload(lw, name, ".weight", 0, &cv->weight, k, k, in, out) ||
                       upload(lw, name, ".bias", 0, &cv->bias, out, 1, 1, 1)
                   ? -1
                   : 0;
    }
    int parts = d->kind == LINEAR3 ? 3 : 1;
    long long rows = out / parts;
    for (int p = 0; p < parts; p++) {
        nn_linear *li = (nn_linear *)field + p;
        if (upload(lw, name, ".weight", p * rows * in, &li->weight, in, rows, 1, 1) ||
            upload(lw, name, ".bias", p * rows, &li->bias, rows, 1, 1, 1))
            return -1;
    }
    return 0;
}

typedef struct free_walk {
    wk_backend *be;
} free_walk;

static int free_visit(void *ctx, const decl *d, const char *name, void *base)
{
    (void)name;
    free_walk *fw = ctx;
    if (!base)
        return 0;
    void *field = (char *)base + d->offset;
    if (d->kind == PARAM) {
        wk_tensor_free(fw->be, field);
        return 0;
    }
    int parts = d->kind == LINEAR3 ? 3 : 1;
    for (int p = 0; p < parts; p++) { /* nn_linear and nn_conv2d are both {weight, bias} */
        nn_linear *li = (nn_linear *)field + p;
        wk_tensor_free(fw->be, &li->bias);
        wk_tensor_free(fw->be, &li->weight);
    }
    return 0;
}

int student_weights_load(wk_backend *be, const st_file *f, const model_config *c, const char *prefix,
                         student_weights *w, char *err, size_t err_size)
{
    memset(w, 0, sizeof *w);
    if (!(w->blocks = calloc((size_t)c->depth, sizeof *w->blocks))) {
        snprintf(err, err_size, "out of memory");
        return -1;
    }
    load_walk lw = {be, f, c, prefix, err, err_size};
    if (walk(c, w, load_visit, &lw) != 0) {
        student_weights_free(be, c, w);
        return -1;
    }
    return 0;
}

void student_weights_free(wk_backend *be, const model_config *c, student_weights *w)
{
    free_walk fw = {be};
    if (w->blocks)
        walk(c, w, free_visit, &fw);
    free(w->blocks);
    memset(w, 0, sizeof *w);
}
