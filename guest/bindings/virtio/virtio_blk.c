/* virtio_blk.c: Solo5 block devices on a legacy virtio-blk function: one synchronous request of three descriptors at a time. */
#include "virtio.h"

#define VIRTIO_BLK_T_IN 0
#define VIRTIO_BLK_T_OUT 1
#define VIRTIO_BLK_S_OK 0
#define SECTOR 512
/* Bytes per request: the caller's buffer is used in place, in pieces no larger than this. */
#define VIRTIO_BLK_CHUNK (64 * 1024)

struct blk_req {
    uint32_t type;
    uint32_t reserved;
    uint64_t sector;
    uint8_t status;
};

int virtio_blk_setup(struct virtio_dev *d)
{
    /* No optional feature is needed: 512-byte sectors, the capacity in the configuration space. */
    outl(d->iobase + VIRTIO_PCI_GUEST_FEATURES, 0);
    uint64_t lo = inl(d->iobase + VIRTIO_PCI_CONFIG), hi = inl(d->iobase + VIRTIO_PCI_CONFIG + 4);
    uint64_t sectors = lo | hi << 32;
    if (sectors == 0 || sectors > (1ULL << 54)) {
        sn_log(SN_LOG_WARN, "virtio: block device reports %lu sectors; ignored", (unsigned long)sectors);
        return -1;
    }
    d->capacity = sectors * SECTOR;
    if (virtio_queue_init(d, 0) != 0 || d->q[0].size < 3)
        return -1;
    d->req = virtio_alloc(sizeof(struct blk_req));
    return 0;
}

static int request(struct virtio_dev *d, uint32_t type, uint64_t offset, uintptr_t buf, uint32_t size)
{
    struct virtq *q = &d->q[0];
    struct blk_req *req = d->req;
    req->type = type;
    req->reserved = 0;
    req->sector = offset / SECTOR;
    req->status = 0xff;
    q->desc[0] = (struct vring_desc){ (uintptr_t)req, 16, VRING_DESC_F_NEXT, 1 };
    q->desc[1] = (struct vring_desc){
        buf, size, (uint16_t)(VRING_DESC_F_NEXT | (type == VIRTIO_BLK_T_IN ? VRING_DESC_F_WRITE : 0)), 2
    };
    q->desc[2] = (struct vring_desc){ (uintptr_t)&req->status, 1, VRING_DESC_F_WRITE, 0 };
    virtio_queue_post(q, 0);
    virtio_notify(d, 0);
    struct vring_used_elem e;
    while (!virtio_queue_used(q, &e))
        __asm__ volatile("pause");
    return *(volatile uint8_t *)&req->status == VIRTIO_BLK_S_OK ? 0 : -1;
}

static solo5_result_t block_io(solo5_handle_t handle, uint32_t type, solo5_off_t offset, uintptr_t buf,
                               size_t size)
{
    const struct s5_dev *s = s5_dev(handle, SN_MFT_DEV_BLOCK_BASIC);

    if (s == NULL || !s5_block_request_ok(s, offset, size) || !s5_buf_ok(buf, size, type == VIRTIO_BLK_T_IN))
        return SOLO5_R_EINVAL;
    struct virtio_dev *d = &virtio_devs[s->hostfd];
    for (size_t done = 0; done < size; done += VIRTIO_BLK_CHUNK) {
        size_t n = size - done < VIRTIO_BLK_CHUNK ? size - done : VIRTIO_BLK_CHUNK;
        if (request(d, type, offset + done, buf + done, (uint32_t)n) != 0)
            return SOLO5_R_EUNSPEC;
    }
    return SOLO5_R_OK;
}

solo5_result_t solo5_block_write(solo5_handle_t handle, solo5_off_t offset, const uint8_t *buf, size_t size)
{
    return block_io(handle, VIRTIO_BLK_T_OUT, offset, (uintptr_t)buf, size);
}

solo5_result_t solo5_block_read(solo5_handle_t handle, solo5_off_t offset, uint8_t *buf, size_t size)
{
    return block_io(handle, VIRTIO_BLK_T_IN, offset, (uintptr_t)buf, size);
}
