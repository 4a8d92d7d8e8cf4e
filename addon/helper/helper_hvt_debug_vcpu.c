/* helper_hvt_debug_vcpu.c: solo5-helper-debug only: the vCPU and guest memory as the debug channel reaches them (registers, range checks, step, breakpoints). */
#include "helper_hvt_debug_vcpu.h"

#define KVM_GUESTDBG_ENABLE 0x00000001
#define KVM_GUESTDBG_SINGLESTEP 0x00000002
#define KVM_GUESTDBG_USE_SW_BP 0x00010000
#define KVM_GUESTDBG_USE_HW_BP 0x00020000

struct hvt_debug_target dbg_tgt;
static uint64_t hwbp[SN_DBG_HWBP_MAX];
static uint32_t hwbp_used; /* bit i: slot i set */
static uint32_t applied = ~0U; /* the KVM_SET_GUEST_DEBUG control last applied */

void dbg_hwbp_set(unsigned slot, uint64_t addr)
{
    hwbp[slot] = addr;
    hwbp_used |= 1U << slot;
}

void dbg_hwbp_clear(unsigned slot)
{
    hwbp_used &= ~(1U << slot);
}

void dbg_hwbp_clear_all(void)
{
    hwbp_used = 0;
}

/* Byte loops through volatile: the compiler must not turn them into calls of a libc this helper lacks. */
void dbg_memcpy(void *dst, const void *src, uint64_t n)
{
    volatile uint8_t *d = dst;
    const uint8_t *s = src;
    while (n--)
        *d++ = *s++;
}

void dbg_memset(void *dst, int c, uint64_t n)
{
    volatile uint8_t *d = dst;
    while (n--)
        *d++ = (uint8_t)c;
}

void dbg_get_regs(struct sn_dbg_regs *r)
{
    struct kvm_regs k;
    struct kvm_sregs s;
    dbg_memset(r, 0, sizeof *r);
    if (h_is_err(h_ioctl(dbg_tgt.vcpu_fd, KVM_GET_REGS, (uint64_t)&k)) ||
        h_is_err(h_ioctl(dbg_tgt.vcpu_fd, KVM_GET_SREGS, (uint64_t)&s)))
        return;
    const uint64_t g[16] = { k.rax, k.rbx, k.rcx, k.rdx, k.rsi, k.rdi, k.rbp, k.rsp,
                             k.r8,  k.r9,  k.r10, k.r11, k.r12, k.r13, k.r14, k.r15 };
    for (unsigned i = 0; i < 16; i++)
        r->gpr[i] = g[i];
    r->rip = k.rip;
    r->rflags = k.rflags;
    r->cs = s.cs.selector;
    r->ss = s.ss.selector;
    r->ds = s.ds.selector;
    r->es = s.es.selector;
    r->fs = s.fs.selector;
    r->gs = s.gs.selector;
    r->fs_base = s.fs.base;
    r->gs_base = s.gs.base;
    r->cr0 = s.cr0;
    r->cr2 = s.cr2;
    r->cr3 = s.cr3;
    r->cr4 = s.cr4;
    r->efer = s.efer;
}

int dbg_set_regs(const struct sn_dbg_regs *r)
{
    struct kvm_regs k;
    if (h_is_err(h_ioctl(dbg_tgt.vcpu_fd, KVM_GET_REGS, (uint64_t)&k)))
        return 0;
    __u64 *dst[16] = { &k.rax, &k.rbx, &k.rcx, &k.rdx, &k.rsi, &k.rdi, &k.rbp, &k.rsp,
                       &k.r8,  &k.r9,  &k.r10, &k.r11, &k.r12, &k.r13, &k.r14, &k.r15 };
    for (unsigned i = 0; i < 16; i++)
        *dst[i] = r->gpr[i];
    k.rip = r->rip;
    k.rflags = r->rflags;
    return !h_is_err(h_ioctl(dbg_tgt.vcpu_fd, KVM_SET_REGS, (uint64_t)&k));
}

uint8_t *dbg_range(uint64_t gpa, uint64_t len)
{
    if (gpa < dbg_tgt.mem_low || gpa > dbg_tgt.mem_size || len > dbg_tgt.mem_size - gpa)
        return 0;
    return dbg_tgt.mem + gpa;
}

static uint64_t cpl(void)
{
    struct kvm_sregs s;
    return h_is_err(h_ioctl(dbg_tgt.vcpu_fd, KVM_GET_SREGS, (uint64_t)&s)) ? 0 : s.cs.selector & 3;
}

/*
 * A ring-ABI guest in ring 3 steps by the trap flag: the #DB reaches its own
 * trap handler and comes back as SN_HVT_TRAP, which works where KVM's
 * single-step does not reach ring-3 code (PVM). Everything else steps by
 * KVM's single-step: ring 0 (the entry's dozen instructions, upstream's
 * guests), and a Solo5-ABI guest in ring 3 (the project's own solo5hvt
 * builds), whose trap handler knows no SN_HVT_TRAP and would halt the guest.
 */
int dbg_step(int sw_bp)
{
    if (dbg_tgt.ring0 || cpl() != 3)
        return dbg_apply(1, sw_bp);
    struct kvm_regs k;
    if (h_is_err(h_ioctl(dbg_tgt.vcpu_fd, KVM_GET_REGS, (uint64_t)&k)))
        return 0;
    k.rflags |= RFLAGS_TF;
    return !h_is_err(h_ioctl(dbg_tgt.vcpu_fd, KVM_SET_REGS, (uint64_t)&k)) && dbg_apply(0, sw_bp);
}

int dbg_apply(int step, int sw_bp)
{
    struct kvm_guest_debug d;
    dbg_memset(&d, 0, sizeof d);
    /* A ring-0 guest's int3 comes to KVM as #BP; the ring ABI's reaches its own handler (SN_HVT_TRAP). */
    d.control = (dbg_tgt.ring0 && sw_bp ? KVM_GUESTDBG_ENABLE | KVM_GUESTDBG_USE_SW_BP : 0) |
                (step ? KVM_GUESTDBG_ENABLE | KVM_GUESTDBG_SINGLESTEP : 0) |
                (hwbp_used ? KVM_GUESTDBG_ENABLE | KVM_GUESTDBG_USE_HW_BP : 0);
    for (unsigned i = 0; i < SN_DBG_HWBP_MAX; i++) {
        if (!(hwbp_used & (1U << i)))
            continue;
        d.arch.debugreg[i] = hwbp[i];
        d.arch.debugreg[7] |= 1ULL << (2 * i); /* Li: enabled; R/W and LEN 0: instruction */
    }
    if (d.control == applied && !hwbp_used)
        return 1;
    if (h_is_err(h_ioctl(dbg_tgt.vcpu_fd, KVM_SET_GUEST_DEBUG, (uint64_t)&d)))
        return 0;
    applied = d.control;
    return 1;
}

/*
 * KVM completes an MMIO or I/O exit only on the next KVM_RUN; registers written
 * before that could be overwritten by the completion. An immediate exit
 * completes it and returns without running the guest.
 */
void dbg_complete_exit(void)
{
    dbg_tgt.run->immediate_exit = 1;
    long r;
    do
        r = h_ioctl(dbg_tgt.vcpu_fd, KVM_RUN, 0);
    while (r == -H_EAGAIN);
    dbg_tgt.run->immediate_exit = 0;
}
