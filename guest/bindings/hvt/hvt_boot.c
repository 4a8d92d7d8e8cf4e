/* hvt_boot.c: the first C of an hvt unikernel, in ring 3: check the boot info, start the clocks, common boot. */
#include "hvt.h"

static void __attribute__((noreturn)) bad_bootinfo(const char *why)
{
    /* Nothing from the boot info can be trusted yet, so this ignores log levels. */
    static const char head[] = "Solo5: ABORT: bad boot info: ";
    solo5_console_write(head, sizeof head - 1);
    solo5_console_write(why, strlen(why));
    solo5_console_write("\n", 1);
    sn_platform_exit(SOLO5_EXIT_ABORT);
}

/*
 * Called from hvt_start.S in ring 3 with the helper's %rdi, once the
 * descriptor tables are loaded (so a fault here is reported, not a triple
 * fault). Built without a stack canary: it seeds the canary (see spt_boot.c
 * for the same reasoning). The FS base is already 0: the helper starts the
 * vCPU with it, so TLS accesses before solo5_set_tls_base() fault.
 */
void hvt_boot(const struct sn_bootinfo *bi) __attribute__((noreturn, no_stack_protector));

void hvt_boot(const struct sn_bootinfo *bi)
{
    const char *problem = sn_bootinfo_problem(bi, SN_ABI_TARGET_HVT);
    if (problem)
        bad_bootinfo(problem);
    if (bi->tsc_freq == 0)
        bad_bootinfo("no TSC frequency");

    sn_ssp_init(bi->random);
    hvt_clock_init(bi);
    sn_boot(bi, "hvt");
}
