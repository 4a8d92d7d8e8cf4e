/* ssp.c: the stack protector's canary and failure path, shared by every bindings (ring and Solo5 ABI). */
#include "bindings.h"

/*
 * Everything is compiled with -fstack-protector-strong
 * -mstack-protector-guard=global, so the canary is this global rather than
 * the %fs:0x28 slot a libc would provide: the thread pointer belongs to the
 * application (solo5_set_tls_base), and the guest may run with none at all.
 *
 * The initial value only matters until sn_ssp_init() runs, first thing at
 * boot, from functions built without a canary.
 */
uintptr_t __stack_chk_guard = 0x00e1f0d5a7c0de00ULL;

void sn_ssp_init(uint64_t random)
{
    /*
     * A zero low byte stops string overflows (strcpy and friends stop at
     * NUL) from reproducing the canary; the rest comes from the caller's
     * entropy (the tender's on the ring ABI, the TSC on the Solo5 ABI).
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
