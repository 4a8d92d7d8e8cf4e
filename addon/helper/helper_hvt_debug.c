/* helper_hvt_debug.c: solo5-helper-debug only: answers the tender's typed debug requests (registers, memory, run, step, breakpoints). */
#include "helper_hvt_debug.h"

#include <asm/ioctls.h>

#include "sn_hvt_abi.h"
#include "sn_hvt_debug.h"

/*
 * Compiled only into solo5-helper-debug (-DSN_HVT_DEBUG); the default helper
 * has none of this (docs/debugging.md). The tender parses gdb's protocol and
 * sends one request at a time over the stream socket at dbg_fd; this side only
 * reads and writes the vCPU and guest memory through the same range check
 * as the hypercalls, and never ends the guest for a bad request.
 */

#define KVM_GUESTDBG_ENABLE 0x00000001
#define KVM_GUESTDBG_SINGLESTEP 0x00000002
#define KVM_GUESTDBG_USE_SW_BP 0x00010000
#define KVM_GUESTDBG_USE_HW_BP 0x00020000
#define DR6_BS (1ULL << 14)
#define RFLAGS_TF (1ULL << 8)
#define VECTOR_DB 1U
#define VECTOR_BP 3U
#define SIGTRAP 5U
#define SIGINT 2U

static struct hvt_debug_target tgt;
static int dbg_fd = -1;
static int serving; /* SN_PLAN_F_GDB and the tender still listens */
static uint64_t hwbp[SN_DBG_HWBP_MAX];
static uint32_t hwbp_used; /* bit i: slot i set */
static uint32_t applied = ~0U; /* the KVM_SET_GUEST_DEBUG control last applied */
/* Where the SIGIO handler asks for an immediate exit: set once the run loop starts. */
static struct kvm_run *volatile kick_run;
/* The registers in the guest's last trap frame (SN_HVT_TRAP): where an aborting guest really was. */
static struct sn_dbg_regs trap_regs;
static int have_trap;

/* Byte loops through volatile: the compiler must not turn them into calls of a libc this helper lacks. */
static void h_memcpy(void *dst, const void *src, uint64_t n)
{
    volatile uint8_t *d = dst;
    const uint8_t *s = src;
    while (n--)
        *d++ = *s++;
}

static void h_memset(void *dst, int c, uint64_t n)
{
    volatile uint8_t *d = dst;
    while (n--)
        *d++ = (uint8_t)c;
}

static struct {
    struct sn_dbg_msg h;
    uint8_t data[SN_DBG_DATA_MAX];
} in, out;

