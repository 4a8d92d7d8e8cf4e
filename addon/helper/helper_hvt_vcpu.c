/* helper_hvt_vcpu.c: the vCPU's CPUID, its long-mode entry state and the guest clocks in the boot info. */
#include "helper_hvt.h"
#include "sn_hvt_abi.h"

#define CR0_PE (1ULL << 0)
#define CR0_MP (1ULL << 1)
#define CR0_ET (1ULL << 4)
#define CR0_NE (1ULL << 5)
#define CR0_WP (1ULL << 16)
#define CR0_PG (1ULL << 31)
#define CR4_PAE (1ULL << 5)
#define CR4_OSFXSR (1ULL << 9)
#define CR4_OSXMMEXCPT (1ULL << 10)
#define EFER_SCE (1ULL << 0)
#define EFER_LME (1ULL << 8)
#define EFER_LMA (1ULL << 10)
#define EFER_NXE (1ULL << 11)
#define RFLAGS_RESERVED (1ULL << 1)
#define MSR_IA32_TSC 0x10U

#define CPUID_MAX_ENTRIES 256
#define NS_PER_SEC 1000000000ULL

void hvt_kvm_fail(const char *step, long ret)
{
    diag_fail_because(step, ret,
                      "KVM refused the virtual machine: see dmesg, or run the spt build with solo5-spt");
}

/*
 * The guest sees what KVM can virtualise on this host, unfiltered: it is
 * the same code on every Solo5 target and probes nothing. KVM also checks
 * the CR4 and EFER bits set below against this CPUID, so it must come first.
 */
void hvt_vcpu_cpuid(int kvm_fd, int vcpu_fd, struct hvt_cpu_caps *caps)
{
    static struct {
        struct kvm_cpuid2 head;
        struct kvm_cpuid_entry2 entries[CPUID_MAX_ENTRIES];
    } cpuid;
    cpuid.head.nent = CPUID_MAX_ENTRIES;
    long r = h_ioctl(kvm_fd, KVM_GET_SUPPORTED_CPUID, (uint64_t)&cpuid);
    if (h_is_err(r))
        hvt_kvm_fail("KVM_GET_SUPPORTED_CPUID", r);
    caps->gb_pages = 0;
    caps->phys_bits = 36; /* the architectural minimum, should the leaf be missing */
    for (uint32_t i = 0; i < cpuid.head.nent && i < CPUID_MAX_ENTRIES; i++) {
        const struct kvm_cpuid_entry2 *e = &cpuid.entries[i];
        if (e->function == 0x80000001U)
            caps->gb_pages = (e->edx >> 26) & 1;
        else if (e->function == 0x80000008U)
            caps->phys_bits = e->eax & 0xff;
    }
    r = h_ioctl(vcpu_fd, KVM_SET_CPUID2, (uint64_t)&cpuid);
    if (h_is_err(r))
        hvt_kvm_fail("KVM_SET_CPUID2", r);
}

/*
 * Long mode straight away: no BIOS, no real mode, no boot loader. The hidden
 * parts of the segment registers are set directly, so no GDT is needed to
 * start; the guest loads its own with the same selectors (sn_hvt_abi.h)
 * and drops to ring 3.
 */
