/* helper_setup.c: the set-up steps spt and hvt share: memfd check, wait epoll, seccomp confinement. */
#include "helper_setup.h"

#include "helper_diag.h"

void setup_check_memfd(const struct sn_plan *p)
{
    struct h_stat st;
    long r = h_fstat(SN_FD_MEM, &st);
    if (h_is_err(r))
        diag_fail("fstat guest memory", r);
    /* A shorter file would turn guest accesses past its end into SIGBUS (or, on hvt, a KVM_RUN EFAULT). */
    if ((st.st_mode & H_S_IFMT) != H_S_IFREG || (uint64_t)st.st_size != p->mem_size) {
        struct diag d;
        d.len = 0;
        diag_str(&d, "invalid plan: mem_size does not match the guest memory file");
        diag_exit(&d);
    }
}

/*
 * The fds after set-up: 0 (/dev/null), 1 console, 2 diagnostics,
 * SN_FD_WAIT and the doorbells (hvt adds SN_FD_VCPU). Doorbells come in
 * pairs (SN_DOORBELL_TO_*): the guest writes the first to wake the tender and
 * sleeps on the second, so only the second of each pair goes into the wait
 * epoll (the first stays readable until the tender drains it and would end
 * every wait at once); each event's data is the doorbell's fd number. The
 * memfd and plan fds are gone: guest memory is reached only through the
 * mapping.
 */
void setup_wait_fd(const struct sn_plan *p)
{
    long r = h_close_range(SN_FD_MEM, SN_FD_PLAN);
    if (h_is_err(r))
        diag_fail("close memory and plan fds", r);
    long ep = h_epoll_create1(H_EPOLL_CLOEXEC);
    if (h_is_err(ep))
        diag_fail("epoll_create1", ep);
    if (ep != SN_FD_WAIT) {
        /* fd 0 was not open at exec, so epoll took a lower number. */
        r = h_dup3((int)ep, SN_FD_WAIT, H_O_CLOEXEC);
        if (h_is_err(r))
            diag_fail("dup3 wait fd", r);
        h_close((int)ep);
    }
    for (uint32_t i = 0; i < p->ndoorbells; i++) {
        int fd = SN_FD_DOORBELL0 + (int)i;
        if (i % 2 != SN_DOORBELL_TO_GUEST) {
            /* Not waited on, but a missing one would only show as the guest's failed kicks. */
            r = h_fcntl(fd, H_F_GETFD);
            if (h_is_err(r))
                diag_fail("check doorbell to tender", r);
            continue;
        }
        struct h_epoll_event ev = { .events = H_EPOLLIN, .data = (uint64_t)fd };
        r = h_epoll_ctl(SN_FD_WAIT, H_EPOLL_CTL_ADD, fd, &ev);
        if (h_is_err(r))
            diag_fail("epoll_ctl doorbell to guest", r);
    }
}

void setup_confine(const struct sn_plan *p, const struct h_sock_filter *bpf)
{
    struct h_sock_fprog prog = { .len = (uint16_t)p->bpf_len, .filter = bpf };
    long r = h_prctl(H_PR_SET_NO_NEW_PRIVS, 1);
    if (h_is_err(r))
        diag_fail("prctl(PR_SET_NO_NEW_PRIVS)", r);
    r = h_seccomp(H_SECCOMP_SET_MODE_FILTER, 0, &prog);
    if (h_is_err(r))
        diag_fail("seccomp", r);
}
