#include "detmath.h"

#include <math.h>

/* Taylor series on [0, pi/4]; terms up to x^17 keep the error below 1e-16. */
static double sin_poly(double x)
{
    double x2 = x * x, term = x, sum = x;
    for (int n = 1; n <= 8; n++) {
        term = -term * x2 / (double)((2 * n) * (2 * n + 1));
        sum += term;
    }
    return sum;
}

static double cos_poly(double x)
{
    double x2 = x * x, term = 1.0, sum = 1.0;
    for (int n = 1; n <= 8; n++) {
        term = -term * x2 / (double)((2 * n - 1) * (2 * n));
        sum += term;
    }
    return sum;
}

/* Reduces in degrees, where fmod is exact, so multiples of 90 come out exact. */
static void sincos_deg(double degrees, double *s, double *c)
{
    double d = fmod(degrees, 360.0);
    if (d < 0.0)
        d += 360.0;
    int quadrant = (int)(d / 90.0);
    if (quadrant > 3)
        quadrant = 3;
    double r = d - 90.0 * quadrant; /* [0, 90) */
    double sr, cr;
    if (r <= 45.0) {
        double x = r * (DM_PI / 180.0);
        sr = sin_poly(x);
        cr = cos_poly(x);
    } else {
        double x = (90.0 - r) * (DM_PI / 180.0);
        sr = cos_poly(x);
        cr = sin_poly(x);
    }
    switch (quadrant) {
    case 0: *s = sr; *c = cr; break;
    case 1: *s = cr; *c = -sr; break;
    case 2: *s = -sr; *c = -cr; break;
    default: *s = -cr; *c = sr; break;
    }
}

double dm_sin_deg(double degrees)
{
    double s, c;
    sincos_deg(degrees, &s, &c);
    return s;
}

double dm_cos_deg(double degrees)
{
    double s, c;
    sincos_deg(degrees, &s, &c);
    return c;
}

/* atan on [0, 1]: two half-angle reductions bring x under tan(pi/16), then
 * a Taylor series of 12 terms is exact to double precision. */
static double atan_unit(double x)
{
    for (int i = 0; i < 2; i++)
        x = x / (1.0 + sqrt(1.0 + x * x));
    double x2 = x * x, term = x, sum = x;
    for (int n = 1; n <= 12; n++) {
        term = -term * x2;
        sum += term / (double)(2 * n + 1);
    }
    return 4.0 * sum;
}

double dm_atan2_deg(double y, double x)
{
    if (x == 0.0 && y == 0.0)
        return 0.0;
    double ax = fabs(x), ay = fabs(y);
    double a = ay <= ax ? atan_unit(ay / ax) : DM_PI / 2.0 - atan_unit(ax / ay);
    if (x < 0.0)
        a = DM_PI - a;
    double deg = a * (180.0 / DM_PI);
    return y < 0.0 ? -deg : deg;
}

double dm_wrap_deg(double degrees)
{
    double d = fmod(degrees, 360.0);
    if (d > 180.0)
        d -= 360.0;
    else if (d <= -180.0)
        d += 360.0;
    return d;
}
