/* ssp.c: overruns a stack buffer; the stack protector must catch it on return and abort with ABORT. */
#include "solo5.h"
#include "sn_printf.h"

/* volatile: the overrun length must not be visible to the compiler, or it would refuse to build this. */
static volatile size_t overrun = 64;

static void __attribute__((noinline)) smash(size_t n)
{
    char buf[16];
    volatile char *p = buf;

    /* Past the end of buf: over the canary and the saved return address. */
    for (size_t i = 0; i < n; i++)
        p[i] = 'A';
}

int solo5_app_main(const struct solo5_start_info *si)
{
    (void)si;
    sn_printf("ssp: writing %zu bytes into a 16-byte stack buffer (expect ABORT)\n", overrun);
    smash(overrun);
    sn_puts("ssp: returned through a smashed stack\nFAILURE\n");
    return SOLO5_EXIT_FAILURE;
}
