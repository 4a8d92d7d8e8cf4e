/* rings.c: finds and checks the tender's ring area and device blocks, and the guest's adaptive wait on them. */
#include "rings.h"
#include "platform.h"

/*
 * The tender lays the area out before the guest starts (docs/abi.md,
 * "Rings"). The guest trusts its tender, but the area is ordinary memory
 * that the application itself can overwrite, so every offset and size is
 * checked before the bindings use it, and copied out once: a later change in
 * the area can then break the application's own I/O, never make the
 * bindings write outside the area.
 */
static volatile const struct sn_rings_hdr *rings_hdr;
static uint64_t rings_addr, rings_size;
static uint32_t rings_entries;

/* Largest power-of-two slot count and frame stride accepted; far above what the tender uses. */
#define MAX_SLOTS 65536U
#define MAX_STRIDE (1U << 20)

/* A sleep is cut into slices so that a lost doorbell costs a slice, not a hang. */
#define WAIT_SLICE_NS 50000000ULL

static int is_pow2(uint64_t v)
{
    return v != 0 && (v & (v - 1)) == 0;
}

uint64_t sn_rings_init(const struct sn_bootinfo *bi, uint64_t image_end)
{
    uint64_t addr = bi->rings, size = bi->rings_size;
    uint64_t mem_top = bi->mem_size & ~(SN_PAGE_SIZE - 1);

    rings_hdr = NULL;
    if (addr == 0 && size == 0)
        return 0;
    /*
     * The tender places the area right after the image, inside guest memory
     * (include/sn_abi.h); anything else is refused, so the area can overlap
     * neither the image nor the boot info below it. The stack is then carved
     * out of what is left above the area (boot.c), so a small guest still
     * gets its devices.
     */
    if (addr % SN_PAGE_SIZE != 0 || size == 0 || size % SN_PAGE_SIZE != 0 || addr < image_end ||
        addr >= mem_top || size > mem_top - addr) {
        sn_log(SN_LOG_WARN, "ring area at 0x%lx (%lu bytes) is out of place; no devices available",
               (unsigned long)addr, (unsigned long)size);
        return 0;
    }
    uint64_t end = addr + size;

    volatile const struct sn_rings_hdr *h = (volatile const struct sn_rings_hdr *)(uintptr_t)addr;
    uint32_t entries = h->entries;
    if (size < sizeof *h || h->magic != SN_RINGS_MAGIC || h->version != SN_ABI_VERSION || entries < 1 ||
        entries > SN_MFT_MAX_ENTRIES) {
        sn_log(SN_LOG_WARN, "ring area at 0x%lx has a bad header; no devices available", (unsigned long)addr);
        return end;
    }
    rings_hdr = h;
    rings_addr = addr;
    rings_size = size;
    rings_entries = entries;
    return end;
}

void sn_rings_area(uint64_t *addr, uint64_t *size)
{
    *addr = rings_hdr != NULL ? rings_addr : 0;
    *size = rings_hdr != NULL ? rings_size : 0;
}

/* `len` bytes at `off` from a device block at `dev_off` stay inside the area. */
static int in_area(uint64_t dev_off, uint64_t off, uint64_t len)
{
    uint64_t room = rings_size - dev_off;
    return off <= room && len <= room - off;
}

/* The device block of entry `index`, `bytes` long and cache-line aligned, or 0 with a warning. */
static uint64_t device_block(uint32_t index, uint64_t bytes, const char *what)
{
    if (rings_hdr == NULL) {
        sn_log(SN_LOG_WARN, "%s: device %u: the tender set up no rings", what, index);
        return 0;
    }
    uint64_t off = index < rings_entries ? rings_hdr->dev_off[index] : 0;
    if (off == 0 || off % SN_CACHE_LINE != 0 || off < sizeof(struct sn_rings_hdr) || off >= rings_size ||
        !in_area(off, 0, bytes)) {
        sn_log(SN_LOG_WARN, "%s: device %u has no usable rings (offset 0x%lx)", what, index,
               (unsigned long)off);
        return 0;
    }
    return off;
}

