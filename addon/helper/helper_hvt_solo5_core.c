/* helper_hvt_solo5_core.c: upstream Solo5 hvt hypercalls WALLTIME, PUTS, POLL, HALT, the port table and the run loop. */
#include "helper_hvt_solo5.h"
#ifdef SN_HVT_DEBUG
#include "helper_hvt_debug.h"
#endif

#define NS_PER_SEC 1000000000ULL
/* epoll_pwait events per POLL: one per possible net device and the timer. */
#define POLL_EVENTS SN_MFT_MAX_ENTRIES

/*
 * Which handler serves which port: one fixed table, the same for every
 * variant of the ABI (conventions-new-rooms 1.1). `needs` is the device kind
 * without which upstream never registers the call: such a call is as
 * invalid as an empty slot.
 */
enum needs { NEEDS_NOTHING, NEEDS_BLOCK, NEEDS_NET };
static enum hc_next hc_walltime(struct hvt_solo5_vm *vm, sn_gpa arg, struct hc_out *out);
static enum hc_next hc_puts(struct hvt_solo5_vm *vm, sn_gpa arg, struct hc_out *out);
static enum hc_next hc_poll(struct hvt_solo5_vm *vm, sn_gpa arg, struct hc_out *out);
static enum hc_next hc_halt(struct hvt_solo5_vm *vm, sn_gpa arg, struct hc_out *out);
static const struct {
    hvt_solo5_call call;
    enum needs needs;
} calls[SN_SOLO5_HVT_HC_MAX] = {
    [SN_SOLO5_HVT_HC_WALLTIME] = { hc_walltime, NEEDS_NOTHING },
    [SN_SOLO5_HVT_HC_PUTS] = { hc_puts, NEEDS_NOTHING },
    [SN_SOLO5_HVT_HC_POLL] = { hc_poll, NEEDS_NOTHING },
    [SN_SOLO5_HVT_HC_BLOCK_WRITE] = { hc_block_write, NEEDS_BLOCK },
    [SN_SOLO5_HVT_HC_BLOCK_READ] = { hc_block_read, NEEDS_BLOCK },
    [SN_SOLO5_HVT_HC_NET_WRITE] = { hc_net_write, NEEDS_NET },
    [SN_SOLO5_HVT_HC_NET_READ] = { hc_net_read, NEEDS_NET },
    [SN_SOLO5_HVT_HC_HALT] = { hc_halt, NEEDS_NOTHING },
};

enum hc_next hc_bad_access(struct hc_out *out, const char *file, unsigned line, sn_gpa gpa, uint64_t sz)
{
    out->why.len = 0;
    diag_str(&out->why, file);
    diag_str(&out->why, ":");
    diag_u64(&out->why, line);
    diag_str(&out->why, ": Invalid guest access: gpa=");
    diag_hex(&out->why, gpa.v);
    diag_str(&out->why, ", sz=");
    diag_u64(&out->why, sz);
    return HC_FATAL;
}

enum hc_next hc_host_error(struct hc_out *out, const char *what, long ret)
{
    out->why.len = 0;
    diag_str(&out->why, "Fatal error when ");
    diag_str(&out->why, what);
    diag_str(&out->why, ": ");
    if (ret < 0)
        diag_errno(&out->why, ret);
    else
        diag_str(&out->why, "short transfer");
    return HC_FATAL;
}

const struct hvt_solo5_dev *hvt_solo5_device(const struct hvt_solo5_vm *vm, uint64_t handle, uint32_t type)
{
    uint32_t h = (uint32_t)handle;
    if (h >= SN_MFT_MAX_ENTRIES || vm->dev[h].type != type)
        return 0;
    return &vm->dev[h];
}

static enum hc_next hc_walltime(struct hvt_solo5_vm *vm, sn_gpa arg, struct hc_out *out)
{
    volatile struct sn_solo5_hvt_walltime *g = (volatile void *)gpa_range(&vm->mem, arg, sizeof *g);
    if (!g)
        return HC_BAD_ACCESS(out, arg, sizeof *g);
    struct h_timespec ts;
    h_clock_gettime(H_CLOCK_REALTIME, &ts);
    g->nsecs = (uint64_t)ts.tv_sec * NS_PER_SEC + (uint64_t)ts.tv_nsec;
    return HC_CONTINUE;
}

static enum hc_next hc_puts(struct hvt_solo5_vm *vm, sn_gpa arg, struct hc_out *out)
{
    const volatile struct sn_solo5_hvt_puts *g = (const volatile void *)gpa_range(&vm->mem, arg, sizeof *g);
    if (!g)
        return HC_BAD_ACCESS(out, arg, sizeof *g);
    /* Read once: what is checked is what is used. */
    struct sn_solo5_hvt_puts a = { .data = g->data, .len = g->len };
    const uint8_t *buf = gpa_range(&vm->mem, sn_gpa_of(a.data), a.len);
    if (!buf)
        return HC_BAD_ACCESS(out, sn_gpa_of(a.data), a.len);
    /* A closed console drops the rest (upstream's tender aborts on it). */
    hvt_console_write(buf, a.len);
    return HC_CONTINUE;
}

