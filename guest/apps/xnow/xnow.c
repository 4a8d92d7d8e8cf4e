/* xnow.c: writes into its own code; text pages are never writable, so the guest must fault. */
#include "solo5.h"
#include "sn_printf.h"

__attribute__((noinline, used)) int target(int x)
{
    return x + 1;
}

int solo5_app_main(const struct solo5_start_info *si)
{
    (void)si;
    /* A function's first byte is in the text segment, mapped read+execute. */
    volatile uint8_t *code = (volatile uint8_t *)(uintptr_t)&target;

    sn_puts("xnow: writing into the text segment (expect a fault)\n");
    *code = 0xc3; /* ret */
    sn_printf("xnow: text was writable (target(1) = %d)\nFAILURE\n", target(1));
    return SOLO5_EXIT_FAILURE;
}
