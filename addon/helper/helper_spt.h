/* helper_spt.h: the spt target: the guest runs in this very process, confined by seccomp. */
#ifndef HELPER_SPT_H
#define HELPER_SPT_H

#include "sn_abi.h"
#include "helper_sys.h"

/* Map guest memory, apply region permissions, set up SN_FD_WAIT, confine and jump. */
__attribute__((noreturn)) void spt_run(const struct sn_plan *p, const struct h_sock_filter *bpf);

/* helper_hvt_debug.c, solo5-helper-debug only: with SN_PLAN_F_GDB, stop (SIGSTOP) for gdb to attach. */
void spt_debug_stop(const struct sn_plan *p);

#endif /* HELPER_SPT_H */
