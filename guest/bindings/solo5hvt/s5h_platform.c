/* s5h_platform.c: console, exit, TLS base and clocks of a Solo5-ABI hvt guest: PUTS, HALT, the gate, the TSC, WALLTIME. */
#include "s5h.h"

#define NS_PER_SEC 1000000000ULL

void solo5_console_write(const char *buf, size_t size)
{
    /* The tender writes all of it in one write(1); it checks the buffer itself and would end on a bad one. */
    if (size == 0 || !s5h_buf_ok((uintptr_t)buf, size, 0))
        return;
    struct sn_solo5_hvt_puts arg = { .data = (uintptr_t)buf, .len = size };
    s5h_hypercall(SN_SOLO5_HVT_HC_PUTS, &arg);
}

void s5h_halt(int status, void *cookie)
{
    struct sn_solo5_hvt_halt arg = { .cookie = (uintptr_t)cookie, .exit_status = status, .pad = 0 };
    /* The tender never resumes the vCPU after HALT; the loop only keeps the compiler honest. */
    for (;;)
        s5h_hypercall(SN_SOLO5_HVT_HC_HALT, &arg);
}

void sn_platform_exit(int status)
{
    s5h_ring_drain();
    s5h_halt(status, NULL);
}

void solo5_exit(int status)
{
    sn_log(SN_LOG_INFO, "exit with status %d", status);
    sn_platform_exit(status);
}

void solo5_abort(void)
{
    sn_log(SN_LOG_ERROR, "ABORT: solo5_abort() called");
    sn_platform_exit(SOLO5_EXIT_ABORT);
}

solo5_result_t solo5_set_tls_base(uintptr_t base)
{
    /* wrmsr faults on a non-canonical base; refuse it here, as the other targets do. */
    if ((uint64_t)((int64_t)((uint64_t)base << 16) >> 16) != (uint64_t)base)
        return SOLO5_R_EINVAL;
    s5h_set_fs_base(base);
    return SOLO5_R_OK;
}

/*
 * The monotonic clock is the TSC since boot, converted with a 32.32
 * fixed-point nanoseconds-per-tick factor (hvt/hvt_clock.c explains the
 * arithmetic; rdtsc runs natively in ring 3). The wall clock is a WALLTIME
 * hypercall on ABI 2, as upstream's bindings since 0.8 do; on ABI 1 it is
 * read once at boot and advanced by the TSC, as 0.6 and 0.7 did.
 */
static uint64_t tsc_base;
static uint64_t ns_per_tick_32;
static uint64_t wall_base;

uint64_t s5h_rdtsc(void)
{
    uint32_t lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return ((uint64_t)hi << 32) | lo;
}

static uint64_t walltime(void)
{
    struct sn_solo5_hvt_walltime arg = { .nsecs = 0 };
    s5h_hypercall(SN_SOLO5_HVT_HC_WALLTIME, &arg);
    return arg.nsecs;
}

void s5h_clock_init(uint64_t tsc_hz)
{
    tsc_base = s5h_rdtsc();
    ns_per_tick_32 = (NS_PER_SEC << 32) / tsc_hz;
    if (s5h_abi_version < SN_SOLO5_HVT_ABI_V2)
        wall_base = walltime();
}

solo5_time_t solo5_clock_monotonic(void)
{
    uint64_t now = s5h_rdtsc();
    uint64_t ticks = now > tsc_base ? now - tsc_base : 0;
    return (uint64_t)(((unsigned __int128)ticks * ns_per_tick_32) >> 32);
}

solo5_time_t solo5_clock_wall(void)
{
    if (s5h_abi_version >= SN_SOLO5_HVT_ABI_V2)
        return walltime();
    return wall_base + solo5_clock_monotonic();
}
