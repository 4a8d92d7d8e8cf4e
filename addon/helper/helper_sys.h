/* helper_sys.h: raw x86-64 Linux system calls and kernel constants for the libc-free helper. */
#ifndef HELPER_SYS_H
#define HELPER_SYS_H

#include <stddef.h>
#include <stdint.h>

/*
 * The helper links no libc: a libc's start-up code (TLS set-up, stdio, locale,
 * atexit) would cost time on every guest launch and leave state in the process
 * the guest inherits. The few calls it needs are made here directly; each
 * returns the kernel's raw result, -errno on failure.
 */

#define SYS_read 0
#define SYS_pread64 17
#define SYS_write 1
#define SYS_close 3
#define SYS_fstat 5
#define SYS_mmap 9
#define SYS_mprotect 10
#define SYS_fcntl 72
#define SYS_prctl 157
#define SYS_epoll_ctl 233
#define SYS_exit_group 231
#define SYS_epoll_create1 291
#define SYS_dup3 292
#define SYS_seccomp 317
#define SYS_close_range 436
#define SYS_getpid 39
#define SYS_getppid 110
#define SYS_setsid 112
#define SYS_setgroups 116
#define SYS_setresuid 117
#define SYS_setresgid 119
#define SYS_capset 126
#define SYS_timerfd_create 283

#define H_PROT_READ 1
#define H_PROT_WRITE 2
#define H_PROT_EXEC 4
#define H_MAP_SHARED 0x01
#define H_MAP_FIXED_NOREPLACE 0x100000

#define H_O_CLOEXEC 02000000
#define H_F_GETFD 1
#define H_F_GETFL 3
#define H_F_SETFL 4
#define H_O_NONBLOCK 04000
#define H_EPOLL_CLOEXEC H_O_CLOEXEC
#define H_EPOLL_CTL_ADD 1
#define H_EPOLLIN 0x001

#define H_PR_SET_NO_NEW_PRIVS 38
#define H_PR_SET_PDEATHSIG 1
#define H_PR_CAPBSET_DROP 24
#define H_PR_CAP_AMBIENT 47
#define H_PR_CAP_AMBIENT_CLEAR_ALL 4
#define H_SIGKILL 9

#define H_CLOCK_MONOTONIC 1
#define H_TFD_NONBLOCK 04000

/* capset(2) with _LINUX_CAPABILITY_VERSION_3: a header and two 32-bit words per set. */
#define H_CAP_VERSION_3 0x20080522U
struct h_cap_header {
    uint32_t version;
    int pid;
};
struct h_cap_data {
    uint32_t effective;
    uint32_t permitted;
    uint32_t inheritable;
};
#define H_SECCOMP_SET_MODE_FILTER 1

/* The kernel's struct epoll_event is packed on x86-64 (12 bytes). */
struct h_epoll_event {
    uint32_t events;
    uint64_t data;
} __attribute__((packed));

/* x86-64 struct stat, as the kernel writes it for fstat(2). */
struct h_stat {
    uint64_t st_dev;
    uint64_t st_ino;
    uint64_t st_nlink;
    uint32_t st_mode;
    uint32_t st_uid;
    uint32_t st_gid;
    uint32_t pad0;
    uint64_t st_rdev;
    int64_t st_size;
    int64_t st_blksize;
    int64_t st_blocks;
    uint64_t times[6];
    int64_t unused[3];
};
_Static_assert(sizeof(struct h_stat) == 144, "x86-64 struct stat");
#define H_S_IFMT 0170000
#define H_S_IFREG 0100000

/* Classic BPF as seccomp takes it. */
struct h_sock_filter {
    uint16_t code;
    uint8_t jt;
    uint8_t jf;
    uint32_t k;
};
struct h_sock_fprog {
    uint16_t len;
    const struct h_sock_filter *filter;
};

static inline long h_syscall6(long nr, long a1, long a2, long a3, long a4, long a5, long a6)
{
    long ret;
    register long r10 __asm__("r10") = a4;
    register long r8 __asm__("r8") = a5;
    register long r9 __asm__("r9") = a6;
    __asm__ volatile("syscall"
                     : "=a"(ret)
                     : "a"(nr), "D"(a1), "S"(a2), "d"(a3), "r"(r10), "r"(r8), "r"(r9)
                     : "rcx", "r11", "memory");
    return ret;
}

