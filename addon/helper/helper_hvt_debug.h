/* helper_hvt_debug.h: the run loops' hooks into solo5-helper-debug's debug channel (helper_hvt_debug.c). */
#ifndef HELPER_HVT_DEBUG_H
#define HELPER_HVT_DEBUG_H

#include "helper_hvt.h"

typedef __attribute__((noreturn)) void (*hvt_abort_fn)(const char *what, int with_value, uint64_t value);

/* What the debug side may touch: the same memory and vCPU as the run loop of either guest ABI. */
struct hvt_debug_target {
    uint8_t *mem;
    uint64_t mem_size;
    uint64_t mem_low;    /* gdb reads and writes [mem_low, mem_size) only */
    int vcpu_fd;
    struct kvm_run *run;
    uint32_t ndoorbells, ndevfds, flags; /* the plan's: where the debug socket is, and whether it is on */
    int ring0; /* a Solo5-ABI guest (upstream's run in ring 0): int3 and steps are KVM's, it has no SN_HVT_TRAP */
};

/* Before the first KVM_RUN: with SN_PLAN_F_GDB, report the stop at the entry and serve requests until one says run. */
void hvt_debug_begin(const struct hvt_debug_target *t);
/* KVM_EXIT_DEBUG: report the stop and serve requests until one says run (a stray one aborts the guest). */
void hvt_debug_trap(const struct kvm_run *run, hvt_abort_fn abort);
/* SN_HVT_TRAP: keep the frame for the core; under gdb, stop there and resume from it. */
void hvt_debug_guest_trap(uint64_t frame_gpa);
/* An upstream guest's HALT with a cookie: its trap frame (cr2, error, rip, cs, rflags, rsp, ss) for the core. */
void hvt_debug_halt_cookie(uint64_t cookie_gpa);
/* The guest ends with `status`: hand the tender its registers (for the core and for gdb's W reply). */
void hvt_debug_exit(int status);
/* SIGIO's handler (the debug socket is O_ASYNC under gdb): KVM_RUN returns with EINTR at once. */
__attribute__((visibility("hidden"))) void hvt_debug_sigio(int sig);
/* After an EINTR: serve gdb's ^C (stop with SIGINT) or its going away; `mid_exit` inside an I/O exit. */
void hvt_debug_poll(int mid_exit);

/*
 * The debug socket is also in the guest's wait epoll under gdb (edge-triggered,
 * with this as its data): a ^C that comes just before the helper sleeps for the
 * guest, after SIGIO's handler has run, still ends that sleep.
 */
#define HVT_DEBUG_EPOLL_DATA 0xdb9db9db9db9db9dULL

/* The debug socket's fd: right after the KVM device fd. */
#define HVT_DEBUG_FD(p) (SN_FD_DOORBELL0 + (int)(p)->ndoorbells + (int)(p)->ndevfds + 1)

#endif /* HELPER_HVT_DEBUG_H */
