/* hvt-abi-loader.c: a test-only stand-in for upstream's solo5-hvt, to run Solo5-ABI hvt builds by the published facts alone. */

/*
 * test/hvt-guest-abi.test.ts compiles this with the host's gcc and runs the
 * bindings' Solo5-ABI hvt builds (guest/build/solo5/APP.hvt, solo5-v1/) under
 * it, so that the guest side is checked against upstream's tender as the
 * facts sheet describes it, independently of this project's own tender. It
 * sets the machine up as upstream does: one memory slot at 0, its GDT at
 * 0x1000, page tables at 0x2000 without the user bit, CR0/CR4/EFER as
 * upstream (no EFER.SCE), the host's CPUID, no IDT, RIP = e_entry,
 * RSP = mem - 8, RDI = 0x10000, the boot info (56 bytes, or 40 with --old,
 * which also puts the manifest right after it), the manifest copy with the
 * host fds, the command line. It serves WALLTIME, PUTS, POLL (no net),
 * BLOCK_READ/WRITE with upstream's checks, and HALT; anything else ends it
 * with upstream's messages and 1.
 *
 * Usage: hvt-abi-loader [--mem=MB] [--old] [--block:NAME=PATH] KERNEL [ARGS...]
 * On HALT it prints "LOADER cookie rip=0x... cs=0x... cr2=0x..." on stderr
 * when the guest passed a cookie, and exits with the guest's status.
 */
#define _GNU_SOURCE
#include <elf.h>
#include <err.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <signal.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "sn_solo5_hvt.h"

static uint8_t *mem;
static uint64_t mem_size;

/* Upstream's address check: strictly below the top. */
static void *gpa(uint64_t addr, uint64_t size)
{
    if (addr >= mem_size || size > mem_size || addr + size >= mem_size)
        errx(1, "Invalid guest access: gpa=0x%llx, sz=%llu", (unsigned long long)addr,
             (unsigned long long)size);
    return mem + addr;
}

struct blk {
    char name[SN_MFT_NAME_SIZE];
    int fd;
    uint64_t capacity;
};
static struct blk blks[8];
static int nblks;

static const uint8_t *find_mft(const uint8_t *elf, size_t len, uint32_t *size)
{
    const Elf64_Ehdr *eh = (const Elf64_Ehdr *)elf;
    for (int i = 0; i < eh->e_phnum; i++) {
        const Elf64_Phdr *ph = (const Elf64_Phdr *)(elf + eh->e_phoff + i * sizeof(Elf64_Phdr));
        if (ph->p_type != PT_NOTE || ph->p_filesz < 24 || ph->p_offset + ph->p_filesz > len)
            continue;
        const uint32_t *n = (const uint32_t *)(elf + ph->p_offset);
        if (n[0] == 6 && n[2] == SN_NOTE_TYPE_MFT && memcmp(n + 3, "Solo5", 6) == 0) {
            *size = n[1] - SN_NOTE_MFT1_PAD;
            return elf + ph->p_offset + 24;
        }
    }
    errx(1, "No Solo5 manifest found in executable");
}

static uint64_t load_elf(const char *file, uint64_t *entry, uint8_t *mft_out, uint32_t *mft_size)
{
    int fd = open(file, O_RDONLY);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0)
        err(1, "%s: Could not open", file);
    uint8_t *elf = mmap(NULL, st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (elf == MAP_FAILED)
        err(1, "mmap");
    const Elf64_Ehdr *eh = (const Elf64_Ehdr *)elf;
    uint64_t end = 0;
    for (int i = 0; i < eh->e_phnum; i++) {
        const Elf64_Phdr *ph = (const Elf64_Phdr *)(elf + eh->e_phoff + i * sizeof(Elf64_Phdr));
        if (ph->p_type != PT_LOAD || ph->p_filesz == 0)
            continue;
        if (ph->p_vaddr < 0x100000 || ph->p_vaddr + ph->p_memsz >= mem_size)
            errx(1, "%s: invalid executable: phdr[%d]", file, i);
        memcpy(mem + ph->p_vaddr, elf + ph->p_offset, ph->p_filesz);
        uint64_t start = ph->p_vaddr & ~0xfffULL, stop = (ph->p_vaddr + ph->p_memsz + 0xfff) & ~0xfffULL;
        /* Host-side protection: W from the flags, X becomes R (text and rodata turn read-only). */
        int prot = PROT_READ | ((ph->p_flags & PF_W) ? PROT_WRITE : 0);
        if (mprotect(mem + start, stop - start, prot) != 0)
            err(1, "mprotect");
        if (stop > end)
            end = stop;
    }
    *entry = eh->e_entry;
    const uint8_t *m = find_mft(elf, st.st_size, mft_size);
    memcpy(mft_out, m, *mft_size);
    return end;
}

