/* helper_hvt_debug.h: the run loop's hooks into solo5-helper-debug's debug channel (helper_hvt_debug.c). */
#ifndef HELPER_HVT_DEBUG_H
#define HELPER_HVT_DEBUG_H

#include "helper_hvt.h"

typedef __attribute__((noreturn)) void (*hvt_abort_fn)(const char *what, int with_value, uint64_t value);

/* Before the first KVM_RUN: with SN_PLAN_F_GDB, report the stop at the entry and serve requests until one says run. */
void hvt_debug_begin(const struct hvt_vm *vm);
/* KVM_EXIT_DEBUG: report the stop and serve requests until one says run (a stray one aborts the guest). */
void hvt_debug_trap(const struct kvm_run *run, hvt_abort_fn abort);
/* SN_HVT_TRAP: keep the frame for the core; under gdb, stop there and resume from it. */
void hvt_debug_guest_trap(uint64_t frame_gpa);
/* The guest ends with `status`: hand the tender its registers (for the core and for gdb's W reply). */
void hvt_debug_exit(int status);

#endif /* HELPER_HVT_DEBUG_H */