static void get_regs(struct sn_dbg_regs *r)
{
    struct kvm_regs k;
    struct kvm_sregs s;
    h_memset(r, 0, sizeof *r);
    if (h_is_err(h_ioctl(tgt.vcpu_fd, KVM_GET_REGS, (uint64_t)&k)) ||
        h_is_err(h_ioctl(tgt.vcpu_fd, KVM_GET_SREGS, (uint64_t)&s)))
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

static int set_regs(const struct sn_dbg_regs *r)
{
    struct kvm_regs k;
    if (h_is_err(h_ioctl(tgt.vcpu_fd, KVM_GET_REGS, (uint64_t)&k)))
        return 0;
    __u64 *dst[16] = { &k.rax, &k.rbx, &k.rcx, &k.rdx, &k.rsi, &k.rdi, &k.rbp, &k.rsp,
                       &k.r8,  &k.r9,  &k.r10, &k.r11, &k.r12, &k.r13, &k.r14, &k.r15 };
    for (unsigned i = 0; i < 16; i++)
        *dst[i] = r->gpr[i];
    k.rip = r->rip;
    k.rflags = r->rflags;
    return !h_is_err(h_ioctl(tgt.vcpu_fd, KVM_SET_REGS, (uint64_t)&k));
}

/* Untrusted (the tender relays gdb's numbers): the same range rule as every hypercall argument. */
static uint8_t *debug_range(uint64_t gpa, uint64_t len)
{
    if (gpa < tgt.mem_low || gpa > tgt.mem_size || len > tgt.mem_size - gpa)
        return 0;
    return tgt.mem + gpa;
}

static void send(uint32_t op, uint32_t arg, const void *data, uint32_t len)
{
    out.h = (struct sn_dbg_msg){ .op = op, .len = len, .arg = arg };
    if (len)
        h_memcpy(out.data, data, len);
    const uint8_t *p = (const uint8_t *)&out;
    uint64_t left = sizeof out.h + len;
    while (left > 0) {
        long n = h_write(dbg_fd, p, left);
        if (n == -H_EINTR)
            continue;
        /* The tender went away: the guest runs on undebugged (its death ends us anyway). */
        if (n <= 0) {
            serving = 0;
            return;
        }
        p += n;
        left -= (uint64_t)n;
    }
}

static void send_regs(uint32_t op, uint32_t arg)
{
    struct sn_dbg_regs r;
    get_regs(&r);
    send(op, arg, &r, sizeof r);
}

static int apply_debug(int step);

static uint64_t cpl(void)
{
    struct kvm_sregs s;
    return h_is_err(h_ioctl(tgt.vcpu_fd, KVM_GET_SREGS, (uint64_t)&s)) ? 0 : s.cs.selector & 3;
}

/*
 * One instruction. In ring 3 by the trap flag: the #DB reaches the guest's
 * own trap handler and comes back as SN_HVT_TRAP, which works where KVM's
 * single-step does not reach ring-3 code (PVM); in ring 0 (the entry's dozen
 * instructions) by KVM's single-step.
 */
static int step_one(void)
{
    if (cpl() != 3)
        return apply_debug(1);
    struct kvm_regs k;
    if (h_is_err(h_ioctl(tgt.vcpu_fd, KVM_GET_REGS, (uint64_t)&k)))
        return 0;
    k.rflags |= RFLAGS_TF;
    return !h_is_err(h_ioctl(tgt.vcpu_fd, KVM_SET_REGS, (uint64_t)&k)) && apply_debug(0);
}

/* Apply single-step and the hardware breakpoints; 0 when KVM refuses. */
static int apply_debug(int step)
{
    struct kvm_guest_debug d;
    h_memset(&d, 0, sizeof d);
    /* A ring-0 guest's int3 comes to KVM as #BP; the ring ABI's reaches its own handler (SN_HVT_TRAP). */
    d.control = (tgt.ring0 && serving ? KVM_GUESTDBG_ENABLE | KVM_GUESTDBG_USE_SW_BP : 0) |
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
    if (h_is_err(h_ioctl(tgt.vcpu_fd, KVM_SET_GUEST_DEBUG, (uint64_t)&d)))
        return 0;
    applied = d.control;
    return 1;
}

/* Exactly n bytes from the stream, or 0 when it ended or failed. */
static int read_full(void *buf, uint64_t n)
{
    uint8_t *p = buf;
    while (n > 0) {
        long r = h_read(dbg_fd, p, n);
        if (r == -H_EINTR)
            continue;
        if (r <= 0)
            return 0;
        p += r;
        n -= (uint64_t)r;
    }
    return 1;
}

/* gdb is gone (DETACH, the stream ended or out of step): run on without breakpoints or stepping. */
static void detach(void)
{
    serving = 0;
    hwbp_used = 0;
    apply_debug(0);
}

/* One whole message into `in`; 0 when the stream ended or a header's length is out of bounds (out of step). */
static int read_msg(void)
{
    return read_full(&in.h, sizeof in.h) && in.h.len <= SN_DBG_DATA_MAX && read_full(in.data, in.h.len);
}

/* One request other than CONT/STEP: answered here. Returns 1 when the guest should run. */
static int serve_one(void)
{
    if (!read_msg()) {
        detach();
        return 1;
    }
    /* Copied once: the header and its data are what the checks below saw. */
    struct sn_dbg_msg h = in.h;
    uint8_t *p;
    switch (h.op) {
    case SN_DBG_GET_REGS:
        send_regs(SN_DBG_OK, 0);
        return 0;
    case SN_DBG_SET_REGS:
        if (h.len != sizeof(struct sn_dbg_regs) || !set_regs((const struct sn_dbg_regs *)in.data))
            send(SN_DBG_ERROR, SN_DBG_E_INVAL, 0, 0);
        else
            send(SN_DBG_OK, 0, 0, 0);
        return 0;
    case SN_DBG_READ:
        if (h.arg > SN_DBG_DATA_MAX || !(p = debug_range(h.addr, h.arg)))
            send(SN_DBG_ERROR, SN_DBG_E_RANGE, 0, 0);
        else
            send(SN_DBG_OK, 0, p, h.arg);
        return 0;
    case SN_DBG_WRITE:
        if (!(p = debug_range(h.addr, h.len)))
            send(SN_DBG_ERROR, SN_DBG_E_RANGE, 0, 0);
        else {
            h_memcpy(p, in.data, h.len);
            send(SN_DBG_OK, 0, 0, 0);
        }
        return 0;
    case SN_DBG_HWBP_SET:
    case SN_DBG_HWBP_CLEAR:
        if (h.arg >= SN_DBG_HWBP_MAX) {
            send(SN_DBG_ERROR, SN_DBG_E_INVAL, 0, 0);
            return 0;
        }
        if (h.op == SN_DBG_HWBP_SET) {
            hwbp[h.arg] = h.addr;
            hwbp_used |= 1U << h.arg;
        } else {
            hwbp_used &= ~(1U << h.arg);
        }
        send(SN_DBG_OK, 0, 0, 0);
        return 0;
    case SN_DBG_DETACH:
        detach();
        return 1;
    case SN_DBG_INTERRUPT:
        /* Sent while the guest ran, read once it had stopped: that stop was the answer. */
        return 0;
    case SN_DBG_CONT:
    case SN_DBG_STEP:
        if (!(h.op == SN_DBG_STEP ? step_one() : apply_debug(0))) {
            send(SN_DBG_ERROR, SN_DBG_E_KVM, 0, 0);
            return 0;
        }
        return 1;
    default:
        send(SN_DBG_ERROR, SN_DBG_E_INVAL, 0, 0);
        return 0;
    }
}

/* A message waiting on the socket, read into `in`: 1. Nothing there: 0, without blocking. */
static int take_waiting(void)
{
    int avail = 0;
    if (h_is_err(h_ioctl(dbg_fd, FIONREAD, (uint64_t)&avail)) || avail <= 0)
        return 0;
    if (!read_msg()) {
        detach();
        return 0;
    }
    return 1;
}

/* Was there a ^C among what the tender sent while the guest ran? (It sends nothing else but DETACH then.) */
static int interrupt_waiting(void)
{
    while (serving && take_waiting()) {
        switch (in.h.op) {
        case SN_DBG_INTERRUPT:
            return 1;
        case SN_DBG_DETACH:
            detach();
            return 0;
        default:
            send(SN_DBG_ERROR, SN_DBG_E_INVAL, 0, 0);
        }
    }
    return 0;
}

static void report_interrupt(void)
{
    send_regs(SN_DBG_STOPPED, SN_DBG_STOP_INTERRUPT | SIGINT << 8);
}

/* Serve requests until one says run. */
static void serve(void)
{
    for (;;) {
        while (serving && !serve_one())
            ;
        /*
         * A ^C right behind the request to run may have raised no SIGIO: the
         * kernel sends none while the read that took that request is still
         * waking up. Looked for once more here, before the guest runs.
         */
        if (!interrupt_waiting())
            return;
        report_interrupt();
    }
}

void hvt_debug_sigio(int sig)
{
    (void)sig;
    /* Out of KVM_RUN now, or at once if the loop is about to enter it (no lost wake-up). */
    struct kvm_run *run = kick_run;
    if (run)
        *(volatile uint8_t *)&run->immediate_exit = 1;
}

void hvt_debug_begin(const struct hvt_debug_target *t)
{
    tgt = *t;
    if (!(tgt.flags & (SN_PLAN_F_DUMPCORE | SN_PLAN_F_GDB)))
        return;
    dbg_fd = SN_FD_DOORBELL0 + (int)tgt.ndoorbells + (int)tgt.ndevfds + 1;
    if (!(tgt.flags & SN_PLAN_F_GDB))
        return;
    kick_run = tgt.run;
    /* Held at the entry: the tender tells gdb the guest stopped, and waits for its first request. */
    serving = 1;
    send_regs(SN_DBG_STOPPED, SN_DBG_STOP_OTHER);
    serve();
}

void hvt_debug_trap(const struct kvm_run *run, hvt_abort_fn abort)
{
    if (!serving)
        abort("debug exit with no debugger at ", 1, run->debug.arch.pc);
    uint64_t dr6 = run->debug.arch.dr6;
    uint32_t why = (dr6 & DR6_BS) ? SN_DBG_STOP_STEP : (dr6 & 15) ? SN_DBG_STOP_HWBP : SN_DBG_STOP_OTHER;
    send_regs(SN_DBG_STOPPED, why | SIGTRAP << 8);
    serve();
}

/* gdb's signal for a CPU exception vector: SIGTRAP, SIGFPE (#DE), SIGILL (#UD), SIGSYS (`syscall`), else SIGSEGV. */
static uint32_t vector_signal(uint64_t v)
{
    return v == VECTOR_DB || v == VECTOR_BP ? SIGTRAP : v == 0 ? 8 : v == 6 ? 4 : v == 256 ? 31 : 11;
}

/*
 * KVM completes an MMIO exit only on the next KVM_RUN; registers written
 * before that could be overwritten by the completion. An immediate exit
 * completes it and returns without running the guest.
 */
static void complete_exit(void)
{
    tgt.run->immediate_exit = 1;
    long r;
    do
        r = h_ioctl(tgt.vcpu_fd, KVM_RUN, 0);
    while (r == -H_EAGAIN);
    tgt.run->immediate_exit = 0;
}

void hvt_debug_guest_trap(uint64_t gpa)
{
    if (dbg_fd < 0)
        return;
    /* Untrusted: copied once, word by word, from a checked range; a bad address keeps nothing. */
    const volatile uint64_t *g =
        (const volatile uint64_t *)debug_range(gpa, sizeof(struct sn_hvt_trap_frame));
    if (!g)
        return;
    union {
        struct sn_hvt_trap_frame f;
        uint64_t w[sizeof(struct sn_hvt_trap_frame) / 8];
    } u;
    for (unsigned i = 0; i < sizeof u.w / 8; i++)
        u.w[i] = g[i];
    const struct sn_hvt_trap_frame *f = &u.f;
    struct sn_dbg_regs r;
    get_regs(&r);
    const uint64_t gpr[16] = { f->rax, f->rbx, f->rcx, f->rdx, f->rsi, f->rdi, f->rbp, f->rsp,
                               f->r8,  f->r9,  f->r10, f->r11, f->r12, f->r13, f->r14, f->r15 };
    for (unsigned i = 0; i < 16; i++)
        r.gpr[i] = gpr[i];
    r.rip = f->rip;
    r.rflags = f->rflags & ~RFLAGS_TF;
    r.cs = f->cs;
    r.ss = f->ss;
    r.cr2 = f->cr2;
    trap_regs = r;
    have_trap = 1;
    /* Resumable only from ring 3, where the handler also runs: same segments, only these registers differ. */
    if (!serving || (f->cs & 3) != 3 || (f->ss & 3) != 3)
        return;
    complete_exit();
    if (!set_regs(&r))
        return;
    have_trap = 0;
    uint32_t why = f->vector == VECTOR_DB ? SN_DBG_STOP_STEP : SN_DBG_STOP_OTHER;
    send_regs(SN_DBG_STOPPED, why | vector_signal(f->vector) << 8);
    serve();
}

void hvt_debug_halt_cookie(uint64_t gpa)
{
    if (dbg_fd < 0 || gpa == 0)
        return;
    const volatile uint64_t *g = (const volatile uint64_t *)debug_range(gpa, 7 * 8);
    if (!g)
        return;
    uint64_t f[7];
    for (unsigned i = 0; i < 7; i++)
        f[i] = g[i];
    /* cr2, error code, rip, cs, rflags, rsp, ss: the rest is what the vCPU holds now. */
    get_regs(&trap_regs);
    trap_regs.cr2 = f[0];
    trap_regs.rip = f[2];
    trap_regs.cs = f[3];
    trap_regs.rflags = f[4];
    trap_regs.gpr[7] = f[5];
    trap_regs.ss = f[6];
    have_trap = 1;
}

void hvt_debug_exit(int status)
{
    if (dbg_fd < 0)
        return;
    if (have_trap)
        send(SN_DBG_EXITED, (uint32_t)status & 0xff, &trap_regs, sizeof trap_regs);
    else
        send_regs(SN_DBG_EXITED, (uint32_t)status & 0xff);
}

/*
 * After a SIGIO (KVM_RUN or a guest's wait came back with EINTR): what the
 * tender sent while the guest ran. Bytes arrive only for gdb's ^C or gdb
 * going away; a signal with nothing to read (bytes a blocked read already
 * took, the tender closing) costs one ioctl. `mid_exit`: the vCPU is inside
 * an I/O exit (POLL), which KVM completes before the registers are read.
 */
void hvt_debug_poll(int mid_exit)
{
    if (!kick_run)
        return;
    /* Cleared before looking: a SIGIO from here on sets it again and the next KVM_RUN returns at once. */
    kick_run->immediate_exit = 0;
    if (!interrupt_waiting())
        return;
    if (mid_exit)
        complete_exit();
    report_interrupt();
    serve();
}