/*
 * Sleep until a net device has input or the relative timeout passes: the
 * timerfd is armed with it (at least 1 ns, so 0 only checks) and waited on
 * together with every net fd, level-triggered. Re-arming discards an old
 * expiry, so the timer only ever ends the wait it was armed for.
 */
static enum hc_next hc_poll(struct hvt_solo5_vm *vm, sn_gpa arg, struct hc_out *out)
{
    volatile struct sn_solo5_hvt_poll *g = (volatile void *)gpa_range(&vm->mem, arg, sizeof *g);
    if (!g)
        return HC_BAD_ACCESS(out, arg, sizeof *g);
    uint64_t timeout = g->timeout_nsecs;
    struct h_itimerspec it = { .it_value = { .tv_sec = (int64_t)(timeout / NS_PER_SEC),
                                             .tv_nsec = (int64_t)(timeout % NS_PER_SEC) | 1 } };
    /* A timeout past what timespec holds is forever for any guest. */
    if (it.it_value.tv_sec < 0)
        it.it_value.tv_sec = 0x7fffffffffffffffLL;
    long r = h_timerfd_settime(SN_FD_SOLO5_TIMER, &it);
    if (h_is_err(r))
        return hc_host_error(out, "arming the poll timer", r);
    struct h_epoll_event ev[POLL_EVENTS];
    long n;
    for (;;) {
        n = h_epoll_pwait(SN_FD_SOLO5_EPOLL, ev, POLL_EVENTS, -1);
#ifdef SN_HVT_DEBUG
        /* gdb's ^C while the guest waits (a signal, or the socket's event): it stops here, and the wait goes on. */
        if (n == -H_EINTR || (n == 1 && ev[0].data == HVT_DEBUG_EPOLL_DATA)) {
            hvt_debug_poll(1);
            continue;
        }
#endif
        if (n != -H_EINTR)
            break;
    }
    if (h_is_err(n))
        return hc_host_error(out, "polling", n);
    uint64_t ready = 0;
    int nready = 0;
    for (long i = 0; i < n; i++) {
        if (ev[i].data == SN_SOLO5_INTERNAL_TIMERFD || ev[i].data >= 64)
            continue;
        ready |= 1ULL << ev[i].data;
        nready++;
    }
    g->ready_set = ready;
    g->ret = nready;
    return HC_CONTINUE;
}

static enum hc_next hc_halt(struct hvt_solo5_vm *vm, sn_gpa arg, struct hc_out *out)
{
    const volatile struct sn_solo5_hvt_halt *g = (const volatile void *)gpa_range(&vm->mem, arg, sizeof *g);
    if (!g)
        return HC_BAD_ACCESS(out, arg, sizeof *g);
    struct sn_solo5_hvt_halt a = { .cookie = g->cookie, .exit_status = g->exit_status };
    /* The cookie (a trap frame) is checked as upstream does; only solo5-helper-debug reads it, for a core. */
    if (a.cookie != 0 && !gpa_range(&vm->mem, sn_gpa_of(a.cookie), SN_SOLO5_HVT_HALT_COOKIE_MAX))
        return HC_BAD_ACCESS(out, sn_gpa_of(a.cookie), SN_SOLO5_HVT_HALT_COOKIE_MAX);
    out->status = a.exit_status;
    out->cookie = a.cookie;
    return HC_EXIT;
}

static enum hc_next bad_port(struct hc_out *out, uint64_t port)
{
    out->why.len = 0;
    diag_str(&out->why, "Invalid guest port access: port=");
    diag_hex(&out->why, port);
    return HC_FATAL;
}

/*
 * Untrusted: the guest chose port, direction, width and count. Only a
 * single 4-byte `out` to one of the table's ports is a hypercall; its value
 * (in the kvm_run page, at an offset KVM chose) is the argument's address,
 * zero-extended.
 */
enum hc_next hvt_solo5_io(struct hvt_solo5_vm *vm, struct hc_out *out)
{
    const struct kvm_run *run = vm->run;
    uint64_t port = run->io.port;
    if (run->io.direction != KVM_EXIT_IO_OUT || run->io.size != 4 || run->io.count != 1 ||
        port < SN_SOLO5_HVT_PORT_BASE || port - SN_SOLO5_HVT_PORT_BASE >= SN_SOLO5_HVT_HC_MAX)
        return bad_port(out, port);
    uint32_t nr = (uint32_t)(port - SN_SOLO5_HVT_PORT_BASE);
    enum needs needs = calls[nr].needs;
    if (!calls[nr].call || (needs == NEEDS_BLOCK && vm->nblock == 0) ||
        (needs == NEEDS_NET && vm->nnet == 0)) {
        out->why.len = 0;
        diag_str(&out->why, "Invalid guest hypercall: num=");
        diag_u64(&out->why, nr);
        return HC_FATAL;
    }
    /* KVM puts the value in the run area's second page; an offset outside the mapping is KVM's bug, not a read. */
    uint64_t off = run->io.data_offset;
    if (off > vm->run_size - 4)
        return bad_port(out, port);
    const uint8_t *v = (const uint8_t *)run + off;
    uint32_t addr = (uint32_t)v[0] | (uint32_t)v[1] << 8 | (uint32_t)v[2] << 16 | (uint32_t)v[3] << 24;
    return calls[nr].call(vm, sn_gpa_of(addr), out);
}
