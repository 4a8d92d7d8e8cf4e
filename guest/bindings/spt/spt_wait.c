/* spt_wait.c: the spt platform's doorbells: an eventfd write to wake the tender, an epoll sleep to be woken. */
#include "bindings.h"
#include "platform.h"
#include "spt_sys.h"

#define NS_PER_SEC 1000000000ULL
#define NS_PER_MS 1000000ULL
#define MAX_EVENTS 4

/* The helper leaves the doorbells at fixed fds (include/sn_abi.h, "Doorbells"). */
#define DOORBELL_TO_TENDER (SN_FD_DOORBELL0 + SN_DOORBELL_TO_TENDER)
#define DOORBELL_TO_GUEST (SN_FD_DOORBELL0 + SN_DOORBELL_TO_GUEST)

/* Cleared the first time the kernel says it lacks epoll_pwait2 (before 5.11). */
static int have_pwait2 = 1;

void sn_platform_kick(void)
{
    static const uint64_t one = 1;

    /*
     * An eventfd adds to its counter, so a ring the tender has not consumed
     * yet is merged with this one, as intended. The only failure, EAGAIN
     * on a counter at 2^64 - 2, cannot happen with a tender that drains it;
     * anything else means the tender is gone and nothing is left to wake.
     */
    long n;
    do
        n = spt_syscall3(SPT_SYS_WRITE, DOORBELL_TO_TENDER, (long)&one, sizeof one);
    while (n == -SPT_EINTR);
}

/* rings.h's SN_SPIN_POLLS says why this many. */
const uint32_t sn_platform_yield_polls = 1024;

void sn_platform_give_cpu(void)
{
    /* It cannot fail; the result is 0. */
    (void)spt_syscall1(SPT_SYS_SCHED_YIELD, 0);
}

/* One wait of at most `left` ns; returns the number of events or -errno. */
static long wait_once(solo5_time_t left, struct spt_epoll_event *ev)
{
    if (have_pwait2) {
        struct spt_timespec ts = {
            .tv_sec = (int64_t)(left / NS_PER_SEC),
            .tv_nsec = (int64_t)(left % NS_PER_SEC),
        };
        long n = spt_syscall6(SPT_SYS_EPOLL_PWAIT2, spt_wait_fd, (long)ev, MAX_EVENTS, (long)&ts, 0, 8);
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

void sn_platform_wait(solo5_time_t deadline)
{
    struct spt_epoll_event ev[MAX_EVENTS];
    solo5_time_t now = solo5_clock_monotonic();

    if (deadline <= now)
        return;
    long n = wait_once(deadline - now, ev);
    if (n == -SPT_EINTR || n == 0)
        return;
    if (n < 0) {
        /*
         * The wait fd is the tender's; if it is unusable, sleeping is
         * impossible and every caller would spin until its deadline with a
         * core burning unnoticed. Stop loudly instead.
         */
        sn_log(SN_LOG_ERROR, "ABORT: waiting on fd %d failed (errno %ld)", spt_wait_fd, -n);
        sn_platform_exit(SOLO5_EXIT_ABORT);
    }
    /*
     * The epoll is level-triggered and holds only the to-guest doorbell:
     * drain it, or every later wait returns at once. The eventfd is
     * non-blocking, so a read that finds nothing gets EAGAIN, never sleeps.
     */
    uint64_t count;
    long r;
    do
        r = spt_syscall3(SPT_SYS_READ, DOORBELL_TO_GUEST, (long)&count, sizeof count);
    while (r == -SPT_EINTR);
}
