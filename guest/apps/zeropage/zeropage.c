/* zeropage.c: reads through a NULL pointer (or, with "above", the first byte above guest memory); neither is mapped, so the guest must fault. */
#include "solo5.h"
#include "sn_printf.h"

int solo5_app_main(const struct solo5_start_info *si)
{
    /* volatile: a NULL dereference is undefined, and the compiler may drop or trap it otherwise. */
    volatile const uint64_t *volatile null = (volatile const uint64_t *)0;
    /*
     * On the Solo5 ABIs the heap runs to the top of guest memory (the stack
     * grows down into it), so this is the first byte above memory; on the
     * ring ABI the stack lies there, so "above" is for Solo5-ABI builds.
     */
    if (si->cmdline[0] == 'a')
        null = (volatile const uint64_t *)(si->heap_start + si->heap_size);

    sn_printf("zeropage: reading address 0x%lx (expect a fault)\n", (unsigned long)(uintptr_t)null);
    uint64_t v = *null;
    sn_printf("zeropage: read 0x%llx from address 0x%lx\nFAILURE\n", (unsigned long long)v,
              (unsigned long)(uintptr_t)null);
    return SOLO5_EXIT_FAILURE;
}