static void setup_memory(uint64_t kernel_end, int old, const uint8_t *mft, uint32_t mft_size, int argc,
                         char **argv)
{
    uint64_t *gdt = (uint64_t *)(mem + SN_SOLO5_HVT_GDT);
    gdt[1] = SN_SOLO5_HVT_GDT_CODE;
    gdt[2] = SN_SOLO5_HVT_GDT_DATA;
    uint64_t *pml4 = (uint64_t *)(mem + SN_SOLO5_HVT_PML4), *pdpt = (uint64_t *)(mem + SN_SOLO5_HVT_PDPT);
    uint64_t *pd = (uint64_t *)(mem + SN_SOLO5_HVT_PD), *pt0 = (uint64_t *)(mem + SN_SOLO5_HVT_PT0);
    const uint64_t p = SN_SOLO5_HVT_PTE_P, rw = SN_SOLO5_HVT_PTE_RW, ps = SN_SOLO5_HVT_PTE_PS;
    pml4[0] = SN_SOLO5_HVT_PDPT | p | rw;
    for (uint64_t i = 0; i < SN_SOLO5_HVT_PD_COUNT; i++)
        pdpt[i] = (SN_SOLO5_HVT_PD + i * 0x1000) | p | rw;
    pd[0] = SN_SOLO5_HVT_PT0 | p | rw;
    for (uint64_t a = 0x10000; a < 0x200000; a += 0x1000)
        pt0[a >> 12] = a | p | (a >= SN_SOLO5_HVT_KERNEL_MIN ? rw : 0);
    for (uint64_t a = 0x200000; a < mem_size; a += 0x200000)
        pd[a >> 21] = a | p | rw | ps;

    struct sn_solo5_hvt_boot_info *bi = (void *)(mem + SN_SOLO5_HVT_BOOT_INFO);
    uint64_t mft_addr =
        SN_SOLO5_HVT_BOOT_INFO + (old ? SN_SOLO5_HVT_BOOT_INFO_V1_SIZE : SN_SOLO5_HVT_BOOT_INFO_SIZE);
    struct sn_mft *m = (void *)(mem + mft_addr);
    memcpy(m, mft, mft_size);
    for (uint32_t i = 1; i < m->entries; i++) {
        for (int b = 0; b < nblks; b++) {
            if (m->e[i].type == SN_MFT_DEV_BLOCK_BASIC && strcmp(m->e[i].name, blks[b].name) == 0) {
                m->e[i].u.block_basic.capacity = blks[b].capacity;
                m->e[i].u.block_basic.block_size = 512;
                m->e[i].b.hostfd = blks[b].fd;
                m->e[i].attached = 1;
            }
        }
        if (!m->e[i].attached)
            errx(1, "Device '%s' declared but not attached.", m->e[i].name);
    }
    char *cmdline = (char *)m + mft_size;
    cmdline[0] = '\0';
    for (int i = 0; i < argc; i++) {
        strcat(cmdline, argv[i]);
        if (i + 1 < argc)
            strcat(cmdline, " ");
    }
    bi->mem_size = mem_size;
    bi->kernel_end = kernel_end;
    bi->cmdline = (uint64_t)((uint8_t *)cmdline - mem);
    bi->mft = mft_addr;
}

static long tsc_hz;

