/* helper_hvt_solo5_boot.c: an upstream Solo5 hvt guest's start: low memory, entry state, clock, devices. */
#include "helper_hvt_solo5.h"
#include "sn_hvt_debug.h"

/*
 * Everything here follows upstream's tender (solo5-hvt-abi.md sections 3-6,
 * 11) so that a binary built by upstream's toolchain finds what it expects:
 * ring 0, 64-bit mode, one GDT at 0x1000, page tables at 0x2000-0x8fff
 * identity-mapping all of the allocation, the boot info at 0x10000 in %rdi.
 * The tender has already written the boot info, manifest copy and command
 * line; the helper adds what only KVM knows (the TSC frequency).
 */

#define SIZE_4K 0x1000ULL
#define ENTRIES 512U
#define SEG_TYPE_CODE_XA 9   /* execute-only, accessed */
#define SEG_TYPE_DATA_RWA 3  /* read/write, accessed */
#define SEG_TYPE_TSS_BUSY 11 /* 64-bit TSS, busy */

static __attribute__((noreturn)) void boot_fail(const char *what)
{
    struct diag d;
    d.len = 0;
    diag_str(&d, what);
    diag_exit(&d);
}

static uint64_t *table(uint8_t *mem, uint64_t gpa)
{
    return (uint64_t *)(mem + gpa);
}

/*
 * Page 0 and everything up to the boot info absent; [0x10000, 1 MiB)
 * read-only (boot info, manifest, command line); the kernel's first MiB
 * read/write in 4 KiB pages; 2 MiB pages from there to the end of the
 * allocation, the ring area included. No NX and no user bit: the guest is
 * in ring 0 and may replace all of this anyway; the memory slot is the
 * boundary, and text stays read-only through the host mapping.
 */
static void page_tables(uint8_t *mem, uint64_t alloc)
{
    for (uint64_t a = SN_SOLO5_HVT_GDT; a < SN_SOLO5_HVT_PT0 + SIZE_4K; a += 8)
        *(uint64_t *)(mem + a) = 0;
    const uint64_t rw = SN_SOLO5_HVT_PTE_P | SN_SOLO5_HVT_PTE_RW;
    table(mem, SN_SOLO5_HVT_PML4)[0] = SN_SOLO5_HVT_PDPT | rw;
    for (unsigned i = 0; i < SN_SOLO5_HVT_PD_COUNT; i++)
        table(mem, SN_SOLO5_HVT_PDPT)[i] = (SN_SOLO5_HVT_PD + i * SIZE_4K) | rw;
    /* The four directories are contiguous, so entry i of the whole span maps [i * 2 MiB, +2 MiB). */
    uint64_t *pd = table(mem, SN_SOLO5_HVT_PD);
    pd[0] = SN_SOLO5_HVT_PT0 | rw;
    for (uint64_t i = 1; i * SN_SOLO5_HVT_PAGE_2M < alloc; i++)
        pd[i] = (i * SN_SOLO5_HVT_PAGE_2M) | rw | SN_SOLO5_HVT_PTE_PS;
    uint64_t *pt0 = table(mem, SN_SOLO5_HVT_PT0);
    for (uint64_t a = SN_SOLO5_HVT_BOOT_INFO; a < SN_SOLO5_HVT_PAGE_2M; a += SIZE_4K)
        pt0[a / SIZE_4K] = a | SN_SOLO5_HVT_PTE_P | (a >= SN_SOLO5_HVT_KERNEL_MIN ? SN_SOLO5_HVT_PTE_RW : 0);
    uint64_t *gdt = table(mem, SN_SOLO5_HVT_GDT);
    gdt[SN_SOLO5_HVT_SEL_CODE / 8] = SN_SOLO5_HVT_GDT_CODE;
    gdt[SN_SOLO5_HVT_SEL_DATA / 8] = SN_SOLO5_HVT_GDT_DATA;
}

static void registers(int vcpu_fd, const struct sn_plan *p)
{
    struct kvm_sregs s;
    long r = h_ioctl(vcpu_fd, KVM_GET_SREGS, (uint64_t)&s);
    if (h_is_err(r))
        hvt_kvm_fail("KVM_GET_SREGS", r);
    struct kvm_segment code = { .limit = 0xffffffff,
                                .selector = SN_SOLO5_HVT_SEL_CODE,
                                .type = SEG_TYPE_CODE_XA,
                                .present = 1,
                                .s = 1,
                                .l = 1,
                                .g = 1 };
    struct kvm_segment data = { .limit = 0xffffffff,
                                .selector = SN_SOLO5_HVT_SEL_DATA,
                                .type = SEG_TYPE_DATA_RWA,
                                .present = 1,
                                .s = 1,
                                .db = 1,
                                .g = 1 };
    /* A placeholder TR (KVM wants a busy TSS in long mode); the guest loads its own. */
    struct kvm_segment tr = { .type = SEG_TYPE_TSS_BUSY, .present = 1 };
    struct kvm_segment ldt = { .unusable = 1 };
    s.cs = code;
    s.ds = s.es = s.fs = s.gs = s.ss = data;
    s.tr = tr;
    s.ldt = ldt;
    s.gdt.base = SN_SOLO5_HVT_GDT;
    s.gdt.limit = SN_SOLO5_HVT_GDT_LIMIT;
    s.idt.base = 0;
    s.idt.limit = 0;
    s.cr0 = SN_SOLO5_HVT_CR0;
    s.cr3 = SN_SOLO5_HVT_PML4;
    s.cr4 = SN_SOLO5_HVT_CR4;
    s.efer = SN_SOLO5_HVT_EFER;
    r = h_ioctl(vcpu_fd, KVM_SET_SREGS, (uint64_t)&s);
    if (h_is_err(r))
        hvt_kvm_fail("KVM_SET_SREGS", r);
    hvt_vcpu_entry(vcpu_fd, p->entry, p->stack_top, SN_SOLO5_HVT_BOOT_INFO);
}

