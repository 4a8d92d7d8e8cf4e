/* zeropage.c: reads through a NULL pointer; page 0 is never mapped, so the guest must fault. */
#include "solo5.h"
#include "sn_printf.h"

int solo5_app_main(const struct solo5_start_info *si)
{
    (void)si;
    /* volatile: a NULL dereference is undefined, and the compiler may drop or trap it otherwise. */
    volatile const uint64_t *volatile null = (volatile const uint64_t *)0;

    sn_puts("zeropage: reading address 0 (expect a fault)\n");
    uint64_t v = *null;
    sn_printf("zeropage: read 0x%llx from address 0\nFAILURE\n", (unsigned long long)v);
    return SOLO5_EXIT_FAILURE;
}
