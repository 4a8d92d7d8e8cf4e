/* spt_sys.h: the raw Linux system calls the spt guest may make, as inline assembly (there is no libc). */
#ifndef SPT_SYS_H
#define SPT_SYS_H

#include <stddef.h>
#include <stdint.h>

/*
 * The seccomp policy (lib/seccomp/policy.ts) allows exactly these calls,
 * with these arguments; anything else kills the guest with SIGSYS:
 *
 *   write(console_fd = 1, ...)
 *   write(doorbell to the tender = 5, ...) and read(doorbell to the guest = 6, ...)
 *   exit_group(status)
 *   clock_gettime(CLOCK_MONOTONIC | CLOCK_REALTIME, ...)
 *   arch_prctl(ARCH_SET_FS, ...)
 *   epoll_pwait2(wait_fd = 3, ...) and epoll_pwait(wait_fd = 3, ...)
 *   sched_yield()
 *
 * Linux returns -errno in %rax on failure; these wrappers pass it through.
 */

#define SPT_SYS_READ 0
#define SPT_SYS_WRITE 1
#define SPT_SYS_SCHED_YIELD 24
#define SPT_SYS_ARCH_PRCTL 158
#define SPT_SYS_CLOCK_GETTIME 228
#define SPT_SYS_EXIT_GROUP 231
#define SPT_SYS_EPOLL_PWAIT 281
#define SPT_SYS_EPOLL_PWAIT2 441

#define SPT_CLOCK_REALTIME 0
#define SPT_CLOCK_MONOTONIC 1
#define SPT_ARCH_SET_FS 0x1002

#define SPT_EINTR 4
#define SPT_ENOSYS 38

struct spt_timespec {
    int64_t tv_sec;
    int64_t tv_nsec;
};

/* The kernel's struct epoll_event is packed on x86_64: 12 bytes. */
struct spt_epoll_event {
    uint32_t events;
    uint64_t data;
} __attribute__((packed));

/* The syscall instruction clobbers %rcx and %r11; memory covers buffers passed by pointer. */
static inline long spt_syscall1(long n, long a1)
{
    long r;
    __asm__ volatile("syscall" : "=a"(r) : "a"(n), "D"(a1) : "rcx", "r11", "memory");
    return r;
}

static inline long spt_syscall2(long n, long a1, long a2)
{
    long r;
    __asm__ volatile("syscall" : "=a"(r) : "a"(n), "D"(a1), "S"(a2) : "rcx", "r11", "memory");
    return r;
}

static inline long spt_syscall3(long n, long a1, long a2, long a3)
{
    long r;
    __asm__ volatile("syscall" : "=a"(r) : "a"(n), "D"(a1), "S"(a2), "d"(a3) : "rcx", "r11", "memory");
    return r;
}

static inline long spt_syscall6(long n, long a1, long a2, long a3, long a4, long a5, long a6)
{
    long r;
    register long r10 __asm__("r10") = a4;
    register long r8 __asm__("r8") = a5;
    register long r9 __asm__("r9") = a6;
    __asm__ volatile("syscall"
                     : "=a"(r)
                     : "a"(n), "D"(a1), "S"(a2), "d"(a3), "r"(r10), "r"(r8), "r"(r9)
                     : "rcx", "r11", "memory");
    return r;
}

static inline __attribute__((noreturn)) void spt_exit_group(int status)
{
    for (;;)
        spt_syscall1(SPT_SYS_EXIT_GROUP, status);
}

/* spt_platform.c: "Solo5: ABORT: bad boot info: WHY" on fd 1, then exit 255. */
void spt_bad_bootinfo(const char *why) __attribute__((noreturn));

/* The fds the tender handed over in the boot info (spt_boot.c). */
extern int spt_console_fd;
extern int spt_wait_fd;

#endif /* SPT_SYS_H */
