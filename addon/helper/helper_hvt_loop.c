/* helper_hvt_loop.c: the vCPU run loop: KVM_RUN, hypercalls from the untrusted guest, and how a guest ends. */
#include "helper_hvt.h"
#include "helper_hvt_mem.h"
#include "sn_hvt_abi.h"
#ifdef SN_HVT_DEBUG
#include "helper_hvt_debug.h"
#endif

#define NS_PER_SEC 1000000000ULL
#define NS_PER_MS 1000000ULL
/* The status solo5_abort() exits with on every target. */
#define EXIT_ABORT 255

static const struct hvt_vm *vm;

/* Cleared the first time the kernel says it lacks epoll_pwait2 (before 5.11). */
static int have_pwait2 = 1;

/*
 * The guest is running, so fd 2 is off limits: the tender reads anything
 * there as "the guest never started". A guest that breaks the hypercall
 * protocol, or that the vCPU cannot go on running, ends like a guest that
 * called solo5_abort(): one line with ABORT on its console, status 255.
 */
/* Every end of a running guest; solo5-helper-debug first hands the tender the guest's registers. */
static __attribute__((noreturn)) void guest_exit(int status)
{
#ifdef SN_HVT_DEBUG
    hvt_debug_exit(status);
#endif
    h_exit_group(status);
}

static __attribute__((noreturn)) void guest_abort(const char *what, int with_value, uint64_t value)
{
    struct diag d;
    d.len = 0;
    diag_str(&d, "Solo5: ABORT: hvt: ");
    diag_str(&d, what);
    if (with_value)
        diag_hex(&d, value);
    if (d.len < sizeof(d.buf))
        d.buf[d.len++] = '\n';
    h_write(SN_FD_CONSOLE, d.buf, d.len);
    guest_exit(EXIT_ABORT);
}

/* Untrusted: [gpa, gpa + len) comes from the guest; helper_hvt_mem.h says what may be named. */
static uint8_t *guest_range(uint64_t gpa, uint64_t len)
{
    const struct hvt_mem m = { .base = vm->mem, .size = vm->mem_size };
    return gpa_range(&m, sn_gpa_of(gpa), len);
}

static void hc_puts(uint64_t arg)
{
    const volatile struct sn_hvt_puts *g = (const volatile void *)guest_range(arg, sizeof *g);
    if (!g)
        guest_abort("console hypercall with its arguments outside guest memory at ", 1, arg);
    /* Read once: what is checked is what is used. */
    struct sn_hvt_puts a = { .addr = g->addr, .len = g->len };
    const uint8_t *buf = guest_range(a.addr, a.len);
    if (!buf)
        guest_abort("console hypercall with a buffer outside guest memory at ", 1, a.addr);
    hvt_console_write(buf, a.len);
}

void hvt_console_write(const uint8_t *buf, uint64_t len)
{
    while (len > 0) {
        long n = h_write(SN_FD_CONSOLE, buf, len);
        if (n == -H_EINTR)
            continue;
        /* The tender closed the console: nowhere to report to, as on spt the rest is dropped. */
        if (n <= 0)
            return;
        buf += n;
        len -= (uint64_t)n;
    }
}

/* One wait of at most `ns` on SN_FD_WAIT; returns the number of events or -errno. */
static long wait_once(uint64_t ns, struct h_epoll_event *ev)
{
    if (have_pwait2) {
        struct h_timespec ts = { .tv_sec = (int64_t)(ns / NS_PER_SEC),
                                 .tv_nsec = (int64_t)(ns % NS_PER_SEC) };
        long n = h_epoll_pwait2(SN_FD_WAIT, ev, 1, &ts);
        if (n != -H_ENOSYS)
            return n;
        have_pwait2 = 0;
    }
    /* Milliseconds, rounded up so that the wait is never shorter than asked. */
    uint64_t ms = ns / NS_PER_MS + (ns % NS_PER_MS != 0);
    return h_epoll_pwait(SN_FD_WAIT, ev, 1, ms > 0x7fffffff ? 0x7fffffff : (int)ms);
}

static void hc_wait(uint64_t arg)
{
    volatile struct sn_hvt_wait *g = (volatile void *)guest_range(arg, sizeof *g);
    if (!g)
        guest_abort("wait hypercall with its arguments outside guest memory at ", 1, arg);
    uint64_t timeout = g->timeout_ns;
    struct h_epoll_event ev;
    uint32_t woken = 0;
    long n = timeout > 0 ? wait_once(timeout, &ev) : 0;
#ifdef SN_HVT_DEBUG
    /* gdb's ^C: the guest wakes early (its yield sleeps again) and the next KVM_RUN stops it. */
    if (n > 0 && ev.data == HVT_DEBUG_EPOLL_DATA)
        n = 0;
#endif
    if (n > 0) {
        /*
         * Level-triggered, holding only the doorbells to the guest: drain the
         * one that fired (its fd number is the event's data, set by the
         * helper) or every later wait returns at once. Non-blocking eventfd:
         * a lost race gives EAGAIN, never a sleep.
         */
        uint64_t count;
        long r;
        do
            r = h_read((int)ev.data, &count, sizeof count);
        while (r == -H_EINTR);
        woken = 1;
    } else if (n < 0 && n != -H_EINTR) {
        guest_abort("waiting on the doorbell failed with errno ", 1, (uint64_t)-n);
    }
    g->woken = woken;
}

