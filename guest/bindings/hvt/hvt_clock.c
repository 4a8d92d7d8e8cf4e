/* hvt_clock.c: monotonic and wall clocks from the TSC, without a hypercall per reading. */
#include "hvt.h"

#define NS_PER_SEC 1000000000ULL

/*
 * The helper paired one guest TSC reading (tsc_base) with the host's clocks
 * and told us the TSC frequency KVM runs the vCPU at (include/sn_abi.h).
 * Time is the base plus the ticks since, converted with a 32.32 fixed-point
 * nanoseconds-per-tick factor: one multiply, no division per reading.
 * 10^9 << 32 fits in 64 bits, so the factor needs no 128-bit division
 * (which would pull in libgcc); the product is 128-bit, the shift brings it
 * back. The factor is exact to about 1 part in 2^31, far below the
 * frequency's own kHz resolution.
 */
static uint64_t tsc_base;
static uint64_t mono_base;
static uint64_t wall_base;
static uint64_t ns_per_tick_32;

void hvt_clock_init(const struct sn_bootinfo *bi)
{
    tsc_base = bi->tsc_base;
    mono_base = bi->mono_base_ns;
    wall_base = bi->wall_base_ns;
    ns_per_tick_32 = (NS_PER_SEC << 32) / bi->tsc_freq;
}

static inline uint64_t rdtsc(void)
{
    uint32_t lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return ((uint64_t)hi << 32) | lo;
}

static uint64_t ns_since_base(void)
{
    uint64_t now = rdtsc();
    /* The TSC only moves forward on one vCPU; a reading below the base would be the helper's error. */
    uint64_t ticks = now > tsc_base ? now - tsc_base : 0;
    return (uint64_t)(((unsigned __int128)ticks * ns_per_tick_32) >> 32);
}

solo5_time_t solo5_clock_monotonic(void)
{
    return mono_base + ns_since_base();
}

solo5_time_t solo5_clock_wall(void)
{
    return wall_base + ns_since_base();
}
