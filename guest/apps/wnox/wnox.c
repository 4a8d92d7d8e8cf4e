/* wnox.c: jumps into writable data; data pages are never executable, so the guest must fault. */
#include "solo5.h"
#include "sn_printf.h"

/*
 * A complete little function in .data: mov $42, %eax; ret. If the data
 * segment were executable, calling it would return 42.
 */
static uint8_t code[16] = { 0xb8, 0x2a, 0x00, 0x00, 0x00, 0xc3 };

int solo5_app_main(const struct solo5_start_info *si)
{
    (void)si;
    int (*volatile fn)(void) = (int (*)(void))(uintptr_t)code;

    sn_puts("wnox: calling code in the data segment (expect a fault)\n");
    int r = fn();
    sn_printf("wnox: data was executable (returned %d)\nFAILURE\n", r);
    return SOLO5_EXIT_FAILURE;
}
