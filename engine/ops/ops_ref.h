/* ops_ref: scalar C references of every op, accumulating in double. The op
 * tests compare each shader against these. Shapes follow backend.h. */
#ifndef WORLDKV_OPS_REF_H
#define WORLDKV_OPS_REF_H

#include <stdint.h>

float ref_act(double x, int act);
/* out[b, M, N] = act(a[b, M, K] . w[N, K]^T + bias[N]) + res[b, M, N] */
void ref_matmul(const float *a, const float *w, const float *bias, const float *res, int act, int64_t batch,
                int64_t M, int64_t N, int64_t K, float *out);

#endif