static inline long h_syscall3(long nr, long a1, long a2, long a3)
{
    long ret;
    __asm__ volatile("syscall" : "=a"(ret) : "a"(nr), "D"(a1), "S"(a2), "d"(a3) : "rcx", "r11", "memory");
    return ret;
}

static inline long h_pread(int fd, void *buf, size_t len, long off)
{
    return h_syscall6(SYS_pread64, fd, (long)buf, (long)len, off, 0, 0);
}

static inline long h_read(int fd, void *buf, size_t len)
{
    return h_syscall3(SYS_read, fd, (long)buf, (long)len);
}

static inline long h_write(int fd, const void *buf, size_t len)
{
    return h_syscall3(SYS_write, fd, (long)buf, (long)len);
}

static inline long h_close(int fd)
{
    return h_syscall3(SYS_close, fd, 0, 0);
}

static inline long h_close_range(unsigned first, unsigned last)
{
    return h_syscall3(SYS_close_range, first, last, 0);
}

static inline long h_fstat(int fd, struct h_stat *st)
{
    return h_syscall3(SYS_fstat, fd, (long)st, 0);
}

static inline long h_mmap(uint64_t addr, uint64_t len, int prot, int flags, int fd, uint64_t off)
{
    return h_syscall6(SYS_mmap, (long)addr, (long)len, prot, flags, fd, (long)off);
}

static inline long h_mprotect(uint64_t addr, uint64_t len, int prot)
{
    return h_syscall3(SYS_mprotect, (long)addr, (long)len, prot);
}

static inline long h_fcntl(int fd, int cmd)
{
    return h_syscall3(SYS_fcntl, fd, cmd, 0);
}

static inline long h_fcntl3(int fd, int cmd, long arg)
{
    return h_syscall3(SYS_fcntl, fd, cmd, arg);
}

static inline long h_epoll_create1(int flags)
{
    return h_syscall3(SYS_epoll_create1, flags, 0, 0);
}

static inline long h_epoll_ctl(int epfd, int op, int fd, struct h_epoll_event *ev)
{
    return h_syscall6(SYS_epoll_ctl, epfd, op, fd, (long)ev, 0, 0);
}

static inline long h_dup3(int oldfd, int newfd, int flags)
{
    return h_syscall3(SYS_dup3, oldfd, newfd, flags);
}

static inline long h_prctl(int op, long arg2)
{
    return h_syscall6(SYS_prctl, op, arg2, 0, 0, 0, 0);
}

static inline long h_prctl5(int op, long a2, long a3, long a4, long a5)
{
    return h_syscall6(SYS_prctl, op, a2, a3, a4, a5, 0);
}

static inline long h_getpid(void)
{
    return h_syscall3(SYS_getpid, 0, 0, 0);
}

static inline long h_getppid(void)
{
    return h_syscall3(SYS_getppid, 0, 0, 0);
}

static inline long h_setsid(void)
{
    return h_syscall3(SYS_setsid, 0, 0, 0);
}

static inline long h_setgroups_none(void)
{
    return h_syscall3(SYS_setgroups, 0, 0, 0);
}

static inline long h_setresuid(uint32_t id)
{
    return h_syscall3(SYS_setresuid, id, id, id);
}

static inline long h_setresgid(uint32_t id)
{
    return h_syscall3(SYS_setresgid, id, id, id);
}

static inline long h_capset(struct h_cap_header *hdr, const struct h_cap_data *data)
{
    return h_syscall3(SYS_capset, (long)hdr, (long)data, 0);
}

static inline long h_timerfd_create(int clock, int flags)
{
    return h_syscall3(SYS_timerfd_create, clock, flags, 0);
}

static inline long h_seccomp(unsigned op, unsigned flags, const void *args)
{
    return h_syscall3(SYS_seccomp, op, flags, (long)args);
}

__attribute__((noreturn)) static inline void h_exit_group(int status)
{
    for (;;)
        h_syscall3(SYS_exit_group, status, 0, 0);
}

/* A raw syscall result in [-4095, -1] is a negated errno. */
static inline int h_is_err(long ret)
{
    return ret < 0 && ret >= -4095;
}

#endif /* HELPER_SYS_H */
