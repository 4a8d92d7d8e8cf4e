/* hvt_platform.c: console, exit, TLS and the device doorbells for hvt, each one hypercall. */
#include "hvt.h"
#include "platform.h"

void solo5_console_write(const char *buf, size_t size)
{
    /* The helper writes it all (or drops it all if the tender is gone); nothing to retry here. */
    struct sn_hvt_puts arg = { .addr = (uintptr_t)buf, .len = size };
    hvt_hypercall(SN_HVT_PUTS, (uintptr_t)&arg);
}

void sn_platform_exit(int status)
{
    /* The helper never resumes the vCPU after EXIT; the loop only keeps the compiler honest. */
    for (;;)
        hvt_hypercall(SN_HVT_EXIT, (uint32_t)status);
}

solo5_result_t solo5_set_tls_base(uintptr_t base)
{
    /* The helper sets it through KVM, which refuses a non-canonical base; so do we, as spt does. */
    if ((uint64_t)((int64_t)((uint64_t)base << 16) >> 16) != (uint64_t)base)
        return SOLO5_R_EINVAL;
    hvt_hypercall(SN_HVT_SET_TLS, base);
    return SOLO5_R_OK;
}

/* A hypercall to yield would cost a vCPU exit on every spin round (platform.h). */
void sn_platform_give_cpu(void)
{
}

/*
 * Twice the spt budget: a sleep here costs a vCPU exit, a wait in the helper
 * and a re-entry, ~45 µs more per tap echo than a spin that catches the
 * next frame on a PVM host, where a `pause` takes ~26 ns (docs/decisions.md).
 */
const uint32_t sn_platform_yield_polls = 2048;

void sn_platform_kick(void)
{
    hvt_hypercall(SN_HVT_KICK, 0);
}

void sn_platform_wait(solo5_time_t deadline)
{
    solo5_time_t now = solo5_clock_monotonic();

    if (deadline <= now)
        return;
    /* What is left by the guest's own clock (sn_hvt_abi.h says why not the deadline itself). */
    struct sn_hvt_wait arg = { .timeout_ns = deadline - now, .woken = 0, .reserved = 0 };
    hvt_hypercall(SN_HVT_WAIT, (uintptr_t)&arg);
}

/*
 * For hvt_traps.S's ring-0 fault path, which cannot use the C helpers: the
 * two hypercall slots it stores to and the line it prints, from here so that
 * the addresses come from sn_hvt_abi.h.
 */
static const char ring0_fault_msg[] = "Solo5: trap in ring 0 (descriptor tables changed?): ABORT\n";
const struct sn_hvt_puts hvt_ring0_fault_puts = { .addr = (uintptr_t)ring0_fault_msg,
                                                  .len = sizeof ring0_fault_msg - 1 };
const uint64_t hvt_ring0_fault_slots[2] = { SN_HVT_HYPERCALL_SLOT(SN_HVT_PUTS),
                                            SN_HVT_HYPERCALL_SLOT(SN_HVT_EXIT) };