static int hypercall(unsigned nr, uint64_t a)
{
    switch (nr) {
    case SN_SOLO5_HVT_HC_WALLTIME: {
        struct sn_solo5_hvt_walltime *w = gpa(a, sizeof *w);
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        w->nsecs = ts.tv_sec * 1000000000ULL + ts.tv_nsec;
        return -1;
    }
    case SN_SOLO5_HVT_HC_PUTS: {
        struct sn_solo5_hvt_puts *p = gpa(a, sizeof *p);
        if (write(1, gpa(p->data, p->len), p->len) != (ssize_t)p->len)
            errx(1, "short console write");
        return -1;
    }
    case SN_SOLO5_HVT_HC_POLL: {
        struct sn_solo5_hvt_poll *p = gpa(a, sizeof *p);
        struct timespec ts = { p->timeout_nsecs / 1000000000ULL, p->timeout_nsecs % 1000000000ULL };
        nanosleep(&ts, NULL);
        p->ready_set = 0;
        p->ret = 0;
        return -1;
    }
    case SN_SOLO5_HVT_HC_BLOCK_WRITE:
    case SN_SOLO5_HVT_HC_BLOCK_READ: {
        struct sn_solo5_hvt_blkio *b = gpa(a, sizeof *b);
        const struct sn_mft *m =
            (const void *)(mem + ((struct sn_solo5_hvt_boot_info *)(mem + 0x10000))->mft);
        uint32_t h = (uint32_t)b->handle;
        if (h >= m->entries || m->e[h].type != SN_MFT_DEV_BLOCK_BASIC ||
            b->offset >= m->e[h].u.block_basic.capacity ||
            b->offset + b->len > m->e[h].u.block_basic.capacity) {
            b->ret = SN_SOLO5_R_EINVAL;
            return -1;
        }
        void *buf = gpa(b->data, b->len);
        int fd = m->e[h].b.hostfd;
        ssize_t n = nr == SN_SOLO5_HVT_HC_BLOCK_READ ? pread(fd, buf, b->len, b->offset)
                                                     : pwrite(fd, buf, b->len, b->offset);
        if (n != (ssize_t)b->len)
            err(1, "Fatal error in block I/O");
        b->ret = SN_SOLO5_R_OK;
        return -1;
    }
    case SN_SOLO5_HVT_HC_HALT: {
        struct sn_solo5_hvt_halt *h = gpa(a, sizeof *h);
        if (h->cookie != 0) {
            const uint64_t *f = gpa(h->cookie, SN_SOLO5_HVT_HALT_COOKIE_MAX);
            fprintf(stderr,
                    "LOADER cookie cr2=0x%llx ec=0x%llx rip=0x%llx cs=0x%llx rflags=0x%llx rsp=0x%llx "
                    "ss=0x%llx\n",
                    (unsigned long long)f[0], (unsigned long long)f[1], (unsigned long long)f[2],
                    (unsigned long long)f[3], (unsigned long long)f[4], (unsigned long long)f[5],
                    (unsigned long long)f[6]);
        }
        return h->exit_status & 0xff;
    }
    default:
        errx(1, "Invalid guest hypercall: num=%u", nr);
    }
}

static void on_alarm(int sig)
{
    (void)sig;
}

