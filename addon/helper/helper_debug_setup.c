/* helper_debug_setup.c: solo5-helper-debug only: the set-up steps before confinement (debug socket; spt's stop for gdb). */
#include "helper_hvt.h"
#include "helper_hvt_debug.h"
#include "helper_spt.h"
#include "sn_hvt_debug.h"

#define SYS_rt_sigaction 13
#define SYS_rt_sigreturn 15
#define H_STR(x) #x
#define H_XSTR(x) H_STR(x)
#define H_SIGPIPE 13
#define H_SIGIO 29
#define H_SA_RESTORER 0x04000000UL
#define H_F_SETOWN 8
#define H_O_ASYNC 020000
#define H_EPOLLET (1U << 31)

struct h_sigaction {
    uint64_t handler, flags, restorer, mask;
};

/*
 * Where SIGIO's handler returns to: rt_sigreturn, the one system call the
 * debug policy adds for it. Hidden, as the handler is: a function address
 * taken here must be %rip-relative (the helper is linked above 4 GiB).
 */
__attribute__((visibility("hidden"))) void sn_sigreturn(void);
__asm__(".text\n"
        ".p2align 4\n"
        "sn_sigreturn:\n"
        "\tmov $" H_XSTR(SYS_rt_sigreturn) ", %eax\n"
                                           "\tsyscall\n"
                                           "\tud2\n");

/*
 * gdb's ^C comes as bytes on the debug socket while the vCPU is in KVM_RUN
 * or the guest waits: O_ASYNC makes their arrival a SIGIO to this process,
 * whose handler asks KVM_RUN to return (docs/debugging.md). No SA_RESTART:
 * a guest's wait returns with EINTR too.
 */
static void setup_interrupt(const struct sn_plan *p)
{
    struct h_sigaction sa = { .handler = (uint64_t)hvt_debug_sigio,
                              .flags = H_SA_RESTORER,
                              .restorer = (uint64_t)sn_sigreturn };
    long r = h_syscall6(SYS_rt_sigaction, H_SIGIO, (long)&sa, 0, 8, 0, 0);
    if (h_is_err(r))
        diag_fail("handle SIGIO", r);
    r = h_fcntl3(HVT_DEBUG_FD(p), H_F_SETOWN, h_getpid());
    if (h_is_err(r))
        diag_fail("own the debug channel's SIGIO", r);
    /*
     * A SIGIO just before the helper sleeps for the guest's wait would end
     * nothing (immediate_exit only stops KVM_RUN): the socket's readiness
     * ends that sleep instead. Edge-triggered: once per arrival, so that a
     * closed socket, or bytes a read took already, cannot keep waking it.
     */
    struct h_epoll_event ev = { .events = H_EPOLLIN | H_EPOLLET, .data = HVT_DEBUG_EPOLL_DATA };
    r = h_epoll_ctl(p->flags & SN_PLAN_F_SOLO5 ? SN_FD_SOLO5_EPOLL : SN_FD_WAIT, H_EPOLL_CTL_ADD,
                    HVT_DEBUG_FD(p), &ev);
    if (h_is_err(r))
        diag_fail("epoll_ctl debug socket", r);
}

void hvt_debug_setup(const struct sn_plan *p)
{
    if (!(p->flags & (SN_PLAN_F_DUMPCORE | SN_PLAN_F_GDB)))
        return;
    if (p->flags & SN_PLAN_F_GDB)
        setup_interrupt(p);
    /* The vCPU owner waits for requests: this end must block, whatever the tender made it. */
    long r = h_fcntl3(HVT_DEBUG_FD(p), H_F_SETFL, p->flags & SN_PLAN_F_GDB ? H_O_ASYNC : 0);
    if (h_is_err(r))
        diag_fail("set up the debug channel", r);
    /* A tender that closed its end must not kill the guest with SIGPIPE: the write just fails. */
    struct h_sigaction ignore = { .handler = 1 /* SIG_IGN */ };
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
