/* half: IEEE 754 binary16 conversions (round to nearest even), for f16
 * tensors and .npy depth maps. */
#ifndef WORLDKV_HALF_H
#define WORLDKV_HALF_H

#include <stdint.h>

uint16_t half_from_float(float f);
float half_to_float(uint16_t h);

#endif
