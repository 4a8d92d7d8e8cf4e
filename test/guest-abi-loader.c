/* guest-abi-loader.c: a test-only stand-in for upstream's solo5-spt, to run Solo5-ABI builds by the published facts alone. */

/*
 * test/guest-abi.test.ts compiles this with the host's gcc and runs the
 * bindings' Solo5-ABI builds (guest/build/solo5/, solo5-v1/) under it, so
 * that the guest side of the Solo5 spt ABI is checked against the ABI as
 * published (docs: the facts sheet), independently of this project's own
 * tender. It does what upstream's tender does, in the same order, and no
 * more: map memory from 0x10000, load the PT_LOADs with file bytes, write
 * the boot info, the manifest copy with host fds and the command line, set
 * up the epoll fd and timerfd, install upstream's seccomp rules, and jump
 * with %rsp = mem - 8 and %rdi = the boot info.
 *
 * Usage: guest-abi-loader [--mem=MB] [--block:NAME=PATH] [--net:NAME=IP]
 *                         [--ping=COUNT] KERNEL [ARGS...]
 * A net device is one end of a SOCK_SEQPACKET pair; the loader forks, the
 * child becomes the guest and the parent plays the peer at 10.0.0.1: it
 * asks for IP's MAC by ARP, sends COUNT ICMP echo requests, prints
 * "LOADER ARP ok" and "LOADER PING n/COUNT", and exits with the guest's
 * status (128 + signal when it died by one).
 */
#define _GNU_SOURCE
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <unistd.h>
#include "sn_solo5.h"

#define MAX_DEVS 8
#define PAGE 0x1000ULL

struct dev {
    const char *name;
    const char *path; /* block */
    uint8_t ip[4]; /* net */
    int net, fd, peer;
    uint64_t capacity;
};

static struct dev devs[MAX_DEVS];
static int ndevs;

static void die(const char *what)
{
    fprintf(stderr, "guest-abi-loader: %s: %s\n", what, strerror(errno));
    exit(1);
}

static void fail(const char *what)
{
    fprintf(stderr, "guest-abi-loader: %s\n", what);
    exit(1);
}

/* ------------------------------------------------------------------------
 * Upstream's seccomp policy (facts §5), as classic BPF.
 */
static struct sock_filter prog[256];
static unsigned plen;

static void emit(struct sock_filter f)
{
    if (plen == sizeof prog / sizeof prog[0])
        fail("BPF program too long");
    prog[plen++] = f;
}

#define ARG_LO(i) (offsetof(struct seccomp_data, args) + 8 * (i))
#define ARG_HI(i) (ARG_LO(i) + 4)

struct cond {
    int arg;
    int le; /* 0: ==, 1: <= (unsigned 64-bit) */
    uint64_t val;
};

/* One allow rule: syscall `nr` when every condition holds; otherwise on to the next rule. */
static void rule(int nr, const struct cond *c, int n)
{
    unsigned len = 3; /* load nr, compare, return */
    for (int i = 0; i < n; i++)
        len += c[i].le ? 5 : 4;
    unsigned end = plen + len; /* the next rule's first instruction */
#define TO_END(at) ((uint8_t)(end - (at) - 1))
    emit((struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)));
    emit((struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)nr, 0, TO_END(plen)));
    for (int i = 0; i < n; i++) {
        uint32_t lo = (uint32_t)c[i].val, hi = (uint32_t)(c[i].val >> 32);
        emit((struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, ARG_HI(c[i].arg)));
        if (!c[i].le) {
            emit((struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, hi, 0, TO_END(plen)));
            emit((struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, ARG_LO(c[i].arg)));
            emit((struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, lo, 0, TO_END(plen)));
        } else {
            /* hi > H fails; hi < H passes (skip the low word); hi == H needs lo <= L. */
            emit((struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JGT | BPF_K, hi, TO_END(plen), 0));
            emit((struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, hi, 0, 2));
            emit((struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, ARG_LO(c[i].arg)));
            emit((struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JGT | BPF_K, lo, TO_END(plen), 0));
        }
    }
    emit((struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW));
#undef TO_END
}

