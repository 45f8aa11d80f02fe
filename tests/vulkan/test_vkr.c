/* The Vulkan runtime's own checks, below the backend interface (the one
 * test that includes vkr.h): a blob that is not SPIR-V is refused with a
 * clear message, and the validation layer stays silent. */
#include <stdio.h>

#include "../test_util.h"
#include "vkr.h"

/* The Vulkan runtime refuses a blob that is not SPIR-V. */
static void test_bogus_spirv(void)
{
    char err[512] = "";
    vkr_context *vk = NULL;
    vkr_options vo = {0};
    vo.validation = 1;
    if (vkr_create(&vo, &vk, err, sizeof err) != 0) {
        CHECK(!"a Vulkan context for the SPIR-V check");
        return;
    }
    vkr_pipeline *p = NULL;
    static const uint32_t not_spirv[8] = {0xdeadbeef, 1, 2, 3, 4, 5, 6, 7};
    vkr_pipeline_desc d = {0};
    d.name = "bogus";
    d.spirv = not_spirv;
    d.spirv_bytes = sizeof not_spirv;
    CHECK(vkr_pipeline_create(vk, &d, &p, err, sizeof err) == -1);
    CHECK_CONTAINS(err, "not SPIR-V");
    vkr_destroy(vk);
}

int main(void)
{
    test_bogus_spirv();
    uint32_t messages = vkr_total_validation_messages();
    printf("validation messages: %u\n", messages);
    CHECK(messages == 0);
    return test_finish("test_vkr");
}
