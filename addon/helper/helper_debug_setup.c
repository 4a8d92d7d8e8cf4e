/* helper_debug_setup.c: solo5-helper-debug only: the set-up steps before confinement (debug socket; spt's stop for gdb). */
#include "helper_hvt.h"
#include "helper_hvt_debug.h"
#include "helper_spt.h"
#include "sn_hvt_debug.h"

#define SYS_rt_sigaction 13
#define H_SIGPIPE 13

void hvt_debug_setup(const struct sn_plan *p)
{
    if (!(p->flags & (SN_PLAN_F_DUMPCORE | SN_PLAN_F_GDB)))
        return;
    /* The vCPU owner waits for requests: this end must block, whatever the tender made it. */
    long r = h_fcntl3(HVT_DEBUG_FD(p), H_F_SETFL, 0);
    if (h_is_err(r))
        diag_fail("set up the debug channel", r);
    /* A tender that closed its end must not kill the guest with SIGPIPE: the write just fails. */
    struct {
        uint64_t handler, flags, restorer, mask;
    } ignore = { .handler = 1 /* SIG_IGN */ };
    r = h_syscall6(SYS_rt_sigaction, H_SIGPIPE, (long)&ignore, 0, 8, 0, 0);
    if (h_is_err(r))
        diag_fail("ignore SIGPIPE", r);
}

#define SYS_getpid 39
#define SYS_kill 62
#define H_SIGSTOP 19

void spt_debug_stop(const struct sn_plan *p)
{
    if (!(p->flags & SN_PLAN_F_GDB))
        return;
    /*
     * spt has no stub: the guest is this process, so gdb attaches to it by
     * pid (the tender prints how). Stopped here, before confinement and the
     * jump, gdb finds every guest symbol at its link address already mapped.
     */
    long pid = h_syscall3(SYS_getpid, 0, 0, 0);
    long r = h_syscall3(SYS_kill, pid, H_SIGSTOP, 0);
    if (h_is_err(r))
        diag_fail("stop for the debugger", r);
}
