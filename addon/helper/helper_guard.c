/* helper_guard.c: parent-death signal, parent check and privilege drop, before the guest runs. */
#include "helper_guard.h"

#include "helper_diag.h"

#define H_EINTR 4
#define H_EINVAL 22
#define H_EPIPE 32
/* Capability numbers are below 64 for as long as the kernel's sets are two 32-bit words. */
#define H_CAP_SLOTS 64

void guard_parent_death(void)
{
    long r = h_prctl(H_PR_SET_PDEATHSIG, H_SIGKILL);
    if (h_is_err(r))
        diag_fail("prctl(PR_SET_PDEATHSIG)", r);
}

void guard_check_parent(const struct sn_plan *p)
{
    /*
     * Exec'd in place of the tender, the plan names this very process (no
     * spawned helper can be its own parent): it has the tender's parent and
     * is tied to it no more than upstream's tender is, so nothing is armed
     * and a death signal the tender's own parent asked for stays as it was.
     */
    if (h_getpid() == (long)p->parent_pid)
        return;
    guard_parent_death();
    long ppid = h_getppid();
    /*
     * A gated helper born in a container's PID namespace (lib/oci) has its
     * parent outside it, where getppid() says 0. It can check no more, and
     * need not: a spawner gone before this point cannot read the ready byte,
     * and writing it (SIGPIPE) ends the helper before its gate.
     */
    if (ppid == 0 && (p->flags & SN_PLAN_F_GATE))
        ppid = (long)p->parent_pid;
    if (ppid != (long)p->parent_pid) {
        /* Nobody is left to read a diagnostic; just do not become an orphan guest. */
        h_exit_group(1);
    }
    /*
     * A gated helper is the container's process and outlives the spawner (a
     * subreaper adopts it). The parent is known alive here, so disarming now
     * leaves no moment when its death would go unnoticed before the check.
     */
    if (p->flags & SN_PLAN_F_GATE) {
        long r = h_prctl(H_PR_SET_PDEATHSIG, 0);
        if (h_is_err(r))
            diag_fail("prctl(PR_SET_PDEATHSIG, 0)", r);
    }
}

void guard_wait_gate(const struct sn_plan *p)
{
    if (!(p->flags & SN_PLAN_F_GATE))
        return;
    int gate = SN_FD_DOORBELL0 + (int)(p->ndoorbells + p->ndevfds);
    /* Its own session, as a container's first process is: the spawner's job control is not its. */
    long r = h_setsid();
    if (h_is_err(r))
        diag_fail("setsid", r);
    /*
     * "Ready" is a byte of its own: the pipe's end alone would not tell the
     * spawner this from a helper killed on the way here. Replacing fd 2 then
     * closes the pipe.
     */
    const char ready = (char)SN_DIAG_GATE_READY;
    r = h_write(SN_FD_DIAG, &ready, 1);
    if (r != 1)
        diag_fail("write ready at the start gate", h_is_err(r) ? r : -H_EPIPE);
    r = h_dup3(gate + 1, SN_FD_DIAG, 0);
    if (h_is_err(r))
        diag_fail("dup3 stderr at the start gate", r);
    h_close(gate + 1);
    char go;
    do
        r = h_read(gate, &go, 1);
    while (r == -H_EINTR);
    if (r != 1)
        diag_fail("read the start gate", r == 0 ? -H_EPIPE : r);
    h_close(gate);
}

static void drop_bounding_set(void)
{
    for (long cap = 0; cap < H_CAP_SLOTS; cap++) {
        long r = h_prctl(H_PR_CAPBSET_DROP, cap);
        /* EINVAL: past the kernel's last capability, so the set is empty now. */
        if (r == -H_EINVAL)
            return;
        if (h_is_err(r))
            diag_fail("prctl(PR_CAPBSET_DROP)", r);
    }
}

void guard_drop_privileges(const struct sn_plan *p)
{
    if (!(p->flags & SN_PLAN_F_SETID))
        return;
    long r = h_setgroups_none();
    if (h_is_err(r))
        diag_fail("setgroups", r);
    r = h_setresgid(p->gid);
    if (h_is_err(r))
        diag_fail("setresgid", r);
    /* Needs CAP_SETPCAP, so before the uid changes. */
    drop_bounding_set();
    r = h_prctl5(H_PR_CAP_AMBIENT, H_PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
    if (h_is_err(r) && r != -H_EINVAL)
        diag_fail("prctl(PR_CAP_AMBIENT_CLEAR_ALL)", r);
    r = h_setresuid(p->uid);
    if (h_is_err(r))
        diag_fail("setresuid", r);
    /* Leaving uid 0 already empties the sets; staying uid 0 (--user=root) does not, so clear them explicitly. */
    struct h_cap_header hdr = { .version = H_CAP_VERSION_3, .pid = 0 };
    struct h_cap_data none[2] = { { 0, 0, 0 }, { 0, 0, 0 } };
    r = h_capset(&hdr, none);
    if (h_is_err(r))
        diag_fail("capset", r);
    guard_check_parent(p);
}
