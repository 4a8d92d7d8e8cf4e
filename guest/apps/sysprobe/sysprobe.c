/* sysprobe.c: makes the one system call named on its command line, to test each seccomp rule from inside a guest. */
#include "solo5.h"
#include "sn_printf.h"
#include "sn_solo5.h"
#include "sn_abi.h"
/* Raw system calls, the bindings' own wrappers (see guest/Makefile). */
#include "spt_sys.h"

/*
 * Usage: sysprobe PROBE. Each probe is one raw system call with chosen
 * arguments, pairing an allowed call with the same call one argument away.
 * If the call returns at all, the probe prints "PROBE OK <name> = <result>"
 * and exits 0; a forbidden call never returns (SIGSYS, status 159). The
 * result is printed but not judged: the policy decides whether a call is
 * made, not whether it succeeds. An unknown name lists the probes, exit 2.
 *
 * The same source serves both ABIs; it tells them apart at run time by the
 * ring ABI's boot info magic at SN_BOOTINFO_ADDR.
 *
 * Ring ABI (build/sysprobe.spt; no devices), "allowed" per lib/seccomp:
 *   write-fd1 (allowed)            write-fd2
 *   clock-realtime, clock-monotonic (allowed)   clock-cputime, clock-boottime
 *   tls-setfs (allowed)            arch-getfs, arch-setgs
 *   wait-fd3, pwait-fd3 (epoll_pwait2 and epoll_pwait on the wait fd: allowed)
 *   wait-fd0, pwait-fd0
 *   sched-yield (allowed: the spin in solo5_yield gives the CPU away; no arguments)
 *   exit-group (allowed)           exit-plain, open, socket, mmap, getpid
 *
 * Solo5 spt ABI (build/solo5/sysprobe.spt and build/solo5-v1/sysprobe.spt,
 * manifest.solo5.json: run with --net:service=... --block:storage=FILE;
 * the pwrite probes write zeros into FILE). Upstream's policy (facts §5):
 *   write-fd1 (allowed)            write-fd2
 *   clock-realtime, clock-monotonic (allowed)   clock-cputime, clock-boottime
 *   tls-setfs (allowed)            arch-getfs, arch-setgs
 *   epoll-pwait (epollfd, timeout 0: allowed)
 *   epoll-pwait-otherfd (the timerfd)   epoll-pwait2 (epollfd; not in the policy)
 *   timerfd-settime (timerfd, disarm: allowed)   timerfd-settime-otherfd (the epollfd)
 *   net-read, net-write (the net fd, one 60-byte frame: allowed)
 *   net-read-otherfd, net-write-otherfd (the block fd)
 *   block-pread, block-pwrite (one block at offset 0: allowed)
 *   block-pread-last, block-pwrite-last (offset capacity - block_size: allowed)
 *   block-pread-unaligned, block-pwrite-unaligned (offset 1: allowed, the
 *       policy does not check alignment; only the bindings do)
 *   block-pread-short, block-pwrite-short (size block_size / 2)
 *   block-pread-long, block-pwrite-long (size 2 * block_size)
 *   block-pread-past, block-pwrite-past (offset capacity - block_size + 1)
 *   block-pread-end, block-pwrite-end (offset capacity)
 *   block-pread-netfd, block-pwrite-netfd (the net fd, otherwise valid)
 *   sched-yield (not in upstream's policy)
 *   exit-group (allowed)           exit-plain, open, socket, mmap, getpid
 */

#define SYS_READ 0
#define SYS_WRITE 1
#define SYS_OPEN 2
#define SYS_MMAP 9
#define SYS_PREAD64 17
#define SYS_PWRITE64 18
#define SYS_SCHED_YIELD 24
#define SYS_GETPID 39
#define SYS_SOCKET 41
#define SYS_EXIT 60
#define SYS_ARCH_PRCTL 158
#define SYS_CLOCK_GETTIME 228
#define SYS_EXIT_GROUP 231
#define SYS_EPOLL_PWAIT 281
#define SYS_TIMERFD_SETTIME 286
#define SYS_EPOLL_PWAIT2 441

