/* detmath against libm: the same values to within a few ulp, and exact at
 * the angles a camera path often holds. */
#include <math.h>

#include "../test_util.h"
#include "detmath.h"

int main(void)
{
    for (int i = -7200; i <= 7200; i++) {
        double deg = i * 0.37;
        double rad = deg * (DM_PI / 180.0);
        CHECK_NEAR(dm_sin_deg(deg), sin(rad), 1e-14);
        CHECK_NEAR(dm_cos_deg(deg), cos(rad), 1e-14);
    }
    for (int k = -8; k <= 8; k++) {
        CHECK(dm_sin_deg(90.0 * k) == (k % 2 == 0 ? 0.0 : (((k % 4) + 4) % 4 == 1 ? 1.0 : -1.0)));
        CHECK(dm_cos_deg(90.0 * k) == (k % 2 != 0 ? 0.0 : (((k % 4) + 4) % 4 == 0 ? 1.0 : -1.0)));
    }
    for (int i = 0; i < 2000; i++) {
        double y = sin(i * 0.7) * (1 + i % 13), x = cos(i * 1.3) * (1 + i % 7);
        CHECK_NEAR(dm_atan2_deg(y, x), atan2(y, x) * (180.0 / DM_PI), 1e-12);
    }
    CHECK(dm_atan2_deg(0.0, -1.0) == 180.0);
    CHECK(dm_atan2_deg(1.0, 0.0) == 90.0);
    CHECK(dm_atan2_deg(0.0, 0.0) == 0.0);
    CHECK(dm_wrap_deg(180.0) == 180.0);
    CHECK(dm_wrap_deg(-180.0) == 180.0);
    CHECK(dm_wrap_deg(190.0) == -170.0);
    CHECK(dm_wrap_deg(-725.0) == -5.0);
    return test_finish("test_detmath");
}
