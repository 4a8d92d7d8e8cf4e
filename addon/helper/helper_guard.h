/* helper_guard.h: the guest's life is tied to its tender's, and it runs without the tender's privileges. */
#ifndef HELPER_GUARD_H
#define HELPER_GUARD_H

#include "sn_abi.h"
#include "helper_sys.h"

/* Ask for SIGKILL when the parent dies (guard_check_parent does, right after the plan is read). */
void guard_parent_death(void);

/*
 * The parent may have died before guard_parent_death ran (the signal is then
 * never sent): exit unless the parent is still plan.parent_pid. Also re-arms
 * the death signal, which the kernel clears whenever the credentials change,
 * except for a gated helper, which disarms it once the parent is checked.
 * A helper exec'd in place of the tender (plan.parent_pid is its own pid)
 * arms nothing and checks nothing.
 */
void guard_check_parent(const struct sn_plan *p);

/*
 * With SN_PLAN_F_GATE: become a session leader, take the gate's stderr as
 * fd 2 (which tells the spawner the guest is ready), then block until one
 * byte arrives on the gate (solo5-oci start) and close it.
 */
void guard_wait_gate(const struct sn_plan *p);

/*
 * With SN_PLAN_F_SETID: no supplementary groups, plan.gid and plan.uid as
 * real, effective and saved ids, an empty bounding set, no ambient, permitted,
 * effective or inheritable capabilities. Then guard_check_parent again.
 */
void guard_drop_privileges(const struct sn_plan *p);

#endif /* HELPER_GUARD_H */
