/* spt_yield.c: solo5_yield for spt: sleep on the tender's epoll fd until the deadline or a device event. */
#include "bindings.h"
#include "spt_sys.h"

#define NS_PER_SEC 1000000000ULL
#define NS_PER_MS 1000000ULL
#define MAX_EVENTS 8

/* Cleared the first time the kernel says it lacks epoll_pwait2 (before 5.11). */
static int have_pwait2 = 1;

/* One wait of at most `left` ns; returns the number of events or -errno. */
static long wait_once(solo5_time_t left, struct spt_epoll_event *ev)
{
    if (have_pwait2) {
        struct spt_timespec ts = {
            .tv_sec = (int64_t)(left / NS_PER_SEC),
            .tv_nsec = (int64_t)(left % NS_PER_SEC),
        };
        long n = spt_syscall6(SPT_SYS_EPOLL_PWAIT2, spt_wait_fd, (long)ev, MAX_EVENTS, (long)&ts,
                              0, 8);
        if (n != -SPT_ENOSYS)
            return n;
        have_pwait2 = 0;
    }
    /* Milliseconds, rounded up so that the wait is never shorter than asked. */
    solo5_time_t ms = (left + NS_PER_MS - 1) / NS_PER_MS;
    if (ms > 0x7fffffff)
        ms = 0x7fffffff;
    return spt_syscall6(SPT_SYS_EPOLL_PWAIT, spt_wait_fd, (long)ev, MAX_EVENTS, (long)ms, 0, 8);
}

void solo5_yield(solo5_time_t deadline, solo5_handle_set_t *ready_set)
{
    struct spt_epoll_event ev[MAX_EVENTS];

    /*
     * No device can be acquired yet (see common/net.c), so nothing is ever
     * ready and the set is always empty; events on the wait fd only end the
     * sleep early, which the API allows.
     */
    if (ready_set != NULL)
        *ready_set = 0;

    for (;;) {
        /*
         * The clock is read again after every wake-up: the kernel's timers
         * may fire a hair early relative to CLOCK_MONOTONIC as read here,
         * and a signal may interrupt the wait, but the caller must never
         * see the deadline unreached with nothing ready.
         */
        solo5_time_t now = solo5_clock_monotonic();
        if (deadline <= now)
            return;
        long n = wait_once(deadline - now, ev);
        if (n > 0)
            return;
        if (n == 0 || n == -SPT_EINTR)
            continue;
        /*
         * The wait fd is the tender's; if it is unusable, sleeping is
         * impossible and spinning until an arbitrary deadline would burn a
         * core unnoticed. Stop loudly instead.
         */
        sn_log(SN_LOG_ERROR, "ABORT: solo5_yield: waiting on fd %d failed (errno %ld)",
               spt_wait_fd, -n);
        sn_platform_exit(SOLO5_EXIT_ABORT);
    }
}
