/* helper_main.c: the exec'd helper's main: read the plan, keep only the intended fds, run the target. */
#include "helper_guard.h"
#include "helper_hvt.h"
#include "helper_inplace.h"
#include "helper_plan.h"
#include "helper_spt.h"
#include "sn_hvt_debug.h"

/*
 * Static, not on the stack: the BPF buffer is 32 KiB and its untouched pages
 * are never faulted in. One spare slot lets plan_read detect trailing bytes.
 */
static struct sn_plan plan;
static struct h_sock_filter bpf[SN_PLAN_MAX_BPF + 1];

void helper_main(long *sp) __attribute__((noreturn, used));

void helper_main(long *sp)
{
    /* Exec'd in place of the tender: the memory, plan and device fds go to their numbers first. */
    unsigned placed = inplace_arrange(sp[0], (char **)(sp + 1));
    plan_read(&plan, bpf);
    /*
     * Arms the parent-death signal, then checks the parent is still the
     * tender: a tender that died at any moment before, during the short
     * plan read included, is caught by one or the other.
     */
    guard_check_parent(&plan);

    /*
     * Whatever else the spawning process leaked into us goes now, so the guest
     * holds exactly 0-2, the memory and plan fds (closed later) and its
     * doorbells, or its host device fds on the Solo5 ABI; hvt also keeps the
     * KVM device fd that follows them, a gated spt helper its gate and stderr.
     */
    unsigned keep =
        SN_FD_DOORBELL0 + plan.ndoorbells + plan.ndevfds + (plan.target == SN_ABI_TARGET_HVT ? 1 : 0) +
        ((plan.flags & SN_PLAN_F_GATE) ? 2 : 0) +
        ((plan.target == SN_ABI_TARGET_HVT && (plan.flags & (SN_PLAN_F_DUMPCORE | SN_PLAN_F_GDB))) ? 1 : 0);
    /* In place, fewer fds than the plan keeps would leave the tender's own ones to the guest. */
    if (placed != 0 && placed != keep)
        diag_fail_because("place the in-place fds", -22 /* EINVAL */, "their number does not match the plan");
    long r = h_close_range(keep, ~0U);
    if (h_is_err(r))
        diag_fail("close_range", r);

    /* plan_check accepted only these two targets. */
    if (plan.target == SN_ABI_TARGET_HVT)
        hvt_run(&plan, bpf);
    spt_run(&plan, bpf);
}