static void install_policy(int epollfd, int timerfd, const uint16_t *bs)
{
    emit((struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)));
    emit((struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0));
    emit((struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS));
    emit((struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)));
    emit((struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, 0x40000000, 0, 1));
    emit((struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS));

    rule(SYS_write, (struct cond[]){ { 0, 0, 1 } }, 1);
    rule(SYS_exit_group, NULL, 0);
    rule(SYS_epoll_pwait, (struct cond[]){ { 0, 0, (uint64_t)epollfd } }, 1);
    rule(SYS_timerfd_settime, (struct cond[]){ { 0, 0, (uint64_t)timerfd } }, 1);
    rule(SYS_clock_gettime, (struct cond[]){ { 0, 0, 1 } }, 1);
    rule(SYS_clock_gettime, (struct cond[]){ { 0, 0, 0 } }, 1);
    rule(SYS_arch_prctl, (struct cond[]){ { 0, 0, 0x1002 } }, 1);
    for (int i = 0; i < ndevs; i++) {
        struct dev *d = &devs[i];
        if (d->net) {
            rule(SYS_read, (struct cond[]){ { 0, 0, (uint64_t)d->fd } }, 1);
            rule(SYS_write, (struct cond[]){ { 0, 0, (uint64_t)d->fd } }, 1);
        } else {
            struct cond c[3] = { { 0, 0, (uint64_t)d->fd }, { 2, 0, bs[i] }, { 3, 1, d->capacity - bs[i] } };
            rule(SYS_pread64, c, 3);
            rule(SYS_pwrite64, c, 3);
        }
    }
    emit((struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS));

    struct sock_fprog fp = { .len = (unsigned short)plen, .filter = prog };
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
        die("PR_SET_NO_NEW_PRIVS");
    if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &fp) != 0)
        die("seccomp");
}

/* ------------------------------------------------------------------------
 * The peer of the guest's net device: ARP, then ICMP echo.
 */
static const uint8_t peer_mac[6] = { 0x02, 0, 0, 0, 0, 1 };
static const uint8_t peer_ip[4] = { 10, 0, 0, 1 };

static uint16_t csum(const uint8_t *p, size_t n)
{
    uint32_t s = 0;
    for (size_t i = 0; i + 1 < n; i += 2)
        s += (uint32_t)(p[i] << 8 | p[i + 1]);
    if (n & 1)
        s += (uint32_t)p[n - 1] << 8;
    while (s >> 16)
        s = (s & 0xffff) + (s >> 16);
    return (uint16_t)~s;
}

/* Waits up to 5 s for a frame of `type` (0x0806, or 0x0800 with ICMP echo reply `seq`). */
static int await(int fd, uint16_t type, uint16_t seq, uint8_t *mac)
{
    uint8_t f[2048];
    struct pollfd p = { .fd = fd, .events = POLLIN };
    while (poll(&p, 1, 5000) == 1) {
        ssize_t n = recv(fd, f, sizeof f, 0);
        if (n < 14)
            return 0;
        if ((f[12] << 8 | f[13]) != type)
            continue;
        if (type == 0x0806 && n >= 42 && f[21] == 2) {
            memcpy(mac, f + 22, 6);
            return 1;
        }
        if (type == 0x0800 && n >= 42 && f[23] == 1 && f[34] == 0 && (f[40] << 8 | f[41]) == seq)
            return 1;
    }
    return 0;
}

static int peer(struct dev *d, int count)
{
    uint8_t f[98] = { 0 }, mac[6];
    memset(f, 0xff, 6);
    memcpy(f + 6, peer_mac, 6);
    f[12] = 0x08, f[13] = 0x06;
    const uint8_t arp[8] = { 0, 1, 8, 0, 6, 4, 0, 1 };
    memcpy(f + 14, arp, 8);
    memcpy(f + 22, peer_mac, 6);
    memcpy(f + 28, peer_ip, 4);
    memcpy(f + 38, d->ip, 4);
    if (send(d->peer, f, 42, 0) != 42 || !await(d->peer, 0x0806, 0, mac))
        return 0;
    printf("LOADER ARP ok\n");
    int got = 0;
    for (int seq = 1; seq <= count; seq++) {
        memset(f, 0, sizeof f);
        memcpy(f, mac, 6);
        memcpy(f + 6, peer_mac, 6);
        f[12] = 0x08;
        uint8_t *ip = f + 14, *icmp = f + 34;
        ip[0] = 0x45, ip[3] = 84, ip[8] = 64, ip[9] = 1;
        memcpy(ip + 12, peer_ip, 4);
        memcpy(ip + 16, d->ip, 4);
        uint16_t c = csum(ip, 20);
        ip[10] = (uint8_t)(c >> 8), ip[11] = (uint8_t)c;
        icmp[0] = 8, icmp[6] = (uint8_t)(seq >> 8), icmp[7] = (uint8_t)seq;
        for (int i = 8; i < 64; i++)
            icmp[i] = (uint8_t)i;
        c = csum(icmp, 64);
        icmp[2] = (uint8_t)(c >> 8), icmp[3] = (uint8_t)c;
        if (send(d->peer, f, sizeof f, 0) != (ssize_t)sizeof f)
            break;
        got += await(d->peer, 0x0800, (uint16_t)seq, mac);
    }
    printf("LOADER PING %d/%d\n", got, count);
    fflush(stdout);
    return 1;
}

