/* virtio_net.c: Solo5 network devices on a legacy virtio-net function: receive buffers posted up front, one frame sent at a time. */
#include "virtio.h"

#define VIRTIO_NET_F_MAC (1U << 5)
/* The legacy header before each frame when neither mergeable buffers nor offloads are negotiated. */
#define VIRTIO_NET_HDR 10
/* A header and the largest frame (MTU 1500 + Ethernet header + a VLAN tag), rounded up. */
#define VIRTIO_NET_BUF 2048
#define VIRTIO_NET_MTU 1500
/* Receive buffers posted; the rest of the device's queue stays unused. */
#define VIRTIO_NET_RX 64
#define RXQ 0
#define TXQ 1

static void rx_post(struct virtio_dev *d, uint16_t i)
{
    struct virtq *q = &d->q[RXQ];
    q->desc[i].addr = (uintptr_t)(d->rx_bufs + (size_t)i * VIRTIO_NET_BUF);
    q->desc[i].len = VIRTIO_NET_BUF;
    q->desc[i].flags = VRING_DESC_F_WRITE;
    q->desc[i].next = 0;
    virtio_queue_post(q, i);
}

int virtio_net_setup(struct virtio_dev *d)
{
    uint32_t host = inl(d->iobase + VIRTIO_PCI_HOST_FEATURES);
    outl(d->iobase + VIRTIO_PCI_GUEST_FEATURES, host & VIRTIO_NET_F_MAC);
    if (!(host & VIRTIO_NET_F_MAC)) {
        sn_log(SN_LOG_WARN, "virtio: net device offers no MAC address; ignored");
        return -1;
    }
    for (int i = 0; i < SOLO5_NET_ALEN; i++)
        d->mac[i] = inb(d->iobase + VIRTIO_PCI_CONFIG + i);
    if (virtio_queue_init(d, RXQ) != 0 || virtio_queue_init(d, TXQ) != 0)
        return -1;
    d->rx_bufs = virtio_alloc((size_t)VIRTIO_NET_RX * VIRTIO_NET_BUF);
    d->tx_buf = virtio_alloc(VIRTIO_NET_BUF);
    uint16_t n = d->q[RXQ].size < VIRTIO_NET_RX ? d->q[RXQ].size : VIRTIO_NET_RX;
    for (uint16_t i = 0; i < n; i++)
        rx_post(d, i);
    virtio_notify(d, RXQ);
    return 0;
}

int virtio_net_pending(struct virtio_dev *d)
{
    struct virtq *q = &d->q[RXQ];
    return q->used[1] != q->used_seen;
}

/* The frame goes out behind a zeroed header in the one transmit buffer; the call returns once the device took it. */
solo5_result_t solo5_net_write(solo5_handle_t handle, const uint8_t *buf, size_t size)
{
    const struct s5_dev *s = s5_dev(handle, SN_MFT_DEV_NET_BASIC);

    if (s == NULL || !s5_net_size_ok(s, size, 0) || !s5_buf_ok((uintptr_t)buf, size, 0))
        return SOLO5_R_EINVAL;
    struct virtio_dev *d = &virtio_devs[s->hostfd];
    struct virtq *q = &d->q[TXQ];
    memset(d->tx_buf, 0, VIRTIO_NET_HDR);
    memcpy(d->tx_buf + VIRTIO_NET_HDR, buf, size);
    q->desc[0].addr = (uintptr_t)d->tx_buf;
    q->desc[0].len = (uint32_t)(VIRTIO_NET_HDR + size);
    q->desc[0].flags = 0;
    q->desc[0].next = 0;
    virtio_queue_post(q, 0);
    virtio_notify(d, TXQ);
    struct vring_used_elem e;
    while (!virtio_queue_used(q, &e))
        __asm__ volatile("pause");
    return SOLO5_R_OK;
}

solo5_result_t solo5_net_read(solo5_handle_t handle, uint8_t *buf, size_t size, size_t *read_size)
{
    const struct s5_dev *s = s5_dev(handle, SN_MFT_DEV_NET_BASIC);

    if (s == NULL || read_size == NULL || !s5_net_size_ok(s, size, 1) || !s5_buf_ok((uintptr_t)buf, size, 1))
        return SOLO5_R_EINVAL;
    struct virtio_dev *d = &virtio_devs[s->hostfd];
    struct vring_used_elem e;
    if (!virtio_queue_used(&d->q[RXQ], &e))
        return SOLO5_R_AGAIN;
    /* The device says which buffer and how long: both are checked before use. */
    uint32_t id = e.id, len = e.len;
    if (id >= VIRTIO_NET_RX || id >= d->q[RXQ].size || len < VIRTIO_NET_HDR || len > VIRTIO_NET_BUF) {
        sn_log(SN_LOG_ERROR, "ABORT: virtio: net device returned buffer %u of %u bytes", id, len);
        sn_platform_exit(SOLO5_EXIT_ABORT);
    }
    size_t n = len - VIRTIO_NET_HDR;
    solo5_result_t r = SOLO5_R_OK;
    if (n > size)
        r = SOLO5_R_EUNSPEC;
    else
        memcpy(buf, d->rx_bufs + (size_t)id * VIRTIO_NET_BUF + VIRTIO_NET_HDR, n);
    rx_post(d, (uint16_t)id);
    virtio_notify(d, RXQ);
    *read_size = r == SOLO5_R_OK ? n : 0;
    return r;
}