int main(int argc, char **argv)
{
    uint64_t mb = 512;
    int old = 0, i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        char *eq = strchr(argv[i], '=');
        if (strncmp(argv[i], "--mem=", 6) == 0)
            mb = strtoull(argv[i] + 6, NULL, 10);
        else if (strcmp(argv[i], "--old") == 0)
            old = 1;
        else if (strncmp(argv[i], "--block:", 8) == 0 && eq != NULL && nblks < 8) {
            struct blk *b = &blks[nblks++];
            snprintf(b->name, sizeof b->name, "%.*s", (int)(eq - argv[i] - 8), argv[i] + 8);
            b->fd = open(eq + 1, O_RDWR);
            if (b->fd < 0)
                err(1, "Could not open block device: %s", eq + 1);
            b->capacity = lseek(b->fd, 0, SEEK_END);
        } else
            errx(1, "Invalid option: `%s'", argv[i]);
    }
    if (i >= argc)
        errx(1, "Missing KERNEL operand");
    mem_size = mb << 20;
    mem = mmap(NULL, mem_size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (mem == MAP_FAILED)
        err(1, "Error allocating guest memory");

    int kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
    if (kvm < 0)
        err(1, "Could not open: /dev/kvm");
    int vm = ioctl(kvm, KVM_CREATE_VM, 0);
    int vcpu = vm < 0 ? -1 : ioctl(vm, KVM_CREATE_VCPU, 0);
    if (vcpu < 0)
        err(1, "KVM: ioctl (CREATE_VCPU) failed");
    struct kvm_run *run =
        mmap(NULL, ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0), PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0);
    if (run == MAP_FAILED)
        err(1, "KVM: VCPU mmap failed");
    struct kvm_userspace_memory_region region = {
        .slot = 0, .guest_phys_addr = 0, .memory_size = mem_size, .userspace_addr = (uint64_t)mem
    };
    if (ioctl(vm, KVM_SET_USER_MEMORY_REGION, &region) != 0)
        err(1, "KVM: ioctl (SET_USER_MEMORY_REGION) failed");

    uint64_t entry;
    static uint8_t mft[SN_NOTE_MFT1_MAX];
    uint32_t mft_size;
    uint64_t kernel_end = load_elf(argv[i], &entry, mft, &mft_size);
    setup_memory(kernel_end, old, mft, mft_size, argc - i - 1, argv + i + 1);

    struct {
        struct kvm_cpuid2 c;
        struct kvm_cpuid_entry2 e[100];
    } cpuid = { .c.nent = 100 };
    if (ioctl(kvm, KVM_GET_SUPPORTED_CPUID, &cpuid) != 0 || ioctl(vcpu, KVM_SET_CPUID2, &cpuid) != 0)
        err(1, "KVM: ioctl (SET_CPUID2) failed");
    struct kvm_sregs sregs;
    if (ioctl(vcpu, KVM_GET_SREGS, &sregs) != 0)
        err(1, "KVM: ioctl (GET_SREGS) failed");
    struct kvm_segment code = { .base = 0,
                                .limit = 0xffffffff,
                                .selector = SN_SOLO5_HVT_SEL_CODE,
                                .type = 9,
                                .present = 1,
                                .dpl = 0,
                                .db = 0,
                                .s = 1,
                                .l = 1,
                                .g = 1 };
    struct kvm_segment data = code;
    data.selector = SN_SOLO5_HVT_SEL_DATA;
    data.type = 3;
    data.l = 0;
    data.db = 1;
    sregs.cs = code;
    sregs.ds = sregs.es = sregs.fs = sregs.gs = sregs.ss = data;
    sregs.gdt.base = SN_SOLO5_HVT_GDT;
    sregs.gdt.limit = SN_SOLO5_HVT_GDT_LIMIT;
    sregs.tr = (struct kvm_segment){ .type = 11, .present = 1 };
    sregs.cr0 = SN_SOLO5_HVT_CR0;
    sregs.cr3 = SN_SOLO5_HVT_PML4;
    sregs.cr4 = SN_SOLO5_HVT_CR4;
    sregs.efer = SN_SOLO5_HVT_EFER;
    if (ioctl(vcpu, KVM_SET_SREGS, &sregs) != 0)
        err(1, "KVM: ioctl (SET_SREGS) failed");
    tsc_hz = ioctl(vcpu, KVM_GET_TSC_KHZ, 0);
    if (tsc_hz <= 0)
        errx(1, "KVM: host TSC is unstable, cannot continue");
    ((struct sn_solo5_hvt_boot_info *)(mem + SN_SOLO5_HVT_BOOT_INFO))->cpu_cycle_freq = tsc_hz * 1000ULL;
    struct kvm_regs regs = { .rip = entry, .rflags = 2, .rsp = mem_size - 8, .rdi = SN_SOLO5_HVT_BOOT_INFO };
    if (ioctl(vcpu, KVM_SET_REGS, &regs) != 0)
        err(1, "KVM: ioctl (SET_REGS) failed");

    /* A guest that never halts ends here after 30 s, with its registers, instead of hanging a test. */
    signal(SIGALRM, on_alarm);
    alarm(getenv("LOADER_ALARM") ? atoi(getenv("LOADER_ALARM")) : 30);
    for (;;) {
        if (ioctl(vcpu, KVM_RUN, 0) != 0) {
            struct kvm_regs r;
            ioctl(vcpu, KVM_GET_REGS, &r);
            errx(1, "KVM: ioctl (RUN) failed: rip=0x%llx rsp=0x%llx", (unsigned long long)r.rip,
                 (unsigned long long)r.rsp);
        }
        if (run->exit_reason == KVM_EXIT_IO) {
            unsigned port = run->io.port;
            if (run->io.direction != KVM_EXIT_IO_OUT || run->io.size != 4 || port < SN_SOLO5_HVT_PORT_BASE ||
                port >= SN_SOLO5_HVT_PORT_BASE + SN_SOLO5_HVT_HC_MAX)
                errx(1, "Invalid guest port access: port=0x%x", port);
            uint32_t a = *(uint32_t *)((uint8_t *)run + run->io.data_offset);
            int status = hypercall(port - SN_SOLO5_HVT_PORT_BASE, a);
            if (status >= 0)
                return status;
            continue;
        }
        struct kvm_regs r;
        ioctl(vcpu, KVM_GET_REGS, &r);
        errx(1, "KVM: unhandled exit: exit_reason=0x%x, rip=0x%llx", run->exit_reason,
             (unsigned long long)r.rip);
    }
}
