/* virtio_pci.c: finds legacy virtio-PCI functions on bus 0 and drives their split virtqueues (virtio 1.x, "legacy interface"). */
#include "virtio.h"

#define PCI_CONFIG_ADDRESS 0xcf8
#define PCI_CONFIG_DATA 0xcfc
#define PCI_VENDOR_VIRTIO 0x1af4
/* Transitional device IDs: 0x1000 + (virtio device ID - 1) for net (1) and block (2). */
#define PCI_DEVICE_NET 0x1000
#define PCI_DEVICE_BLOCK 0x1001
#define PCI_COMMAND_IO 0x1
#define PCI_COMMAND_MASTER 0x4
#define VIRTQ_ALIGN 4096

static uint32_t pci_read(uint32_t slot, uint32_t reg)
{
    outl(PCI_CONFIG_ADDRESS, 0x80000000U | (slot << 11) | (reg & 0xfc));
    return inl(PCI_CONFIG_DATA);
}

static void pci_write(uint32_t slot, uint32_t reg, uint32_t v)
{
    outl(PCI_CONFIG_ADDRESS, 0x80000000U | (slot << 11) | (reg & 0xfc));
    outl(PCI_CONFIG_DATA, v);
}

/* Slots of bus 0, function 0 only, in slot order; a device whose set-up fails stays in the table, not ready. */
void virtio_pci_scan(void)
{
    virtio_ndevs = 0;
    for (uint32_t slot = 0; slot < 32 && virtio_ndevs < VIRTIO_MAX_DEVS; slot++) {
        uint32_t id = pci_read(slot, 0);
        uint16_t vendor = id & 0xffff, device = id >> 16;
        if (vendor != PCI_VENDOR_VIRTIO || (device != PCI_DEVICE_NET && device != PCI_DEVICE_BLOCK))
            continue;
        uint32_t bar0 = pci_read(slot, 0x10);
        struct virtio_dev *d = &virtio_devs[virtio_ndevs++];
        memset(d, 0, sizeof *d);
        d->type = device == PCI_DEVICE_NET ? VIRTIO_TYPE_NET : VIRTIO_TYPE_BLOCK;
        d->slot = (uint8_t)slot;
        if (!(bar0 & 1)) {
            sn_log(SN_LOG_WARN, "virtio: PCI slot %u has no I/O BAR (not a legacy device); ignored", slot);
            continue;
        }
        d->iobase = (uint16_t)(bar0 & ~3U);
        uint32_t cmd = pci_read(slot, 0x04);
        pci_write(slot, 0x04, (cmd & 0xffff) | PCI_COMMAND_IO | PCI_COMMAND_MASTER);
        outb(d->iobase + VIRTIO_PCI_STATUS, 0);
        outb(d->iobase + VIRTIO_PCI_STATUS, VIRTIO_S_ACKNOWLEDGE | VIRTIO_S_DRIVER);
        int bad = d->type == VIRTIO_TYPE_NET ? virtio_net_setup(d) : virtio_blk_setup(d);
        if (bad) {
            outb(d->iobase + VIRTIO_PCI_STATUS, VIRTIO_S_FAILED);
            continue;
        }
        outb(d->iobase + VIRTIO_PCI_STATUS, VIRTIO_S_ACKNOWLEDGE | VIRTIO_S_DRIVER | VIRTIO_S_DRIVER_OK);
        d->ready = 1;
        sn_log(SN_LOG_INFO, "virtio: %s device at PCI slot %u, I/O 0x%x",
               d->type == VIRTIO_TYPE_NET ? "net" : "block", slot, d->iobase);
    }
}

int virtio_queue_init(struct virtio_dev *d, uint16_t n)
{
    struct virtq *q = &d->q[n];
    outw(d->iobase + VIRTIO_PCI_QUEUE_SEL, n);
    uint16_t size = inw(d->iobase + VIRTIO_PCI_QUEUE_SIZE);
    if (size == 0 || (size & (size - 1)) != 0 || size > 32768) {
        sn_log(SN_LOG_WARN, "virtio: queue %u has size %u; device ignored", n, size);
        return -1;
    }
    size_t ring = SN_PAGE_ALIGN_UP(16UL * size + 2UL * (3 + size));
    size_t used = SN_PAGE_ALIGN_UP(6UL + 8UL * size);
    uint8_t *mem = virtio_alloc(ring + used);
    q->size = size;
    q->index = n;
    q->avail_idx = 0;
    q->used_seen = 0;
    q->desc = (volatile struct vring_desc *)mem;
    q->avail = (volatile uint16_t *)(mem + 16UL * size);
    q->used = (volatile uint16_t *)(mem + ring);
    outl(d->iobase + VIRTIO_PCI_QUEUE_PFN, (uint32_t)((uintptr_t)mem / VIRTQ_ALIGN));
    return 0;
}

void virtio_notify(const struct virtio_dev *d, uint16_t n)
{
    outw(d->iobase + VIRTIO_PCI_QUEUE_NOTIFY, n);
}

void virtio_queue_post(struct virtq *q, uint16_t head)
{
    q->avail[2 + (q->avail_idx % q->size)] = head;
    /* The entry must be visible before the index that publishes it. */
    __asm__ volatile("" ::: "memory");
    q->avail_idx++;
    q->avail[1] = q->avail_idx;
    __asm__ volatile("mfence" ::: "memory");
}

int virtio_queue_used(struct virtq *q, struct vring_used_elem *e)
{
    uint16_t idx = q->used[1];
    if (idx == q->used_seen)
        return 0;
    __asm__ volatile("" ::: "memory");
    const volatile struct vring_used_elem *ring = (const volatile struct vring_used_elem *)(q->used + 2);
    const volatile struct vring_used_elem *u = &ring[q->used_seen % q->size];
    e->id = u->id;
    e->len = u->len;
    q->used_seen++;
    return 1;
}
