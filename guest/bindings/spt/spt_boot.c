/* spt_boot.c: the C entry of an spt unikernel: checks the boot info, sets up the process, starts common boot. */
#include "bindings.h"
#include "spt_sys.h"

int spt_console_fd = SN_FD_CONSOLE;
int spt_wait_fd = SN_FD_WAIT;

static void __attribute__((noreturn)) bad_bootinfo(const char *why)
{
    /*
     * Nothing can be trusted yet, not even the console fd the boot info
     * names, so this goes to the fixed console fd and ignores log levels.
     */
    static const char head[] = "Solo5: ABORT: bad boot info: ";
    spt_syscall3(SPT_SYS_WRITE, SN_FD_CONSOLE, (long)head, sizeof head - 1);
    spt_syscall3(SPT_SYS_WRITE, SN_FD_CONSOLE, (long)why, (long)strlen(why));
    spt_syscall3(SPT_SYS_WRITE, SN_FD_CONSOLE, (long)"\n", 1);
    spt_exit_group(SOLO5_EXIT_ABORT);
}

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
        bad_bootinfo(problem);

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
