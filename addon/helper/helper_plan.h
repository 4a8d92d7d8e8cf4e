/* helper_plan.h: reading and checking the load plan the tender hands the helper on SN_FD_PLAN. */
#ifndef HELPER_PLAN_H
#define HELPER_PLAN_H

#include "sn_abi.h"
#include "sn_solo5.h"
#include "sn_solo5_hvt.h"
#include "helper_diag.h"
#include "helper_sys.h"

/*
 * Highest guest memory size the helper accepts (1 TiB, the addon's memfd
 * limit). It keeps guest memory far below the helper's own image at
 * HELPER_LINK_BASE and the kernel's stack and mmap area near the top.
 */
#define HELPER_MAX_MEM_SIZE 0x10000000000ULL
#define HELPER_MIN_MEM_SIZE 0x200000ULL
/* Doorbells the helper keeps open: pairs (to tender, to guest), one per device at most. */
#define HELPER_MAX_DOORBELLS (2 * SN_MFT_MAX_ENTRIES)

/*
 * Check every field of a plan. The tender is trusted, but a stale or buggy
 * plan must fail here with a named field, never as a confusing fault in the
 * guest. Returns 1 if the plan is valid, else 0 with the reason in *why.
 */
int plan_check(const struct sn_plan *p, struct diag *why);

/*
 * Read the plan and its BPF program from fd SN_FD_PLAN into the caller's
 * buffers (bpf must have room for SN_PLAN_MAX_BPF + 1 instructions) and check
 * them; on any failure report it and exit.
 */
void plan_read(struct sn_plan *p, struct h_sock_filter *bpf);

#endif /* HELPER_PLAN_H */
