/* detmath: trigonometry that gives the same bits on every IEEE-754 machine.
 * libm's sin/cos/atan2 may differ in the last ulp between C libraries, which
 * would break "same seed, same bytes". These use only + - * / and sqrt in
 * double precision (the world library is built with -ffp-contract=off). */
#ifndef WORLDKV_DETMATH_H
#define WORLDKV_DETMATH_H

#define DM_PI 3.14159265358979323846

double dm_sin_deg(double degrees);
double dm_cos_deg(double degrees);
/* Angle in degrees of the vector (y, x), in (-180, 180], like atan2. */
double dm_atan2_deg(double y, double x);
/* Wraps an angle in degrees into (-180, 180]. */
double dm_wrap_deg(double degrees);

#endif
