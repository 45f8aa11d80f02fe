// Shared by the compute shaders: activations (kept identical to the C
// references in engine/ops/ops_ref.c).
#define ACT_NONE 0
#define ACT_GELU 1
#define ACT_SILU 2

float act_apply(float x, int act)
{
    if (act == ACT_GELU)
        return 0.5 * x * (1.0 + tanh(0.7978845608028654 * (x + 0.044715 * x * x * x)));
    if (act == ACT_SILU)
        return x / (1.0 + exp(-x));
    return x;
}