#define ARCH_SET_GS 0x1001
#define ARCH_SET_FS 0x1002
#define ARCH_GET_FS 0x1003

static const char msg[] = "sysprobe: console write\n";
static int64_t ts[4]; /* a timespec (zero timeout, clock output) or an itimerspec (disarm) */
static uint8_t events[12 * 4]; /* room for 4 packed struct epoll_event */
static uint64_t word;

/* What the Solo5 probes use, from the boot info and the manifest copy. */
static struct {
    long epollfd, timerfd, netfd, blkfd;
    uint64_t bs, cap;
    uint8_t *buf; /* 2 * bs bytes of heap */
} s5 = { -1, -1, -1, -1, 0, 0, 0 };

enum kind {
    WRITE,
    CLOCK,
    ARCH,
    PWAIT2,
    PWAIT,
    EXIT_GROUP,
    EXIT,
    OPEN,
    SOCKET,
    MMAP,
    GETPID,
    SCHED_YIELD,
    TIMERFD,
    READ,
    PREAD,
    PWRITE
};

/* Argument selectors for the Solo5 probes: which fd, offset and size. */
enum { NETFD = -100, BLKFD, EPOLLFD, TIMERFD_ };
enum { OFF0, OFF_LAST, OFF_1, OFF_PAST, OFF_END };
enum { SZ_BS, SZ_HALF, SZ_DOUBLE };

struct probe {
    const char *name;
    enum kind kind;
    long a, b, c;
};

static const struct probe ring_probes[] = {
    { "write-fd1", WRITE, 1, 0, 0 },
    { "write-fd2", WRITE, 2, 0, 0 },
    { "clock-realtime", CLOCK, 0, 0, 0 },
    { "clock-monotonic", CLOCK, 1, 0, 0 },
    { "clock-cputime", CLOCK, 2, 0, 0 },
    { "clock-boottime", CLOCK, 7, 0, 0 },
    { "tls-setfs", ARCH, ARCH_SET_FS, 0, 0 },
    { "arch-getfs", ARCH, ARCH_GET_FS, 0, 0 },
    { "arch-setgs", ARCH, ARCH_SET_GS, 0, 0 },
    { "wait-fd3", PWAIT2, 3, 0, 0 },
    { "wait-fd0", PWAIT2, 0, 0, 0 },
    { "pwait-fd3", PWAIT, 3, 0, 0 },
    { "pwait-fd0", PWAIT, 0, 0, 0 },
    { "sched-yield", SCHED_YIELD, 0, 0, 0 },
    { "exit-group", EXIT_GROUP, 0, 0, 0 },
    { "exit-plain", EXIT, 0, 0, 0 },
    { "open", OPEN, 0, 0, 0 },
    { "socket", SOCKET, 0, 0, 0 },
    { "mmap", MMAP, 0, 0, 0 },
    { "getpid", GETPID, 0, 0, 0 },
};

