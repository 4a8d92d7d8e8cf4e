/* spt_boot.c: the C entry of an spt unikernel: checks the boot info, sets up the process, starts common boot. */
#include "bindings.h"
#include "spt_sys.h"

int spt_console_fd = SN_FD_CONSOLE;
int spt_wait_fd = SN_FD_WAIT;

/*
 * Called from _start with the helper's %rdi. Built without a stack canary:
 * it is the function that seeds the canary, and a check on its way out would
 * compare against a different value from the one stored on the way in (it
 * never returns, but the compiler cannot be relied upon to drop the check).
 */
void spt_boot(const struct sn_bootinfo *bi) __attribute__((noreturn, no_stack_protector));

void spt_boot(const struct sn_bootinfo *bi)
{
    const char *problem = sn_bootinfo_problem(bi, SN_ABI_TARGET_SPT);
    if (problem)
        spt_bad_bootinfo(problem);

    sn_ssp_init(bi->random);
    spt_console_fd = bi->console_fd;
    spt_wait_fd = bi->wait_fd;

    /*
     * Start with no thread pointer, whatever the helper left in %fs: an
     * application that touches TLS before solo5_set_tls_base() must fault
     * (the notls test), not silently use the helper's memory.
     */
    spt_syscall2(SPT_SYS_ARCH_PRCTL, SPT_ARCH_SET_FS, 0);

    sn_boot(bi, "spt");
}