/*
 * Text and rodata read-only in the helper's own mapping: KVM maps guest
 * memory as the host process does, so a guest store there cannot land (it
 * is a KVM_RUN EFAULT, or on PVM an MMIO exit inside RAM: the loop reports
 * both as upstream's translation fault). Never executable on the host.
 */
static void protect(uint8_t *mem, const struct sn_plan *p)
{
#ifdef SN_HVT_DEBUG
    /* Under gdb, breakpoints are int3 bytes written into text: it stays writable (docs/debugging.md). */
    if (p->flags & SN_PLAN_F_GDB)
        return;
#endif
    for (uint32_t i = 0; i < p->nregions; i++) {
        const struct sn_plan_region *r = &p->regions[i];
        if (r->prot & SN_PROT_W)
            continue;
        long ret = h_mprotect((uint64_t)(mem + r->addr), r->len, H_PROT_READ);
        if (h_is_err(ret))
            diag_fail("mprotect guest text", ret);
    }
}

/* The tender's manifest copy, read once while it is still the tender's: the device table. */
static void devices(struct hvt_solo5_vm *vm, const struct sn_plan *p)
{
    const struct sn_solo5_hvt_boot_info *bi = (const void *)(vm->mem.base + SN_SOLO5_HVT_BOOT_INFO);
    if (bi->mft != SN_SOLO5_HVT_MFT_ADDR)
        boot_fail("invalid plan: the boot info's manifest is not at its fixed address");
    const struct sn_mft *m = (const void *)(vm->mem.base + SN_SOLO5_HVT_MFT_ADDR);
    if (m->version != SN_MFT_VERSION || m->entries == 0 || m->entries > SN_MFT_MAX_ENTRIES)
        boot_fail("invalid plan: the manifest copy is malformed");
    const struct sn_mft_entry *e = m->e;
    for (uint32_t i = 1; i < m->entries; i++) {
        if (!e[i].attached)
            continue;
        int fd = e[i].b.hostfd;
        if (fd < SN_FD_DEV0 || fd >= SN_FD_DEV0 + (int)p->ndevfds)
            boot_fail("invalid plan: a manifest entry names a host fd the plan does not hand over");
        vm->dev[i].fd = fd;
        vm->dev[i].type = e[i].type;
        if (e[i].type == SN_MFT_DEV_BLOCK_BASIC) {
            vm->dev[i].capacity = e[i].u.block_basic.capacity;
            vm->nblock++;
        } else if (e[i].type == SN_MFT_DEV_NET_BASIC) {
            vm->nnet++;
        } else {
            boot_fail("invalid plan: an attached manifest entry has an unknown type");
        }
    }
}

/*
 * The 0.11 net ring's doorbell: with one "doorbell" in a Solo5-ABI hvt plan,
 * the fd after the device fds is an eventfd that KVM signals on every 4-byte
 * `out` to port 0x600, with no exit to this process; whoever serves the
 * ring holds the other reference. The VM keeps the registration alive.
 */
static void ring_kick(const struct sn_plan *p, int vm_fd)
{
    if (p->ndoorbells == 0)
        return;
    int fd = SN_FD_DEV0 + (int)p->ndevfds;
    struct kvm_ioeventfd io = {
        .addr = SN_SOLO5_HVT_RING_KICK_PORT, .len = 4, .fd = fd, .flags = KVM_IOEVENTFD_FLAG_PIO
    };
    long r = h_ioctl(vm_fd, KVM_IOEVENTFD, (uint64_t)&io);
    if (h_is_err(r))
        hvt_kvm_fail("KVM_IOEVENTFD (net ring kick, port 0x600)", r);
    h_close(fd);
}

void hvt_solo5_boot(struct hvt_solo5_vm *vm, const struct sn_plan *p, int kvm_fd, int vm_fd)
{
    struct sn_solo5_hvt_boot_info *bi = (void *)(vm->mem.base + SN_SOLO5_HVT_BOOT_INFO);
    uint64_t visible = bi->mem_size;
    if (visible % SN_SOLO5_HVT_PAGE_2M != 0 || visible == 0 || visible > vm->alloc ||
        p->stack_top != visible - SN_SOLO5_HVT_STACK_GAP)
        boot_fail("invalid plan: the boot info's mem_size does not fit the plan");
    vm->mem.size = visible;
    devices(vm, p);
    page_tables(vm->mem.base, vm->alloc);
    struct hvt_cpu_caps caps;
    hvt_vcpu_cpuid(kvm_fd, vm->vcpu_fd, &caps);
    registers(vm->vcpu_fd, p);
    long khz = h_ioctl(vm->vcpu_fd, KVM_GET_TSC_KHZ, 0);
    if (h_is_err(khz) || khz == 0)
        boot_fail("KVM: host TSC is unstable, cannot continue");
    bi->cpu_cycle_freq = (uint64_t)khz * 1000;
    ring_kick(p, vm_fd);
    protect(vm->mem.base, p);
}
