/* hvt.h: what the hvt platform files share: the hypercall store, the trap frame, clock start-up. */
#ifndef SN_HVT_H
#define SN_HVT_H

#include "bindings.h"
#include "sn_hvt_abi.h"

/*
 * One hypercall: a single 64-bit store of a general register to the call's
 * slot on the hypercall page, which exits to the helper (sn_hvt_abi.h).
 * Written as assembly so that it is exactly one plain `mov` through a
 * register, the form every hypervisor's MMIO emulation decodes; the memory
 * clobber makes the compiler store an argument struct before the call and
 * reload it after.
 */
static inline void hvt_hypercall(unsigned call, uint64_t value)
{
    uint64_t slot = SN_HVT_HYPERCALL_SLOT(call);
    __asm__ volatile("movq %1, (%0)" : : "r"(slot), "r"(value) : "memory");
}

/* What hvt_traps.S saves on the trap stack: the helper reads it too (SN_HVT_TRAP). */
#define hvt_trap_frame sn_hvt_trap_frame

/* hvt_trap.c: report a CPU exception or system call and abort; runs in ring 3 on its own stack. */
void hvt_trap(const struct hvt_trap_frame *f) __attribute__((noreturn));

/* hvt_clock.c: take the TSC frequency and the clock bases from the boot info (tsc_freq != 0). */
void hvt_clock_init(const struct sn_bootinfo *bi);

#endif /* SN_HVT_H */
