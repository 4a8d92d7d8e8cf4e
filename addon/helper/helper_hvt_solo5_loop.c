/* helper_hvt_solo5_loop.c: the vCPU run loop of an upstream Solo5 hvt guest, and every way it ends. */
#include "helper_hvt_solo5.h"
#include "helper_inplace.h"
#ifdef SN_HVT_DEBUG
#include "helper_hvt_debug.h"
#endif

/*
 * Only this loop ends the process (conventions-new-rooms 1.3). Outcomes are
 * upstream's, so that scripts and upstream's tests see a drop-in: HALT is
 * the guest's status; a broken protocol, a vCPU the helper cannot go on
 * running and a host I/O failure are status 1 with upstream's line on
 * stderr (docs/decisions.md).
 */

/* The longest tool name an in-place report is prefixed with (the CLI's own name). */
#define SN_HVT_TOOL_MAX 64

static __attribute__((noreturn)) void fatal(const struct diag *d)
{
    char line[SN_HVT_TOOL_MAX + 2 + sizeof d->buf + 1];
    unsigned n = 0;
    if (inplace_tool) {
        /* In place nobody strips a marker: upstream's line as the tender prints it ("solo5-hvt: ..."). */
        for (const char *t = inplace_tool; *t && n < SN_HVT_TOOL_MAX; t++)
            line[n++] = *t;
        line[n++] = ':';
        line[n++] = ' ';
    } else {
        line[n++] = (char)SN_SOLO5_HVT_DIAG_RUNNING;
    }
    for (unsigned i = 0; i < d->len; i++)
        line[n++] = d->buf[i];
    line[n++] = '\n';
    h_write(SN_FD_DIAG, line, n);
#ifdef SN_HVT_DEBUG
    hvt_debug_exit(1);
#endif
    h_exit_group(1);
}

static uint64_t guest_rip(const struct hvt_solo5_vm *vm)
{
    struct kvm_regs regs;
    long r = h_ioctl(vm->vcpu_fd, KVM_GET_REGS, (uint64_t)&regs);
    return h_is_err(r) ? 0 : regs.rip;
}

/* "KVM: <what><value>", with ", rip=0x..." when asked: upstream's run-time lines. */
static __attribute__((noreturn)) void kvm_fatal(const struct hvt_solo5_vm *vm, const char *what,
                                                uint64_t value, int with_value, int with_rip)
{
    struct diag d;
    d.len = 0;
    diag_str(&d, "KVM: ");
    diag_str(&d, what);
    if (with_value)
        diag_hex(&d, value);
    if (with_rip) {
        diag_str(&d, with_value ? ", rip=" : "rip=");
        diag_hex(&d, guest_rip(vm));
    }
    fatal(&d);
}

#ifdef SN_HVT_DEBUG
static const struct hvt_solo5_vm *debug_vm;

/* A debug exit nobody asked for: upstream's unhandled-exit line. */
static __attribute__((noreturn)) void debug_abort(const char *what, int with_value, uint64_t value)
{
    (void)what;
    (void)with_value;
    (void)value;
    kvm_fatal(debug_vm, "unhandled exit: exit_reason=", KVM_EXIT_DEBUG, 1, 1);
}
#endif

void hvt_solo5_loop(struct hvt_solo5_vm *vm)
{
    /* In place, the run-time lines name host errors in strerror's words, as the tender would. */
    diag_strerror = inplace_tool != 0;
    struct kvm_run *run = vm->run;
#ifdef SN_HVT_DEBUG
    debug_vm = vm;
    struct hvt_debug_target t = { .mem = vm->mem.base,
                                  .mem_size = vm->mem.size,
                                  .mem_low = 0,
                                  .vcpu_fd = vm->vcpu_fd,
                                  .run = run,
                                  .ndoorbells = vm->ndoorbells,
                                  .ndevfds = vm->ndevfds,
                                  .flags = vm->flags,
                                  .ring0 = 1 };
    hvt_debug_begin(&t);
#endif
    for (;;) {
        long r = h_ioctl(vm->vcpu_fd, KVM_RUN, 0);
        if (r == -H_EINTR || r == -H_EAGAIN) {
#ifdef SN_HVT_DEBUG
            hvt_debug_poll(0);
#endif
            continue;
        }
        /* A store to text or rodata, read-only in this process's mapping, on hardware KVM. */
        if (r == -H_EFAULT)
            kvm_fatal(vm, "host/guest translation fault: ", 0, 0, 1);
        if (h_is_err(r)) {
            struct diag d;
            d.len = 0;
            diag_str(&d, "KVM: ioctl (RUN) failed: ");
            diag_errno(&d, r);
            fatal(&d);
        }
        struct hc_out out = { .cookie = 0 };
        switch (run->exit_reason) {
        case KVM_EXIT_IO:
            switch (hvt_solo5_io(vm, &out)) {
            case HC_CONTINUE:
                break;
            case HC_EXIT:
#ifdef SN_HVT_DEBUG
                hvt_debug_halt_cookie(out.cookie);
                hvt_debug_exit(out.status);
#endif
                h_exit_group(out.status);
            case HC_FATAL:
                fatal(&out.why);
            }
            break;
        case KVM_EXIT_MMIO:
            /*
             * Nothing is mapped outside RAM, so on KVM an MMIO exit is an
             * access above the allocation. PVM also reports a store to
             * read-only RAM this way (where KVM fails KVM_RUN with EFAULT):
             * the same translation fault as upstream reports on hardware.
             */
            if (run->mmio.phys_addr < vm->alloc)
                kvm_fatal(vm, "host/guest translation fault: ", 0, 0, 1);
            kvm_fatal(vm, "unhandled exit: exit_reason=", KVM_EXIT_MMIO, 1, 1);
#ifdef SN_HVT_DEBUG
        case KVM_EXIT_DEBUG:
            hvt_debug_trap(run, debug_abort);
            break;
#endif
        case KVM_EXIT_FAIL_ENTRY:
            kvm_fatal(vm, "entry failure: hw_entry_failure_reason=",
                      run->fail_entry.hardware_entry_failure_reason, 1, 0);
        case KVM_EXIT_INTERNAL_ERROR:
            kvm_fatal(vm, "internal error exit: suberror=", run->internal.suberror, 1, 0);
        default:
            /* HLT, SHUTDOWN (a triple fault: an exception before the guest's IDT, or in its handler), ... */
            kvm_fatal(vm, "unhandled exit: exit_reason=", run->exit_reason, 1, 1);
        }
    }
}
