/* helper_hvt_sys.h: the extra raw system calls the hvt run loop makes (KVM ioctls, doorbells, waits, clocks). */
#ifndef HELPER_HVT_SYS_H
#define HELPER_HVT_SYS_H

#include <linux/kvm.h>

#include "helper_sys.h"

/*
 * The KVM structures and ioctl numbers come from the kernel's UAPI header
 * (no libc involved); the syscall numbers follow helper_sys.h's style. The
 * hvt seccomp policy (lib/seccomp/hvt.ts) allows exactly the calls the run
 * loop makes after set-up: ioctl(SN_FD_VCPU, KVM_RUN or KVM_SET_MSRS),
 * write(1), write and read on the doorbells, epoll_pwait2/epoll_pwait
 * (SN_FD_WAIT), exit_group. clock_gettime is for set-up only. A guest of
 * upstream Solo5's hvt ABI (helper_hvt_solo5_*.c) has its own policy (also
 * in lib/seccomp/hvt.ts): pread64/pwrite64, timerfd_settime, clock_gettime.
 */

#define SYS_ioctl 16
#define SYS_clock_gettime 228
#define SYS_epoll_pwait 281
#define SYS_epoll_pwait2 441
#define SYS_pwrite64 18
#define SYS_timerfd_settime 286

#define H_CLOCK_REALTIME 0
#define H_CLOCK_MONOTONIC 1
#define H_EINTR 4
#define H_EAGAIN 11
#define H_EFAULT 14
#define H_ENOSYS 38

/* The KVM API version every kernel since 2.6.22 reports (KVM_GET_API_VERSION). */
#define H_KVM_API_VERSION 12

struct h_timespec {
    int64_t tv_sec;
    int64_t tv_nsec;
};

struct h_itimerspec {
    struct h_timespec it_interval;
    struct h_timespec it_value;
};

static inline long h_ioctl(int fd, unsigned long req, uint64_t arg)
{
    return h_syscall3(SYS_ioctl, fd, (long)req, (long)arg);
}

static inline long h_clock_gettime(int clock, struct h_timespec *ts)
{
    return h_syscall3(SYS_clock_gettime, clock, (long)ts, 0);
}

static inline long h_epoll_pwait2(int epfd, struct h_epoll_event *ev, int max, const struct h_timespec *ts)
{
    return h_syscall6(SYS_epoll_pwait2, epfd, (long)ev, max, (long)ts, 0, 8);
}

static inline long h_epoll_pwait(int epfd, struct h_epoll_event *ev, int max, int timeout_ms)
{
    return h_syscall6(SYS_epoll_pwait, epfd, (long)ev, max, timeout_ms, 0, 8);
}

static inline long h_pwrite(int fd, const void *buf, uint64_t len, uint64_t off)
{
    return h_syscall6(SYS_pwrite64, fd, (long)buf, (long)len, (long)off, 0, 0);
}

static inline long h_timerfd_settime(int fd, const struct h_itimerspec *t)
{
    return h_syscall6(SYS_timerfd_settime, fd, 0, (long)t, 0, 0, 0);
}

#endif /* HELPER_HVT_SYS_H */