solo5_result_t sn_rings_net(uint32_t index, uint32_t mtu, struct sn_net_ring *r)
{
    uint64_t off = device_block(index, sizeof(struct sn_net_dev), "net");
    if (off == 0)
        return SOLO5_R_EUNSPEC;
    volatile struct sn_net_dev *d = (volatile struct sn_net_dev *)(uintptr_t)(rings_addr + off);
    uint32_t slots = d->slots, stride = d->buf_stride, dmtu = d->mtu;
    uint64_t txs = d->tx_slots_off, rxs = d->rx_slots_off, txb = d->tx_buf_off, rxb = d->rx_buf_off;
    uint64_t slot_bytes = (uint64_t)slots * sizeof(struct sn_net_slot);
    uint64_t buf_bytes = (uint64_t)slots * stride;

    if (!is_pow2(slots) || slots > MAX_SLOTS || dmtu != mtu || stride > MAX_STRIDE ||
        stride < (uint64_t)mtu + SOLO5_NET_HLEN || txs % 8 != 0 || rxs % 8 != 0 ||
        !in_area(off, txs, slot_bytes) || !in_area(off, rxs, slot_bytes) || !in_area(off, txb, buf_bytes) ||
        !in_area(off, rxb, buf_bytes)) {
        sn_log(SN_LOG_WARN, "net: device %u: malformed device block (slots %u, stride %u, mtu %u)", index,
               slots, stride, dmtu);
        return SOLO5_R_EUNSPEC;
    }
    uint8_t *base = (uint8_t *)d;
    r->dev = d;
    r->tx_slots = (volatile struct sn_net_slot *)(base + txs);
    r->rx_slots = (volatile struct sn_net_slot *)(base + rxs);
    r->tx_buf = base + txb;
    r->rx_buf = base + rxb;
    r->mask = slots - 1;
    r->stride = stride;
    r->mtu = mtu;
    r->tx_prod = d->tx.prod;
    r->rx_cons = d->rx.cons;
    return SOLO5_R_OK;
}

solo5_result_t sn_rings_blk(uint32_t index, uint32_t block_size, uint64_t capacity, struct sn_blk_ring *r)
{
    uint64_t off = device_block(index, sizeof(struct sn_blk_dev), "block");
    if (off == 0)
        return SOLO5_R_EUNSPEC;
    volatile struct sn_blk_dev *d = (volatile struct sn_blk_dev *)(uintptr_t)(rings_addr + off);
    uint32_t slots = d->slots, bsize = d->block_size;
    uint64_t cap = d->capacity, reqo = d->req_off, cplo = d->cpl_off;

    if (!is_pow2(slots) || slots > MAX_SLOTS || bsize != block_size || cap != capacity || reqo % 8 != 0 ||
        cplo % 8 != 0 || !in_area(off, reqo, (uint64_t)slots * sizeof(struct sn_blk_req)) ||
        !in_area(off, cplo, (uint64_t)slots * sizeof(struct sn_blk_cpl))) {
        sn_log(SN_LOG_WARN, "block: device %u: malformed device block (slots %u, block size %u)", index,
               slots, bsize);
        return SOLO5_R_EUNSPEC;
    }
    uint8_t *base = (uint8_t *)d;
    r->dev = d;
    r->reqs = (volatile struct sn_blk_req *)(base + reqo);
    r->cpls = (volatile const struct sn_blk_cpl *)(base + cplo);
    r->mask = slots - 1;
    r->block_size = block_size;
    r->capacity = capacity;
    r->req_prod = d->req.prod;
    r->cpl_cons = d->cpl.cons;
    r->next_id = 1;
    return SOLO5_R_OK;
}

void sn_ring_wait(volatile uint32_t *waiting, int (*done)(const void *arg), const void *arg)
{
    for (uint32_t i = 0; i < SN_SPIN_POLLS; i++) {
        if (done(arg))
            return;
        sn_cpu_relax();
    }
    sn_ring_sleep(waiting, done, arg);
}

void sn_ring_sleep(volatile uint32_t *waiting, int (*done)(const void *arg), const void *arg)
{
    *waiting = 1;
    sn_fence();
    while (!done(arg))
        sn_platform_wait(solo5_clock_monotonic() + WAIT_SLICE_NS);
    *waiting = 0;
}
