/* fpu.c: checks SSE arithmetic in the guest: packed and scalar, float and double. */
#include "solo5.h"
#include "sn_printf.h"

/*
 * The spt guest is an ordinary Linux process, so SSE works as on the host;
 * this guards against bindings or a tender that leave the FPU state broken
 * (or a stack so misaligned that aligned SSE moves fault). The values are
 * chosen to be exact in binary floating point, so == is the right test.
 */
typedef float v4sf __attribute__((vector_size(16)));
typedef double v2df __attribute__((vector_size(16)));

static volatile float fa = 3.5f, fb = 0.25f;
static volatile double da = 1024.0, db = 0.125;

int solo5_app_main(const struct solo5_start_info *si)
{
    (void)si;
    int ok = 1;

    /* Packed single precision through explicit SSE instructions. */
    v4sf x = { 1.0f, 2.0f, 3.0f, 4.0f };
    v4sf y = { 0.5f, 0.5f, 2.0f, -1.0f };
    v4sf sum, prod;
    __asm__("movaps %1, %0\n\taddps %2, %0" : "=&x"(sum) : "x"(x), "x"(y));
    __asm__("movaps %1, %0\n\tmulps %2, %0" : "=&x"(prod) : "x"(x), "x"(y));
    ok &= sum[0] == 1.5f && sum[1] == 2.5f && sum[2] == 5.0f && sum[3] == 3.0f;
    ok &= prod[0] == 0.5f && prod[1] == 1.0f && prod[2] == 6.0f && prod[3] == -4.0f;

    /* Packed double precision, vectorised by the compiler. */
    v2df p = { da, db };
    v2df q = p * p + p;
    ok &= q[0] == 1049600.0 && q[1] == 0.140625;

    /* Scalar arithmetic, division and square root. */
    float f = (fa * fb + 1.0f) / 2.0f;
    ok &= f == 0.9375f;
    double s;
    __asm__("sqrtsd %1, %0" : "=x"(s) : "x"(da));
    ok &= s == 32.0;

    if (!ok) {
        sn_puts("FAILURE\n");
        return SOLO5_EXIT_FAILURE;
    }
    sn_puts("SUCCESS\n");
    return SOLO5_EXIT_SUCCESS;
}
