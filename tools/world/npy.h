/* npy: headers of NumPy's .npy format (version 1.0), so that numpy.load
 * reads our arrays with no extra packages. The data follows the header as
 * a plain little-endian, C-order array. */
#ifndef WORLDKV_NPY_H
#define WORLDKV_NPY_H

#include <stddef.h>
#include <stdint.h>

#define NPY_MAX_HEADER 256

/* Writes the header for an array of dtype descr ("|u1", "<f4", "<f2",
 * "<i4", "<u8") and shape into buf. Returns its length, a multiple of 64,
 * or 0 if it does not fit. */
size_t npy_header(uint8_t buf[NPY_MAX_HEADER], const char *descr, const int64_t *shape, int ndim);

#endif
