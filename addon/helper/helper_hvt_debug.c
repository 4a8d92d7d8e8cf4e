/* helper_hvt_debug.c: solo5-helper-debug only: the debug channel: the tender's typed requests, stops, gdb's ^C (the vCPU side: helper_hvt_debug_vcpu.c). */
#include "helper_hvt_debug.h"
#include "helper_hvt_debug_vcpu.h"

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

#define DR6_BS (1ULL << 14)
#define VECTOR_DB 1U
#define VECTOR_BP 3U
#define SIGTRAP 5U
#define SIGINT 2U

static int dbg_fd = -1;
static int serving; /* SN_PLAN_F_GDB and the tender still listens */
/* Where the SIGIO handler asks for an immediate exit: set once the run loop starts. */
static struct kvm_run *volatile kick_run;
/* The registers in the guest's last trap frame (SN_HVT_TRAP): where an aborting guest really was. */
static struct sn_dbg_regs trap_regs;
static int have_trap;

static struct {
    struct sn_dbg_msg h;
    uint8_t data[SN_DBG_DATA_MAX];
} in, out;

static void send(uint32_t op, uint32_t arg, const void *data, uint32_t len)
{
    out.h = (struct sn_dbg_msg){ .op = op, .len = len, .arg = arg };
    if (len)
        dbg_memcpy(out.data, data, len);
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
    dbg_get_regs(&r);
    send(op, arg, &r, sizeof r);
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
    dbg_hwbp_clear_all();
    dbg_apply(0, 0);
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
        if (h.len != sizeof(struct sn_dbg_regs) || !dbg_set_regs((const struct sn_dbg_regs *)in.data))
            send(SN_DBG_ERROR, SN_DBG_E_INVAL, 0, 0);
        else
            send(SN_DBG_OK, 0, 0, 0);
        return 0;
    case SN_DBG_READ:
        if (h.arg > SN_DBG_DATA_MAX || !(p = dbg_range(h.addr, h.arg)))
            send(SN_DBG_ERROR, SN_DBG_E_RANGE, 0, 0);
        else
            send(SN_DBG_OK, 0, p, h.arg);
        return 0;
    case SN_DBG_WRITE:
        if (!(p = dbg_range(h.addr, h.len)))
            send(SN_DBG_ERROR, SN_DBG_E_RANGE, 0, 0);
        else {
            dbg_memcpy(p, in.data, h.len);
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
            dbg_hwbp_set(h.arg, h.addr);
        } else {
            dbg_hwbp_clear(h.arg);
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
        if (!(h.op == SN_DBG_STEP ? dbg_step(serving) : dbg_apply(0, serving))) {
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
    dbg_tgt = *t;
    if (!(dbg_tgt.flags & (SN_PLAN_F_DUMPCORE | SN_PLAN_F_GDB)))
        return;
    dbg_fd = SN_FD_DOORBELL0 + (int)dbg_tgt.ndoorbells + (int)dbg_tgt.ndevfds + 1;
    if (!(dbg_tgt.flags & SN_PLAN_F_GDB))
        return;
    kick_run = dbg_tgt.run;
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

void hvt_debug_guest_trap(uint64_t gpa)
{
    if (dbg_fd < 0)
        return;
    /* Untrusted: copied once, word by word, from a checked range; a bad address keeps nothing. */
    const volatile uint64_t *g = (const volatile uint64_t *)dbg_range(gpa, sizeof(struct sn_hvt_trap_frame));
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
    dbg_get_regs(&r);
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
    dbg_complete_exit();
    if (!dbg_set_regs(&r))
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
    const volatile uint64_t *g = (const volatile uint64_t *)dbg_range(gpa, 7 * 8);
    if (!g)
        return;
    uint64_t f[7];
    for (unsigned i = 0; i < 7; i++)
        f[i] = g[i];
    /* cr2, error code, rip, cs, rflags, rsp, ss: the rest is what the vCPU holds now. */
    dbg_get_regs(&trap_regs);
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
        dbg_complete_exit();
    report_interrupt();
    serve();
}
