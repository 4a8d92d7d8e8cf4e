/* helper_hvt_debug_vcpu.h: inside solo5-helper-debug: what the debug channel (helper_hvt_debug.c) does to the vCPU and guest memory. */
#ifndef HELPER_HVT_DEBUG_VCPU_H
#define HELPER_HVT_DEBUG_VCPU_H

#include "helper_hvt_debug.h"
#include "sn_hvt_debug.h"

#define RFLAGS_TF (1ULL << 8)

/* The vCPU and memory hvt_debug_begin was given. */
extern struct hvt_debug_target dbg_tgt;

void dbg_memcpy(void *dst, const void *src, uint64_t n);
void dbg_memset(void *dst, int c, uint64_t n);
/* The vCPU's registers as gdb and a core want them (all zero if KVM refuses). */
void dbg_get_regs(struct sn_dbg_regs *r);
/* The general registers, rip and rflags from `r`; 0 when KVM refuses. */
int dbg_set_regs(const struct sn_dbg_regs *r);
/* Untrusted (the tender relays gdb's numbers): [gpa, gpa + len) in [mem_low, mem_size), or 0. */
uint8_t *dbg_range(uint64_t gpa, uint64_t len);
/* KVM_SET_GUEST_DEBUG: single-step if `step`, the hardware breakpoints, int3 interception if `sw_bp`; 0 when KVM refuses. */
int dbg_apply(int step, int sw_bp);
/* One instruction, then a stop; `sw_bp` as for dbg_apply. */
int dbg_step(int sw_bp);
/* Hardware breakpoint slots (< SN_DBG_HWBP_MAX, checked by the caller), applied by the next dbg_apply. */
void dbg_hwbp_set(unsigned slot, uint64_t addr);
void dbg_hwbp_clear(unsigned slot);
void dbg_hwbp_clear_all(void);
/* Finish a pending MMIO or I/O exit without running the guest, so that registers read or written now stay. */
void dbg_complete_exit(void);

#endif /* HELPER_HVT_DEBUG_VCPU_H */
