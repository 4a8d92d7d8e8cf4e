/* tls.c: solo5_tls_size, solo5_tls_tp_offset and solo5_tls_init over the linker's TLS template (x86_64, variant II). */
#include "bindings.h"

/*
 * On x86_64 the TLS block ends at the thread pointer: the linker resolves a
 * __thread variable to (its offset in the template) - (template size
 * rounded up to the PT_TLS alignment), relative to %fs. The word at the
 * thread pointer holds the thread pointer itself, because compilers load
 * %fs:0 to take a TLS variable's address. So a block is
 *
 *   tls ... [slack] [tdata copy | zeroed tbss] tp: [tp] (8 bytes)
 *
 * with tp aligned to the template's alignment. The caller's memory need not
 * be aligned: the slack (at most align - 1 bytes) absorbs that, and
 * solo5_tls_tp_offset() finds the same tp again from the same `tls`.
 */

static uintptr_t tls_align(void)
{
    uintptr_t a = (uintptr_t)__sn_tls_align;

    return a == 0 ? 1 : a;
}

/* The template's size rounded up to its alignment: what the linker subtracts. */
static size_t tls_block(void)
{
    uintptr_t a = tls_align();
    size_t size = (size_t)(__sn_tbss_end - __sn_tdata_start);

    return (size + a - 1) & ~(a - 1);
}

size_t solo5_tls_size(void)
{
    return tls_block() + (tls_align() - 1) + sizeof(uintptr_t);
}

uintptr_t solo5_tls_tp_offset(uintptr_t tls)
{
    uintptr_t a = tls_align();

    return (tls + tls_block() + a - 1) & ~(a - 1);
}

solo5_result_t solo5_tls_init(uintptr_t tls)
{
    if (tls == 0)
        return SOLO5_R_EINVAL;
    uintptr_t tp = solo5_tls_tp_offset(tls);
    uint8_t *start = (uint8_t *)(tp - tls_block());
    size_t data = (size_t)(__sn_tdata_end - __sn_tdata_start);

    memset((void *)tls, 0, (size_t)(tp - tls));
    memcpy(start, __sn_tdata_start, data);
    *(uintptr_t *)tp = tp;
    return SOLO5_R_OK;
}
