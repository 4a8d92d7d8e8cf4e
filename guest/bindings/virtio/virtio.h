/* virtio.h: what the virtio target's files share: port I/O, the clock, legacy virtio-PCI devices and their queues. */
#ifndef SN_VIRTIO_H
#define SN_VIRTIO_H

#include "sn_solo5.h"
#include "solo5_mft.h"

/*
 * These bindings run a Solo5 unikernel as the only code of a QEMU (or any
 * PC-compatible) virtual machine, in ring 0, interrupts off: Multiboot
 * entry (virtio_start.S), COM1 console, TSC clock calibrated against the
 * PIT, the CMOS clock for wall time, and virtio-net and virtio-blk as
 * legacy virtio-PCI devices (the virtio 1.x specification's "legacy
 * interface" over an I/O BAR) that solo5_yield polls. Devices come from the
 * image's own MFT1 note: the n-th block (net) entry of the manifest is the
 * n-th virtio-blk (virtio-net) function in PCI slot order, which is the
 * order solo5-virtio-run adds them in. s5_devs[] (solo5/solo5_mft.c) holds
 * them with `hostfd` = the index into virtio_devs[].
 */

static inline void outb(uint16_t port, uint8_t v)
{
    __asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}
static inline void outw(uint16_t port, uint16_t v)
{
    __asm__ volatile("outw %0, %1" : : "a"(v), "Nd"(port));
}
static inline void outl(uint16_t port, uint32_t v)
{
    __asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(port));
}
static inline uint8_t inb(uint16_t port)
{
    uint8_t v;
    __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}
static inline uint16_t inw(uint16_t port)
{
    uint16_t v;
    __asm__ volatile("inw %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}
static inline uint32_t inl(uint16_t port)
{
    uint32_t v;
    __asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}
static inline uint64_t virtio_rdtsc(void)
{
    uint32_t lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return ((uint64_t)hi << 32) | lo;
}

/* virtio_boot.c: whether a device may read (`into` = 0) or write (1) `size` bytes at `buf`. */
int s5_buf_ok(uintptr_t buf, size_t size, int into);

/* QEMU's isa-debug-exit: a write of V makes QEMU exit with (V << 1) | 1. */
#define VIRTIO_DEBUG_EXIT_PORT 0x501
/* What Solo5's virtio bindings write there whatever the status (QEMU exits 83). */
#define VIRTIO_DEBUG_EXIT_VALUE 41

/* virtio_clock.c */
void virtio_clock_init(void);

/* virtio_boot.c: start of the free memory, which virtio_alloc hands out before the heap is fixed. */
void *virtio_alloc(size_t size);

/* Split virtqueue, legacy layout: descriptors, available ring, then the used ring on the next page. */
struct vring_desc {
    uint64_t addr;
    uint32_t len;
    uint16_t flags;
    uint16_t next;
};
#define VRING_DESC_F_NEXT 1
#define VRING_DESC_F_WRITE 2

struct vring_used_elem {
    uint32_t id;
    uint32_t len;
};

struct virtq {
    uint16_t size; /* entries, from the device */
    uint16_t index; /* queue number, for notifications */
    uint16_t avail_idx;
    uint16_t used_seen;
    volatile struct vring_desc *desc;
    volatile uint16_t *avail; /* flags, idx, ring[size] */
    volatile uint16_t *used; /* flags, idx, then ring[size] of vring_used_elem */
};

#define VIRTIO_TYPE_NET 1
#define VIRTIO_TYPE_BLOCK 2

struct virtio_dev {
    uint16_t iobase;
    uint8_t type; /* VIRTIO_TYPE_* */
    uint8_t ready;
    uint8_t slot; /* PCI slot on bus 0 */
    uint8_t claimed; /* paired with a manifest entry */
    struct virtq q[2]; /* net: receive, transmit; block: requests */
    uint64_t capacity; /* block: bytes */
    uint8_t mac[SOLO5_NET_ALEN];
    uint8_t *rx_bufs; /* net: one VIRTIO_NET_BUF per receive descriptor */
    uint8_t *tx_buf; /* net: the frame being sent */
    void *req; /* block: the request header and status byte */
};

#define VIRTIO_MAX_DEVS 16
extern struct virtio_dev virtio_devs[VIRTIO_MAX_DEVS];
extern uint32_t virtio_ndevs;

/* virtio_pci.c */
void virtio_pci_scan(void);
/* Sets up queue `n` of `d`; 0 on success. */
int virtio_queue_init(struct virtio_dev *d, uint16_t n);
void virtio_notify(const struct virtio_dev *d, uint16_t n);
/* Puts descriptor chain `head` on the available ring (the device sees it after the notification). */
void virtio_queue_post(struct virtq *q, uint16_t head);
/* The next used element, if the device returned one: 1 and *e filled, else 0. */
int virtio_queue_used(struct virtq *q, struct vring_used_elem *e);
/* Device status bits. */
#define VIRTIO_S_ACKNOWLEDGE 1
#define VIRTIO_S_DRIVER 2
#define VIRTIO_S_DRIVER_OK 4
#define VIRTIO_S_FAILED 128
/* Legacy I/O BAR registers. */
#define VIRTIO_PCI_HOST_FEATURES 0x00
#define VIRTIO_PCI_GUEST_FEATURES 0x04
#define VIRTIO_PCI_QUEUE_PFN 0x08
#define VIRTIO_PCI_QUEUE_SIZE 0x0c
#define VIRTIO_PCI_QUEUE_SEL 0x0e
#define VIRTIO_PCI_QUEUE_NOTIFY 0x10
#define VIRTIO_PCI_STATUS 0x12
#define VIRTIO_PCI_ISR 0x13
#define VIRTIO_PCI_CONFIG 0x14

/* virtio_net.c / virtio_blk.c: device set-up after the PCI scan; 0 on success. */
int virtio_net_setup(struct virtio_dev *d);
int virtio_blk_setup(struct virtio_dev *d);
/* Whether net device `d` has a received frame waiting. */
int virtio_net_pending(struct virtio_dev *d);

/* virtio_trap.c */
void virtio_trap_init(void);

#endif /* SN_VIRTIO_H */