void hvt_vcpu_registers(int vcpu_fd, const struct sn_plan *p, uint64_t cr3)
{
    struct kvm_sregs sregs;
    long r = h_ioctl(vcpu_fd, KVM_GET_SREGS, (uint64_t)&sregs);
    if (h_is_err(r))
        hvt_kvm_fail("KVM_GET_SREGS", r);
    struct kvm_segment code = {
        .base = 0,
        .limit = 0xffffffff,
        .selector = SN_HVT_SEL_KCODE,
        .type = 11 /* execute/read, accessed */,
        .present = 1,
        .dpl = 0,
        .db = 0,
        .s = 1,
        .l = 1,
        .g = 1,
    };
    struct kvm_segment data = {
        .base = 0,
        .limit = 0xffffffff,
        .selector = SN_HVT_SEL_KDATA,
        .type = 3 /* read/write, accessed */,
        .present = 1,
        .dpl = 0,
        .db = 1,
        .s = 1,
        .l = 0,
        .g = 1,
    };
    sregs.cs = code;
    sregs.ds = sregs.es = sregs.fs = sregs.gs = sregs.ss = data;
    sregs.gdt.base = 0;
    sregs.gdt.limit = 0;
    sregs.idt.base = 0;
    sregs.idt.limit = 0;
    sregs.cr0 = CR0_PE | CR0_MP | CR0_ET | CR0_NE | CR0_WP | CR0_PG;
    sregs.cr3 = cr3;
    sregs.cr4 = CR4_PAE | CR4_OSFXSR | CR4_OSXMMEXCPT;
    /* SCE: a `syscall` reaches the guest's own ring-0 stub, which reports it (sn_hvt_abi.h). */
    sregs.efer = EFER_SCE | EFER_LME | EFER_LMA | EFER_NXE;
    r = h_ioctl(vcpu_fd, KVM_SET_SREGS, (uint64_t)&sregs);
    if (h_is_err(r))
        hvt_kvm_fail("KVM_SET_SREGS", r);

    /* As on spt: %rsp at the top, %rdi the boot info, every other register zero, interrupts off. */
    hvt_vcpu_entry(vcpu_fd, p->entry, p->stack_top, p->bootinfo);
}

void hvt_vcpu_entry(int vcpu_fd, uint64_t rip, uint64_t rsp, uint64_t rdi)
{
    struct kvm_regs regs;
    uint8_t *b = (uint8_t *)&regs;
    for (unsigned i = 0; i < sizeof regs; i++)
        b[i] = 0;
    regs.rip = rip;
    regs.rsp = rsp;
    regs.rdi = rdi;
    regs.rflags = RFLAGS_RESERVED;
    long r = h_ioctl(vcpu_fd, KVM_SET_REGS, (uint64_t)&regs);
    if (h_is_err(r))
        hvt_kvm_fail("KVM_SET_REGS", r);
}

static uint64_t ns_of(const struct h_timespec *ts)
{
    return (uint64_t)ts->tv_sec * NS_PER_SEC + (uint64_t)ts->tv_nsec;
}

/*
 * The guest reads time from its TSC without a hypercall: the helper pairs
 * one guest TSC reading with the host clocks and hands over the TSC
 * frequency KVM runs the vCPU at. The TSC keeps counting while the helper
 * sleeps or the vCPU is out, so guest time never stands still.
 */
void hvt_vcpu_clocks(int vcpu_fd, uint8_t *mem)
{
    long khz = h_ioctl(vcpu_fd, KVM_GET_TSC_KHZ, 0);
    if (h_is_err(khz))
        hvt_kvm_fail("KVM_GET_TSC_KHZ", khz);
    if (khz == 0)
        hvt_kvm_fail("KVM_GET_TSC_KHZ", -22 /* EINVAL: no known TSC frequency */);
    struct {
        struct kvm_msrs head;
        struct kvm_msr_entry entry;
    } msrs = { .head = { .nmsrs = 1 }, .entry = { .index = MSR_IA32_TSC } };
    struct h_timespec before, after, wall;
    h_clock_gettime(H_CLOCK_MONOTONIC, &before);
    long r = h_ioctl(vcpu_fd, KVM_GET_MSRS, (uint64_t)&msrs);
    h_clock_gettime(H_CLOCK_REALTIME, &wall);
    h_clock_gettime(H_CLOCK_MONOTONIC, &after);
    if (h_is_err(r))
        hvt_kvm_fail("KVM_GET_MSRS (TSC)", r);
    if (r != 1)
        hvt_kvm_fail("KVM_GET_MSRS (TSC)", -5 /* EIO */);

    struct sn_bootinfo *bi = (struct sn_bootinfo *)(mem + SN_BOOTINFO_ADDR);
    uint64_t b = ns_of(&before), a = ns_of(&after);
    bi->tsc_freq = (uint64_t)khz * 1000;
    bi->tsc_base = msrs.entry.data;
    bi->mono_base_ns = b + (a - b) / 2;
    bi->wall_base_ns = ns_of(&wall);
}
