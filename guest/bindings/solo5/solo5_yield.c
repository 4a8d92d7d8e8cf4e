/* solo5_yield.c: solo5_yield on the Solo5 spt ABI: arm the tender's timerfd at the deadline, wait on its epoll fd. */
#include "solo5_bindings.h"

#define NS_PER_SEC 1000000000ULL

struct s5_itimerspec {
    struct spt_timespec interval;
    struct spt_timespec value;
};

/*
 * The tender put the timerfd (epoll data SN_SOLO5_INTERNAL_TIMERFD) and each
 * attached net fd (data = its manifest index) in the epoll set,
 * level-triggered. Arming the timer with an absolute deadline resets any
 * earlier expiry, so the timerfd is never read; a deadline already passed
 * fires at once. The nanoseconds are made odd so that they are never 0
 * (which would disarm the timer at a whole second).
 */
void solo5_yield(solo5_time_t deadline, solo5_handle_set_t *ready_set)
{
    struct spt_epoll_event ev[SN_MFT_MAX_ENTRIES];
    struct s5_itimerspec its = {
        .interval = { 0, 0 },
        .value = { (int64_t)(deadline / NS_PER_SEC), (int64_t)(deadline % NS_PER_SEC) | 1 },
    };
    uint32_t nets = 0;

    for (uint32_t i = 1; i < s5_entries; i++)
        nets += s5_devs[i].type == SN_MFT_DEV_NET_BASIC && s5_devs[i].attached;

    long r = spt_syscall6(S5_SYS_TIMERFD_SETTIME, s5_timerfd, S5_TFD_TIMER_ABSTIME, (long)&its, 0, 0, 0);
    if (r != 0) {
        sn_log(SN_LOG_ERROR, "ABORT: arming timerfd %d failed (errno %ld)", s5_timerfd, -r);
        sn_platform_exit(SOLO5_EXIT_ABORT);
    }
    long n;
    do
        n = spt_syscall6(SPT_SYS_EPOLL_PWAIT, s5_epollfd, (long)ev, (long)nets + 1, -1, 0, 8);
    while (n == -SPT_EINTR);
    if (n < 0) {
        sn_log(SN_LOG_ERROR, "ABORT: waiting on epoll fd %d failed (errno %ld)", s5_epollfd, -n);
        sn_platform_exit(SOLO5_EXIT_ABORT);
    }
    solo5_handle_set_t ready = 0;
    for (long i = 0; i < n && i < (long)(nets + 1); i++) {
        uint64_t data = ev[i].data;
        /* Only acquired net handles are reported: an index is the handle. */
        if (data != SN_SOLO5_INTERNAL_TIMERFD && s5_dev(data, SN_MFT_DEV_NET_BASIC) != NULL)
            ready |= 1ULL << data;
    }
    if (ready_set != NULL)
        *ready_set = ready;
}
