/* gdtwrite.c: rewrites its own GDT from ring 3 (hvt: writable guest data), then faults, to show what a guest gets by it. */
#include "solo5.h"
#include "sn_printf.h"

/*
 * docs/hvt.md, "Ring 0 inside the VM is not a boundary": the GDT is the
 * guest's own writable data. This makes the user code descriptor (selector
 * 0x33, the 7th entry) DPL 0, then executes ud2. The exception reaches the
 * bindings' ring-0 stub, whose iretq back to ring 3 now faults in ring 0:
 * the stub must end the guest with one line and status 255, not loop.
 * On spt, sgdt gives Linux's placeholder (UMIP) or the host's table, which
 * the process cannot write: SIGSEGV.
 */
int solo5_app_main(const struct solo5_start_info *si)
{
    (void)si;
    struct __attribute__((packed)) {
        uint16_t limit;
        uint64_t base;
    } gdtr;
    __asm__ volatile("sgdt %0" : "=m"(gdtr));
    sn_printf("gdtwrite: GDT at 0x%lx, limit %u\n", (unsigned long)gdtr.base, (unsigned)gdtr.limit);
    volatile uint64_t *gdt = (volatile uint64_t *)(uintptr_t)gdtr.base;
    gdt[6] = 0x00af9b000000ffffULL;
    sn_puts("gdtwrite: rewritten; now a fault\n");
    __asm__ volatile("ud2");
    sn_puts("gdtwrite: still running\nFAILURE\n");
    return SOLO5_EXIT_FAILURE;
}
