/* exit.c: how a guest ends: solo5_exit, solo5_abort and the stack protector's failure path. */
#include "rings.h"

void solo5_exit(int status)
{
    sn_net_flush();
    sn_log(SN_LOG_INFO, "exit with status %d", status);
    sn_platform_exit(status);
}

void solo5_abort(void)
{
    sn_log(SN_LOG_ERROR, "ABORT: solo5_abort() called");
    sn_platform_exit(SOLO5_EXIT_ABORT);
}

/*
 * Stack protector. Everything is compiled with
 * -fstack-protector-strong -mstack-protector-guard=global, so the canary is
 * this global rather than the %fs:0x28 slot a libc would provide: the thread
 * pointer belongs to the application (solo5_set_tls_base), and the guest may
 * run with none at all.
 *
 * The initial value only matters until sn_ssp_init() runs, first thing at
 * boot, from functions built without a canary.
 */
uintptr_t __stack_chk_guard = 0x00e1f0d5a7c0de00ULL;

void sn_ssp_init(uint64_t random)
{
    /*
     * A zero low byte stops string overflows (strcpy and friends stop at
     * NUL) from reproducing the canary; the rest comes from the tender.
     */
    uint64_t canary = random & ~(uint64_t)0xff;

    if (canary == 0)
        canary = __stack_chk_guard;
    __stack_chk_guard = canary;
}

void __stack_chk_fail(void) __attribute__((noreturn));

void __stack_chk_fail(void)
{
    /*
     * The stack is corrupt: print a fixed line (sn_log's buffer is on the
     * stack, but this frame is fresh and nothing returns through the
     * damaged one) and leave at once.
     */
    sn_log(SN_LOG_ERROR, "ABORT: stack smashing detected");
    sn_platform_exit(SOLO5_EXIT_ABORT);
}
