/* solo5_net.c: network devices on the Solo5 spt ABI: one frame per read/write on the device's host fd. */
#include "solo5_bindings.h"

/*
 * The host fd is a tap (upstream's tender, or this one's tap backend) or one
 * end of a SOCK_SEQPACKET socketpair (this tender's brokered backends):
 * either way one read or write moves exactly one Ethernet frame.
 */

/* The API's limits, checked as the ring bindings check them, so both ABIs answer alike. */
solo5_result_t solo5_net_write(solo5_handle_t handle, const uint8_t *buf, size_t size)
{
    const struct s5_dev *d = s5_dev(handle, SN_MFT_DEV_NET_BASIC);

    if (d == NULL || !s5_net_size_ok(d, size, 0) || !s5_buf_ok((uintptr_t)buf, size, 0))
        return SOLO5_R_EINVAL;
    long n;
    do
        n = spt_syscall3(SPT_SYS_WRITE, d->hostfd, (long)buf, (long)size);
    while (n == -SPT_EINTR);
    return n == (long)size ? SOLO5_R_OK : SOLO5_R_EUNSPEC;
}

solo5_result_t solo5_net_read(solo5_handle_t handle, uint8_t *buf, size_t size, size_t *read_size)
{
    const struct s5_dev *d = s5_dev(handle, SN_MFT_DEV_NET_BASIC);

    if (d == NULL || read_size == NULL || !s5_net_size_ok(d, size, 1) || !s5_buf_ok((uintptr_t)buf, size, 1))
        return SOLO5_R_EINVAL;
    long n;
    do
        n = spt_syscall3(SPT_SYS_READ, d->hostfd, (long)buf, (long)size);
    while (n == -SPT_EINTR);
    if (n == -S5_EAGAIN)
        return SOLO5_R_AGAIN;
    if (n < 0)
        return SOLO5_R_EUNSPEC;
    *read_size = (size_t)n;
    return SOLO5_R_OK;
}