static const struct probe solo5_probes[] = {
    { "write-fd1", WRITE, 1, 0, 0 },
    { "write-fd2", WRITE, 2, 0, 0 },
    { "clock-realtime", CLOCK, 0, 0, 0 },
    { "clock-monotonic", CLOCK, 1, 0, 0 },
    { "clock-cputime", CLOCK, 2, 0, 0 },
    { "clock-boottime", CLOCK, 7, 0, 0 },
    { "tls-setfs", ARCH, ARCH_SET_FS, 0, 0 },
    { "arch-getfs", ARCH, ARCH_GET_FS, 0, 0 },
    { "arch-setgs", ARCH, ARCH_SET_GS, 0, 0 },
    { "epoll-pwait", PWAIT, EPOLLFD, 0, 0 },
    { "epoll-pwait-otherfd", PWAIT, TIMERFD_, 0, 0 },
    { "epoll-pwait2", PWAIT2, EPOLLFD, 0, 0 },
    { "timerfd-settime", TIMERFD, TIMERFD_, 0, 0 },
    { "timerfd-settime-otherfd", TIMERFD, EPOLLFD, 0, 0 },
    { "net-read", READ, NETFD, 0, 0 },
    { "net-read-otherfd", READ, BLKFD, 0, 0 },
    { "net-write", WRITE, NETFD, 0, 0 },
    { "net-write-otherfd", WRITE, BLKFD, 0, 0 },
    { "block-pread", PREAD, BLKFD, OFF0, SZ_BS },
    { "block-pread-last", PREAD, BLKFD, OFF_LAST, SZ_BS },
    { "block-pread-unaligned", PREAD, BLKFD, OFF_1, SZ_BS },
    { "block-pread-short", PREAD, BLKFD, OFF0, SZ_HALF },
    { "block-pread-long", PREAD, BLKFD, OFF0, SZ_DOUBLE },
    { "block-pread-past", PREAD, BLKFD, OFF_PAST, SZ_BS },
    { "block-pread-end", PREAD, BLKFD, OFF_END, SZ_BS },
    { "block-pread-netfd", PREAD, NETFD, OFF0, SZ_BS },
    { "block-pwrite", PWRITE, BLKFD, OFF0, SZ_BS },
    { "block-pwrite-last", PWRITE, BLKFD, OFF_LAST, SZ_BS },
    { "block-pwrite-unaligned", PWRITE, BLKFD, OFF_1, SZ_BS },
    { "block-pwrite-short", PWRITE, BLKFD, OFF0, SZ_HALF },
    { "block-pwrite-long", PWRITE, BLKFD, OFF0, SZ_DOUBLE },
    { "block-pwrite-past", PWRITE, BLKFD, OFF_PAST, SZ_BS },
    { "block-pwrite-end", PWRITE, BLKFD, OFF_END, SZ_BS },
    { "block-pwrite-netfd", PWRITE, NETFD, OFF0, SZ_BS },
    { "sched-yield", SCHED_YIELD, 0, 0, 0 },
    { "exit-group", EXIT_GROUP, 0, 0, 0 },
    { "exit-plain", EXIT, 0, 0, 0 },
    { "open", OPEN, 0, 0, 0 },
    { "socket", SOCKET, 0, 0, 0 },
    { "mmap", MMAP, 0, 0, 0 },
    { "getpid", GETPID, 0, 0, 0 },
};

static long fd_of(long sel)
{
    switch (sel) {
    case NETFD:
        return s5.netfd;
    case BLKFD:
        return s5.blkfd;
    case EPOLLFD:
        return s5.epollfd;
    case TIMERFD_:
        return s5.timerfd;
    default:
        return sel;
    }
}

static long offset_of(long sel)
{
    switch (sel) {
    case OFF_LAST:
        return (long)(s5.cap - s5.bs);
    case OFF_1:
        return 1;
    case OFF_PAST:
        return (long)(s5.cap - s5.bs + 1);
    case OFF_END:
        return (long)s5.cap;
    default:
        return 0;
    }
}

static long size_of(long sel)
{
    return sel == SZ_HALF ? (long)(s5.bs / 2) : sel == SZ_DOUBLE ? (long)(2 * s5.bs) : (long)s5.bs;
}