static void hc_kick(void)
{
    static const uint64_t one = 1;
    /* A guest without devices has no doorbell; ringing nothing is harmless. */
    if (vm->ndoorbells == 0)
        return;
    long n;
    do
        n = h_write(SN_FD_DOORBELL0 + SN_DOORBELL_TO_TENDER, &one, sizeof one);
    while (n == -H_EINTR);
}

#define MSR_FS_BASE 0xc0000100U

static void hc_set_tls(uint64_t base)
{
    struct {
        struct kvm_msrs head;
        struct kvm_msr_entry entry;
    } msrs = { .head = { .nmsrs = 1 }, .entry = { .index = MSR_FS_BASE, .data = base } };
    /* KVM refuses a non-canonical base (0 MSRs set); the bindings never pass one. */
    long r = h_ioctl(SN_FD_VCPU, KVM_SET_MSRS, (uint64_t)&msrs);
    if (r != 1)
        guest_abort("TLS hypercall with a base KVM refused: ", 1, base);
}

/* Untrusted: the guest chose the address and width; only 8-byte stores to the call slots are calls. */
static void handle_mmio(const struct kvm_run *run)
{
    uint64_t gpa = run->mmio.phys_addr;
    if (gpa < SN_HVT_HYPERCALL_ADDR || gpa - SN_HVT_HYPERCALL_ADDR >= SN_PAGE_SIZE)
        guest_abort("access to a guest physical address outside guest memory: ", 1, gpa);
    if (gpa - SN_HVT_HYPERCALL_ADDR >= 8 * SN_HVT_CALLS)
        guest_abort("unknown hypercall at ", 1, gpa);
    if (!run->mmio.is_write || run->mmio.len != 8 || (gpa - SN_HVT_HYPERCALL_ADDR) % 8 != 0)
        guest_abort("hypercall page access other than an aligned 8-byte store at ", 1, gpa);
    uint64_t value = 0;
    for (unsigned i = 0; i < 8; i++)
        value |= (uint64_t)run->mmio.data[i] << (8 * i);
    switch ((gpa - SN_HVT_HYPERCALL_ADDR) / 8) {
    case SN_HVT_PUTS:
        hc_puts(value);
        break;
    case SN_HVT_EXIT:
        guest_exit((int)value);
    case SN_HVT_WAIT:
        hc_wait(value);
        break;
    case SN_HVT_KICK:
        hc_kick();
        break;
    case SN_HVT_SET_TLS:
        hc_set_tls(value);
        break;
    case SN_HVT_TRAP:
        /* Only solo5-helper-debug looks at the frame; the guest then reports and aborts. */
#ifdef SN_HVT_DEBUG
        hvt_debug_guest_trap(value);
#endif
        break;
    }
}

void hvt_loop(const struct hvt_vm *the_vm)
{
    vm = the_vm;
    struct kvm_run *run = vm->run;
#ifdef SN_HVT_DEBUG
    struct hvt_debug_target t = { .mem = vm->mem,
                                  .mem_size = vm->mem_size,
                                  .mem_low = SN_MEM_UNMAPPED_END,
                                  .vcpu_fd = SN_FD_VCPU,
                                  .run = vm->run,
                                  .ndoorbells = vm->ndoorbells,
                                  .flags = vm->flags };
    hvt_debug_begin(&t);
#endif
    for (;;) {
        long r = h_ioctl(SN_FD_VCPU, KVM_RUN, 0);
        if (r == -H_EINTR || r == -H_EAGAIN) {
#ifdef SN_HVT_DEBUG
            hvt_debug_poll(0);
#endif
            continue;
        }
        if (h_is_err(r))
            guest_abort("KVM_RUN failed with errno ", 1, (uint64_t)-r);
        switch (run->exit_reason) {
        case KVM_EXIT_MMIO:
            handle_mmio(run);
            break;
#ifdef SN_HVT_DEBUG
        case KVM_EXIT_DEBUG:
            hvt_debug_trap(run, guest_abort);
            break;
#endif
        case KVM_EXIT_IO:
            guest_abort("port I/O on port ", 1, run->io.port);
        case KVM_EXIT_HLT:
            guest_abort("the guest halted with interrupts off", 0, 0);
        case KVM_EXIT_SHUTDOWN:
            guest_abort("triple fault (a CPU exception before the guest's IDT was set up, or in its handler)",
                        0, 0);
        case KVM_EXIT_FAIL_ENTRY:
            guest_abort("the vCPU could not enter the guest, hardware reason ", 1,
                        run->fail_entry.hardware_entry_failure_reason);
        case KVM_EXIT_INTERNAL_ERROR:
            guest_abort("KVM internal error ", 1, run->internal.suberror);
        default:
            guest_abort("unexpected vCPU exit ", 1, run->exit_reason);
        }
    }
}
