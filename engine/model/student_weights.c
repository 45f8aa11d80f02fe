#include "student_weights.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void add(student_weight_spec *out, int max, int *n, const char *name, int ndim, long long a, long long b,
                long long c, long long d)
{
    if (*n < max) {
        student_weight_spec *s = &out[*n];
        snprintf(s->name, sizeof s->name, "%s", name);
        s->ndim = ndim;
        s->shape[0] = a;
        s->shape[1] = b;
        s->shape[2] = c;
        s->shape[3] = d;
    }
    (*n)++;
}

/* A Linear(in, out): weight [out, in] and bias [out]. */
static void linear(student_weight_spec *o, int max, int *n, const char *name, long long in, long long out)
{
    char buf[ST_MAX_NAME];
    snprintf(buf, sizeof buf, "%s.weight", name);
    add(o, max, n, buf, 2, out, in, 0, 0);
    snprintf(buf, sizeof buf, "%s.bias", name);
    add(o, max, n, buf, 1, out, 0, 0, 0);
}

/* A Conv2d: weight [out, in / groups, k, k] and bias [out]. */
static void conv(student_weight_spec *o, int max, int *n, const char *name, long long in_per_group, long long out,
                 long long k)
{
    char buf[ST_MAX_NAME];
    snprintf(buf, sizeof buf, "%s.weight", name);
    add(o, max, n, buf, 4, out, in_per_group, k, k);
    snprintf(buf, sizeof buf, "%s.bias", name);
    add(o, max, n, buf, 1, out, 0, 0, 0);
}

int student_weight_specs(const model_config *c, student_weight_spec *out, int max)
{
    int n = 0;
    long long d = c->dim, p2 = (long long)c->patch * c->patch;
    linear(out, max, &n, "embed", STUDENT_IN_CHANNELS * p2, d);
    add(out, max, &n, "pos", 2, c->tokens, d, 0, 0);
    linear(out, max, &n, "t_embed1", c->t_freq, d);
    linear(out, max, &n, "t_embed2", d, d);
    linear(out, max, &n, "cam_embed", STUDENT_MOTION_FEATURES, d);
    for (int i = 0; i < c->depth; i++) {
        char b[64];
        static const char *lin[] = {"ada", "qkv", "proj", "src_embed", "fc1", "fc2"};
        long long ins[] = {d, d, d, STUDENT_SOURCE_FEATURES, d, (long long)c->mlp_ratio * d};
        long long outs[] = {6 * d, 3 * d, d, d, (long long)c->mlp_ratio * d, d};
        for (int k = 0; k < 6; k++) {
            snprintf(b, sizeof b, "blocks.%d.%s", i, lin[k]);
            linear(out, max, &n, b, ins[k], outs[k]);
        }
        snprintf(b, sizeof b, "blocks.%d.comp_k", i);
        conv(out, max, &n, b, d / c->heads, d, c->compress);
        snprintf(b, sizeof b, "blocks.%d.comp_v", i);
        conv(out, max, &n, b, d / c->heads, d, c->compress);
    }
    linear(out, max, &n, "final_ada", d, 2 * d);
    linear(out, max, &n, "rgb_proj", d, p2 * c->head_channels);
    conv(out, max, &n, "rgb_conv1", c->head_channels + c->head_cond, 32, 3);
    conv(out, max, &n, "rgb_conv2", 32, 3, 3);
    linear(out, max, &n, "depth_proj", d, p2 * 8);
    conv(out, max, &n, "depth_conv1", 8, 8, 3);
    conv(out, max, &n, "depth_conv2", 8, 1, 3);
    return n;
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
    }
    free(specs);
    return status;
}