static long call(const struct probe *p)
{
    long fd = fd_of(p->a);

    switch (p->kind) {
    case WRITE:
        /* 60 bytes: a minimal Ethernet frame when the fd is a net device. */
        return spt_syscall6(SYS_WRITE, fd, (long)msg, fd == s5.netfd ? 60 : (long)sizeof msg - 1, 0, 0, 0);
    case READ:
        return spt_syscall6(SYS_READ, fd, (long)s5.buf, size_of(SZ_BS), 0, 0, 0);
    case CLOCK:
        return spt_syscall6(SYS_CLOCK_GETTIME, fd, (long)ts, 0, 0, 0, 0);
    case ARCH:
        /* SET_FS 0 is what the bindings do at boot; GET_FS writes to `word`. */
        return spt_syscall6(SYS_ARCH_PRCTL, p->a, p->a == ARCH_GET_FS ? (long)&word : 0, 0, 0, 0, 0);
    case PWAIT2:
        ts[0] = ts[1] = 0;
        return spt_syscall6(SYS_EPOLL_PWAIT2, fd, (long)events, 4, (long)ts, 0, 8);
    case PWAIT:
        return spt_syscall6(SYS_EPOLL_PWAIT, fd, (long)events, 4, 0, 0, 8);
    case TIMERFD:
        ts[0] = ts[1] = ts[2] = ts[3] = 0;
        return spt_syscall6(SYS_TIMERFD_SETTIME, fd, 0, (long)ts, 0, 0, 0);
    case PREAD:
    case PWRITE:
        return spt_syscall6(p->kind == PREAD ? SYS_PREAD64 : SYS_PWRITE64, fd, (long)s5.buf, size_of(p->c),
                            offset_of(p->b), 0, 0);
    case EXIT_GROUP:
        /* The OK line must come first: a successful exit_group never returns. */
        sn_printf("PROBE OK %s = (exiting)\n", p->name);
        return spt_syscall6(SYS_EXIT_GROUP, 0, 0, 0, 0, 0, 0);
    case EXIT:
        /* Allowed, this would end the only thread with status 0 and print nothing. */
        return spt_syscall6(SYS_EXIT, 0, 0, 0, 0, 0, 0);
    case OPEN:
        return spt_syscall6(SYS_OPEN, (long)"/", 0, 0, 0, 0, 0);
    case SOCKET:
        return spt_syscall6(SYS_SOCKET, 1 /* AF_UNIX */, 1 /* SOCK_STREAM */, 0, 0, 0, 0);
    case SCHED_YIELD:
        return spt_syscall6(SYS_SCHED_YIELD, 0, 0, 0, 0, 0, 0);
    case MMAP:
        return spt_syscall6(SYS_MMAP, 0, 4096, 1 /* PROT_READ */, 0x22 /* MAP_PRIVATE|MAP_ANONYMOUS */, -1,
                            0);
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

/*
 * The Solo5 probes' fds and geometry, read from the boot info and the
 * manifest copy the tender wrote (through the API where it has one).
 */
static int solo5_setup(const struct solo5_start_info *si)
{
    const struct sn_solo5_boot_info *bi = (const struct sn_solo5_boot_info *)SN_SOLO5_BOOT_INFO_BASE;
    const struct sn_mft *m = (const struct sn_mft *)(uintptr_t)bi->mft;
    solo5_handle_t hn, hb;
    struct solo5_net_info ni;
    struct solo5_block_info bk;

    if (solo5_net_acquire("service", &hn, &ni) != SOLO5_R_OK ||
        solo5_block_acquire("storage", &hb, &bk) != SOLO5_R_OK) {
        sn_printf("sysprobe: attach net 'service' and block 'storage'\n");
        return 0;
    }
    s5.epollfd = bi->epollfd;
    s5.timerfd = bi->timerfd;
    s5.netfd = m->e[hn].b.hostfd;
    s5.blkfd = m->e[hb].b.hostfd;
    s5.bs = bk.block_size;
    s5.cap = bk.capacity;
    s5.buf = (uint8_t *)si->heap_start;
    if (si->heap_size < 2 * s5.bs + 65536) {
        sn_printf("sysprobe: not enough heap for a %lu-byte block\n", (unsigned long)s5.bs);
        return 0;
    }
    for (uint64_t i = 0; i < 2 * s5.bs; i++)
        s5.buf[i] = 0;
    return 1;
}

int solo5_app_main(const struct solo5_start_info *si)
{
    int ring = *(volatile uint64_t *)SN_BOOTINFO_ADDR == SN_BOOTINFO_MAGIC;
    const struct probe *probes = ring ? ring_probes : solo5_probes;
    size_t n =
        ring ? sizeof ring_probes / sizeof ring_probes[0] : sizeof solo5_probes / sizeof solo5_probes[0];

    for (size_t i = 0; i < n; i++) {
        const struct probe *p = &probes[i];
        if (!same(si->cmdline, p->name))
            continue;
        if (!ring && !solo5_setup(si))
            return 2;
        long r = call(p);
        sn_printf("PROBE OK %s = %ld\n", p->name, r);
        return SOLO5_EXIT_SUCCESS;
    }
    sn_printf("PROBE UNKNOWN '%s'; probes:", si->cmdline);
    for (size_t i = 0; i < n; i++)
        sn_printf(" %s", probes[i].name);
    sn_puts("\n");
    return 2;
}