/* ------------------------------------------------------------------------
 * Loading and boot, in upstream's order.
 */
static void __attribute__((noreturn)) jump(uint64_t entry, uint64_t sp)
{
    __asm__ volatile("mov %0, %%rsp\n\tmov %1, %%rdi\n\tjmp *%2"
                     :
                     : "r"(sp), "r"((uint64_t)SN_SOLO5_BOOT_INFO_BASE), "r"(entry)
                     : "memory");
    __builtin_unreachable();
}

static int parse_ip(const char *s, uint8_t *ip)
{
    unsigned a, b, c, e;
    if (sscanf(s, "%u.%u.%u.%u", &a, &b, &c, &e) != 4 || a > 255 || b > 255 || c > 255 || e > 255)
        return 0;
    ip[0] = (uint8_t)a, ip[1] = (uint8_t)b, ip[2] = (uint8_t)c, ip[3] = (uint8_t)e;
    return 1;
}

int main(int argc, char **argv)
{
    uint64_t mem = 512ULL << 20;
    int ping = 0, i;

    for (i = 1; i < argc && argv[i][0] == '-'; i++) {
        char *a = argv[i], *eq = strchr(a, '=');
        if (strncmp(a, "--mem=", 6) == 0) {
            mem = strtoull(a + 6, NULL, 10) << 20;
        } else if (strncmp(a, "--ping=", 7) == 0) {
            ping = atoi(a + 7);
        } else if ((strncmp(a, "--block:", 8) == 0 || strncmp(a, "--net:", 6) == 0) && eq &&
                   ndevs < MAX_DEVS) {
            struct dev *d = &devs[ndevs++];
            d->net = a[2] == 'n';
            *eq = '\0';
            d->name = a + (d->net ? 6 : 8);
            if (d->net ? !parse_ip(eq + 1, d->ip) : 0)
                fail("bad IP");
            d->path = eq + 1;
        } else {
            fail("unknown option");
        }
    }
    if (i >= argc)
        fail("usage: guest-abi-loader [--mem=MB] [--block:NAME=PATH] [--net:NAME=IP] [--ping=N] KERNEL "
             "[ARGS...]");

    int elf = open(argv[i], O_RDONLY);
    if (elf < 0)
        die(argv[i]);
    Elf64_Ehdr eh;
    Elf64_Phdr ph[16];
    if (pread(elf, &eh, sizeof eh, 0) != sizeof eh || eh.e_phentsize != sizeof ph[0] || eh.e_phnum > 16 ||
        pread(elf, ph, sizeof ph[0] * eh.e_phnum, (off_t)eh.e_phoff) != (ssize_t)(sizeof ph[0] * eh.e_phnum))
        fail("bad ELF");

    /* The manifest, from the first PT_NOTE whose note is MFT1 (descriptor 8-aligned). */
    uint8_t mft[SN_MFT_SIZE(SN_MFT_MAX_ENTRIES)];
    size_t mft_size = 0;
    for (int k = 0; k < eh.e_phnum && mft_size == 0; k++) {
        uint32_t nh[5];
        if (ph[k].p_type != PT_NOTE || pread(elf, nh, 20, (off_t)ph[k].p_offset) != 20 || nh[0] != 6 ||
            nh[2] != SN_NOTE_TYPE_MFT)
            continue;
        size_t pad = SN_NOTE_MFT1_PAD;
        mft_size = nh[1] - pad;
        if (mft_size > sizeof mft ||
            pread(elf, mft, mft_size, (off_t)(ph[k].p_offset + 20 + pad)) != (ssize_t)mft_size)
            fail("bad MFT1 note");
    }
    struct sn_mft *m = (struct sn_mft *)mft;
    if (mft_size < 8 || m->entries < 1 || m->entries > SN_MFT_MAX_ENTRIES ||
        mft_size != SN_MFT_SIZE(m->entries))
        fail("no valid manifest");

    /* Devices, opened as upstream does; each declared one must be attached. */
    int sp[2];
    uint16_t bs[MAX_DEVS] = { 0 };
    for (int k = 0; k < ndevs; k++) {
        struct dev *d = &devs[k];
        if (d->net) {
            if (socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sp) != 0)
                die("socketpair");
            d->fd = sp[0], d->peer = sp[1];
            fcntl(d->fd, F_SETFL, O_NONBLOCK);
        } else {
            d->fd = open(d->path, O_RDWR);
            if (d->fd < 0)
                die(d->path);
            d->capacity = (uint64_t)lseek(d->fd, 0, SEEK_END);
            bs[k] = 512;
        }
    }
    pid_t child = ndevs > 0 && devs[0].net && ping > 0 ? fork() : 0;
    if (child < 0)
        die("fork");
    if (child > 0) {
        int status, ok = peer(&devs[0], ping);
        if (!ok)
            printf("LOADER ARP failed\n");
        if (waitpid(child, &status, 0) < 0)
            die("waitpid");
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }

    if (mmap((void *)SN_SOLO5_HOST_MEM_BASE, mem - SN_SOLO5_HOST_MEM_BASE, PROT_READ | PROT_WRITE,
             MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) == MAP_FAILED)
        die("mmap");
    int epollfd = epoll_create1(0);
    int timerfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK);
    struct epoll_event ev = { .events = EPOLLIN, .data.u64 = SN_SOLO5_INTERNAL_TIMERFD };
    if (epollfd < 0 || timerfd < 0 || epoll_ctl(epollfd, EPOLL_CTL_ADD, timerfd, &ev) != 0)
        die("epoll/timerfd");

    uint64_t kernel_end = 0;
    for (int k = 0; k < eh.e_phnum; k++) {
        Elf64_Phdr *p = &ph[k];
        if (p->p_type != PT_LOAD || p->p_filesz == 0)
            continue;
        if (p->p_vaddr < SN_SOLO5_GUEST_MIN_BASE || p->p_vaddr + p->p_memsz > mem)
            fail("segment outside memory");
        if (pread(elf, (void *)p->p_vaddr, p->p_filesz, (off_t)p->p_offset) != (ssize_t)p->p_filesz)
            die("loading a segment");
        uint64_t start = p->p_vaddr & ~(PAGE - 1), end = (p->p_vaddr + p->p_memsz + PAGE - 1) & ~(PAGE - 1);
        int prot = (p->p_flags & PF_R ? PROT_READ : 0) | (p->p_flags & PF_W ? PROT_WRITE : 0) |
                   (p->p_flags & PF_X ? PROT_EXEC : 0);
        if ((prot & PROT_WRITE) && (prot & PROT_EXEC))
            fail("segment requests WRITE and EXEC");
        if (mprotect((void *)start, end - start, prot) != 0)
            die("mprotect");
        if (end > kernel_end)
            kernel_end = end;
    }
    close(elf);

    for (uint32_t e = 1; e < m->entries; e++) {
        struct sn_mft_entry *me = &m->e[e];
        int k;
        for (k = 0; k < ndevs && strcmp(devs[k].name, me->name) != 0; k++)
            ;
        if (k == ndevs || (me->type == SN_MFT_DEV_NET_BASIC) != devs[k].net)
            fail("a declared device is not attached");
        struct dev *d = &devs[k];
        me->b.hostfd = d->fd;
        me->attached = 1;
        if (d->net) {
            const uint8_t mac[6] = { 0x02, 0, 0, 0, 0, 2 };
            memcpy(me->u.net_basic.mac, mac, 6);
            me->u.net_basic.mtu = 1500;
            ev.data.u64 = e;
            if (epoll_ctl(epollfd, EPOLL_CTL_ADD, d->fd, &ev) != 0)
                die("epoll_ctl");
        } else {
            me->u.block_basic.capacity = d->capacity;
            me->u.block_basic.block_size = bs[k];
        }
    }

    struct sn_solo5_boot_info *bi = (struct sn_solo5_boot_info *)SN_SOLO5_BOOT_INFO_BASE;
    memcpy((void *)SN_SOLO5_MFT_ADDR, mft, mft_size);
    char *cmdline = (char *)(SN_SOLO5_MFT_ADDR + mft_size);
    size_t used = 0;
    for (int a = i + 1; a < argc; a++) {
        size_t n = strlen(argv[a]);
        if (used + n + 2 > SN_SOLO5_CMDLINE_SIZE)
            fail("command line too long");
        if (used > 0)
            cmdline[used++] = ' ';
        memcpy(cmdline + used, argv[a], n);
        used += n;
    }
    cmdline[used] = '\0';
    *bi = (struct sn_solo5_boot_info){ .mem_size = mem,
                                       .kernel_end = kernel_end,
                                       .cmdline = (uint64_t)cmdline,
                                       .mft = SN_SOLO5_MFT_ADDR,
                                       .epollfd = epollfd,
                                       .timerfd = timerfd };
    fflush(stdout);
    install_policy(epollfd, timerfd, bs);
    jump(eh.e_entry, mem - SN_SOLO5_STACK_GAP);
}
