/* helper_spt.h: the spt target: the guest runs in this very process, confined by seccomp. */
#ifndef HELPER_SPT_H
#define HELPER_SPT_H

#include "sn_abi.h"
#include "helper_sys.h"

/* Map guest memory, apply region permissions, set up SN_FD_WAIT, confine and jump. */
__attribute__((noreturn)) void spt_run(const struct sn_plan *p, const struct h_sock_filter *bpf);

#endif /* HELPER_SPT_H */
