#include "ops_ref.h"

#include <math.h>

float ref_act(double x, int act)
{
    if (act == 1)
        return (float)(0.5 * x * (1.0 + tanh(0.7978845608028654 * (x + 0.044715 * x * x * x))));
    if (act == 2)
        return (float)(x / (1.0 + exp(-x)));
    return (float)x;
}

void ref_matmul(const float *a, const float *w, const float *bias, const float *res, int act, int64_t batch,
                int64_t M, int64_t N, int64_t K, float *out)
{
    for (int64_t b = 0; b < batch; b++)
        for (int64_t m = 0; m < M; m++)
            for (int64_t n = 0; n < N; n++) {
                double s = bias ? bias[n] : 0.0;
                for (int64_t k = 0; k < K; k++)
                    s += (double)a[(b * M + m) * K + k] * (double)w[n * K + k];
                double v = ref_act(s, act);
                if (res)
                    v += res[(b * M + m) * N + n];
                out[(b * M + m) * N + n] = (float)v;
            }
}
