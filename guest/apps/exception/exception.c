/* exception.c: raises a CPU exception (general-protection fault); the guest must die, never continue. */
#include "solo5.h"
#include "sn_printf.h"

/*
 * Which exception: a load from a non-canonical address, which the CPU
 * refuses with #GP before any page table is consulted. On spt Linux delivers
 * #GP in user mode as SIGSEGV, so the tender reports 139. An invalid opcode
 * (ud2) would be the obvious choice, but Linux turns #UD into SIGILL (132);
 * a privileged instruction (hlt, cli) would also give #GP on spt but is
 * perfectly legal in a ring-0 hvt guest, whereas a non-canonical access
 * faults in every mode, so the same test serves both targets.
 */
int solo5_app_main(const struct solo5_start_info *si)
{
    (void)si;
    uint64_t v;

    sn_puts("exception: loading from a non-canonical address (expect a fault)\n");
    __asm__ volatile("movabsq $0x8000000000000000, %%rax\n\t"
                     "movq (%%rax), %0"
                     : "=r"(v)
                     :
                     : "rax", "memory");
    sn_printf("exception: the load returned 0x%llx\nFAILURE\n", (unsigned long long)v);
    return SOLO5_EXIT_FAILURE;
}
