/* helper_hvt_solo5_net.c: upstream Solo5 hvt hypercalls NET_WRITE and NET_READ on a tap or a seqpacket socket. */
#include "helper_hvt_solo5.h"

/*
 * The fd is a tap (IFF_TAP | IFF_NO_PI, one frame per read or write) or one
 * end of a SOCK_SEQPACKET pair whose other end the tender's pump serves
 * (switch, unix, passt): the same frame-at-a-time semantics. Both are
 * non-blocking (helper_solo5.c), so a read with nothing queued is AGAIN.
 */
static enum hc_next netio(struct hvt_solo5_vm *vm, sn_gpa arg, struct hc_out *out, int write)
{
    volatile struct sn_solo5_hvt_netio *g = (volatile void *)gpa_range(&vm->mem, arg, sizeof *g);
    if (!g)
        return HC_BAD_ACCESS(out, arg, sizeof *g);
    struct sn_solo5_hvt_netio a = { .handle = g->handle, .data = g->data, .len = g->len };
    const struct hvt_solo5_dev *dev = hvt_solo5_device(vm, a.handle, SN_MFT_DEV_NET_BASIC);
    if (!dev) {
        g->ret = SN_SOLO5_R_EINVAL;
        return HC_CONTINUE;
    }
    uint8_t *buf = gpa_range(&vm->mem, sn_gpa_of(a.data), a.len);
    if (!buf)
        return HC_BAD_ACCESS(out, sn_gpa_of(a.data), a.len);
    long n;
    do
        n = write ? h_write(dev->fd, buf, a.len) : h_read(dev->fd, buf, a.len);
    while (n == -H_EINTR);
    if (write) {
        /*
         * A full socket queue drops the frame, as a tap's full queue does
         * inside the kernel; upstream's tender (a tap only) never sees EAGAIN.
         */
        if (n != -H_EAGAIN && (n < 0 || (uint64_t)n != a.len))
            return hc_host_error(out, "writing to the net device", n);
        g->ret = SN_SOLO5_R_OK;
        return HC_CONTINUE;
    }
    if (n == 0 || n == -H_EAGAIN) {
        g->ret = SN_SOLO5_R_AGAIN;
        return HC_CONTINUE;
    }
    if (n < 0)
        return hc_host_error(out, "reading from the net device", n);
    g->len = (uint64_t)n;
    g->ret = SN_SOLO5_R_OK;
    return HC_CONTINUE;
}

enum hc_next hc_net_write(struct hvt_solo5_vm *vm, sn_gpa arg, struct hc_out *out)
{
    return netio(vm, arg, out, 1);
}

enum hc_next hc_net_read(struct hvt_solo5_vm *vm, sn_gpa arg, struct hc_out *out)
{
    return netio(vm, arg, out, 0);
}
