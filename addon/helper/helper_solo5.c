/* helper_solo5.c: set up the epoll fd, timerfd and device fds of a guest that speaks Solo5's spt ABI. */
#include "helper_solo5.h"

#include "helper_diag.h"

/* Move a freshly created fd to the number the boot info promises. */
static void place_fd(long fd, int want, const char *what)
{
    if (h_is_err(fd))
        diag_fail(what, fd);
    if (fd == want)
        return;
    long r = h_dup3((int)fd, want, 0);
    if (h_is_err(r))
        diag_fail(what, r);
    h_close((int)fd);
}

static void epoll_add(int fd, uint64_t data, const char *what)
{
    struct h_epoll_event ev = { .events = H_EPOLLIN, .data = data };
    long r = h_epoll_ctl(SN_FD_SOLO5_EPOLL, H_EPOLL_CTL_ADD, fd, &ev);
    if (h_is_err(r))
        diag_fail(what, r);
}

void solo5_setup_fds(const struct sn_plan *p)
{
    long r = h_close_range(SN_FD_MEM, SN_FD_PLAN);
    if (h_is_err(r))
        diag_fail("close memory and plan fds", r);
    /* 0-2 are open and 3-4 were just closed, so these normally land in place already. */
    place_fd(h_epoll_create1(0), SN_FD_SOLO5_EPOLL, "epoll_create1");
    place_fd(h_timerfd_create(H_CLOCK_MONOTONIC, H_TFD_NONBLOCK), SN_FD_SOLO5_TIMER, "timerfd_create");
    epoll_add(SN_FD_SOLO5_TIMER, SN_SOLO5_INTERNAL_TIMERFD, "epoll_ctl timerfd");
    for (uint32_t i = 0; i < p->ndevfds; i++) {
        int fd = SN_FD_DEV0 + (int)i;
        if (p->dev_epoll[i] != 0) {
            /*
             * Solo5's bindings expect a read with nothing to read to fail with
             * EAGAIN, as on upstream's O_NONBLOCK tap; a socket end arrives
             * blocking.
             */
            long fl = h_fcntl3(fd, H_F_GETFL, 0);
            if (h_is_err(fl))
                diag_fail("fcntl(F_GETFL) net device fd", fl);
            r = h_fcntl3(fd, H_F_SETFL, fl | H_O_NONBLOCK);
            if (h_is_err(r))
                diag_fail("fcntl(F_SETFL, O_NONBLOCK) net device fd", r);
            epoll_add(fd, p->dev_epoll[i], "epoll_ctl net device fd");
            continue;
        }
        /* A block fd: a missing one would only show as the guest's failed I/O. */
        r = h_fcntl(fd, H_F_GETFD);
        if (h_is_err(r))
            diag_fail("check block device fd", r);
    }
}
