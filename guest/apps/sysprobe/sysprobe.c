/* sysprobe.c: makes the one system call named on its command line, to test each seccomp rule from inside a guest. */
#include "solo5.h"
#include "sn_printf.h"
#include "spt_sys.h"

/*
 * Usage: sysprobe PROBE. Each probe is one raw system call with chosen
 * arguments, pairing an allowed call with the same call one argument away
 * (another fd, clock or arch_prctl op). If the call returns at all, the
 * probe prints "PROBE OK <name> = <result>" and exits 0; a forbidden call
 * never returns (SIGSYS, status 159). The result is printed but not judged:
 * the policy decides whether a call is made, not whether it succeeds.
 */

/*
 * spt_syscall6 is the bindings' own wrapper (guest/bindings/spt/spt_sys.h,
 * on the include path for this app only; see guest/Makefile).
 */
#define SYS_WRITE 1
#define SYS_OPEN 2
#define SYS_MMAP 9
#define SYS_GETPID 39
#define SYS_SOCKET 41
#define SYS_EXIT 60
#define SYS_ARCH_PRCTL 158
#define SYS_CLOCK_GETTIME 228
#define SYS_EXIT_GROUP 231
#define SYS_EPOLL_PWAIT 281
#define SYS_EPOLL_PWAIT2 441

#define ARCH_SET_GS 0x1001
#define ARCH_SET_FS 0x1002
#define ARCH_GET_FS 0x1003

static const char msg[] = "sysprobe: console write\n";
static int64_t ts[2];            /* struct timespec: zero timeout, or clock output */
static uint8_t events[12 * 4];   /* room for 4 packed struct epoll_event */
static uint64_t word;

static long write_fd(long fd)
{
    return spt_syscall6(SYS_WRITE, fd, (long)msg, sizeof msg - 1, 0, 0, 0);
}

static long clock_probe(long id)
{
    return spt_syscall6(SYS_CLOCK_GETTIME, id, (long)ts, 0, 0, 0, 0);
}

static long pwait2(long fd)
{
    ts[0] = ts[1] = 0;
    return spt_syscall6(SYS_EPOLL_PWAIT2, fd, (long)events, 4, (long)ts, 0, 8);
}

static long pwait(long fd)
{
    return spt_syscall6(SYS_EPOLL_PWAIT, fd, (long)events, 4, 0, 0, 8);
}

static const struct probe {
    const char *name;
    int kind;
    long a;
} probes[] = {
    { "write-fd1", 'w', 1 },          { "write-fd2", 'w', 2 },
    { "clock-realtime", 'c', 0 },     { "clock-monotonic", 'c', 1 },
    { "clock-cputime", 'c', 2 },      { "clock-boottime", 'c', 7 },
    { "tls-setfs", 'a', ARCH_SET_FS }, { "arch-getfs", 'a', ARCH_GET_FS },
    { "arch-setgs", 'a', ARCH_SET_GS }, { "wait-fd3", 'p', 3 },
    { "wait-fd0", 'p', 0 },           { "pwait-fd3", 'q', 3 },
    { "pwait-fd0", 'q', 0 },          { "exit-group", 'g', 0 },
    { "exit-plain", 'x', 0 },         { "open", 'o', 0 },
    { "socket", 's', 0 },             { "mmap", 'm', 0 },
    { "getpid", 'i', 0 },
};

static long call(const struct probe *p)
{
    switch (p->kind) {
    case 'w':
        return write_fd(p->a);
    case 'c':
        return clock_probe(p->a);
    case 'a':
        /* SET_FS 0 is what the bindings do at boot; GET_FS writes to `word`. */
        return spt_syscall6(SYS_ARCH_PRCTL, p->a, p->a == ARCH_GET_FS ? (long)&word : 0, 0, 0, 0, 0);
    case 'p':
        return pwait2(p->a);
    case 'q':
        return pwait(p->a);
    case 'g':
        /* The OK line must come first: a successful exit_group never returns. */
        sn_printf("PROBE OK %s = (exiting)\n", p->name);
        return spt_syscall6(SYS_EXIT_GROUP, 0, 0, 0, 0, 0, 0);
    case 'x':
        /* Allowed, this would end the only thread with status 0 and print nothing. */
        return spt_syscall6(SYS_EXIT, 0, 0, 0, 0, 0, 0);
    case 'o':
        return spt_syscall6(SYS_OPEN, (long)"/", 0, 0, 0, 0, 0);
    case 's':
        return spt_syscall6(SYS_SOCKET, 1 /* AF_UNIX */, 1 /* SOCK_STREAM */, 0, 0, 0, 0);
    case 'm':
        return spt_syscall6(SYS_MMAP, 0, 4096, 1 /* PROT_READ */, 0x22 /* MAP_PRIVATE|MAP_ANONYMOUS */, -1, 0);
    default:
        return spt_syscall6(SYS_GETPID, 0, 0, 0, 0, 0, 0);
    }
}

static int same(const char *a, const char *b)
{
    while (*a != '\0' && *a == *b) {
        a++;
        b++;
    }
    return *a == *b;
}

int solo5_app_main(const struct solo5_start_info *si)
{
    for (size_t i = 0; i < sizeof probes / sizeof probes[0]; i++) {
        const struct probe *p = &probes[i];
        if (!same(si->cmdline, p->name))
            continue;
        long r = call(p);
        sn_printf("PROBE OK %s = %ld\n", p->name, r);
        return SOLO5_EXIT_SUCCESS;
    }
    sn_printf("PROBE UNKNOWN '%s'; probes:", si->cmdline);
    for (size_t i = 0; i < sizeof probes / sizeof probes[0]; i++)
        sn_printf(" %s", probes[i].name);
    sn_puts("\n");
    return 2;
}
