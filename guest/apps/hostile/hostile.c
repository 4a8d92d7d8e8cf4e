/* hostile.c: breaks the ring protocol on purpose, writing garbage straight into its own rings, to test the tender. */
#include "solo5.h"
#include "sn_printf.h"
#include "sn_abi.h"

/*
 * Command line: N [wild]. Publishes N garbage descriptors on the tx queue of
 * net device "service" and the request queue of block device "storage":
 * random and wrapping lengths, unknown ops, misaligned and out-of-range
 * offsets, huge lengths, addresses outside memory, in the never-mapped low
 * page and inside the ring area itself, descriptors changed after they were
 * posted, garbage in the ring header and device blocks, random flags and
 * doorbell rings. Then prints HOSTILE DONE.
 *
 * Without `wild`, every index it publishes stays within the protocol's
 * window, so a correct tender refuses each descriptor (counting errors) and
 * lets the guest finish. With `wild` it at some point jumps a producer
 * index far ahead or moves a consumer index past the producer, and keeps it
 * there: a correct tender then kills it for a protocol violation (it prints HOSTILE VIOLATION first; HOSTILE NOT STOPPED
 * and status 3 if it is still alive 5 seconds later).
 *
 * The one thing it never does is make the tender read a block into its own
 * code or stack: a read that would pass the tender's checks is pointed at a
 * scratch buffer or the net frame buffers. That would only crash this
 * guest, which proves nothing about the tender.
 */

/* The bindings' doorbell (common/platform.h); not Solo5 API. */
void sn_platform_kick(void);

static uint64_t rng = 0x2545f4914f6cdd1dULL;

static uint64_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static uint64_t pick(const uint64_t *v, size_t n)
{
    return v[rnd() % n];
}
#define PICK(...) pick((const uint64_t[]){ __VA_ARGS__ }, sizeof((const uint64_t[]){ __VA_ARGS__ }) / 8)

static uint8_t scratch[65536] __attribute__((aligned(4096)));

static struct {
    volatile struct sn_rings_hdr *hdr;
    uint64_t rings, rings_size, mem;
    volatile struct sn_net_dev *net;
    volatile struct sn_net_slot *tx;
    uint8_t *txbuf;
    uint32_t nmask, stride, mtu, tx_prod;
    volatile struct sn_blk_dev *blk;
    volatile struct sn_blk_req *req;
    uint32_t bmask, req_prod;
    uint64_t bs, cap;
    int wild;
} t;

static int inside(uint64_t addr, uint64_t len, const void *base, uint64_t size)
{
    uint64_t b = (uint64_t)(uintptr_t)base;
    return addr >= b && len <= size && addr - b <= size - len;
}

/* The tender's checks (docs/abi.md, "Block"): would it carry this request out? */
static int tender_runs(uint32_t op, uint64_t off, uint64_t len, uint64_t addr)
{
    return (op == SN_BLK_OP_READ || op == SN_BLK_OP_WRITE) && len != 0 && len % t.bs == 0 &&
           off % t.bs == 0 && len <= t.cap && off <= t.cap - len && addr >= SN_MEM_UNMAPPED_END &&
           len <= t.mem && addr <= t.mem - len;
}

static void garbage_request(volatile struct sn_blk_req *q)
{
    uint64_t bs = t.bs, cap = t.cap, mem = t.mem;
    uint32_t op = (uint32_t)PICK(SN_BLK_OP_READ, SN_BLK_OP_WRITE, SN_BLK_OP_WRITE, 0, 3, 0xffffffff, rnd());
    uint64_t off = PICK(0, bs, cap - bs, cap, cap + bs, 1, bs / 2, ~0ULL - bs + 1, ~0ULL, rnd(),
                        (rnd() % (cap / bs)) * bs);
    uint64_t len =
        PICK(0, bs, 2 * bs, 16 * bs, bs + 1, cap, cap + bs, ~0ULL, ~0ULL - bs + 1, 1ULL << 63, rnd());
    uint64_t addr = PICK(0, 0x1000, SN_MEM_UNMAPPED_END - 1, SN_BOOTINFO_ADDR, mem, mem - 1, mem - bs, ~0ULL,
                         ~0ULL - 4095, rnd(), t.rings, t.rings + rnd() % t.rings_size,
                         (uint64_t)(uintptr_t)scratch, SN_GUEST_MIN_BASE);
    if (op == SN_BLK_OP_READ && tender_runs(op, off, len, addr) &&
        !inside(addr, len, scratch, sizeof scratch) &&
        !inside(addr, len, t.txbuf, (uint64_t)(t.nmask + 1) * t.stride))
        addr = (len <= sizeof scratch) ? (uint64_t)(uintptr_t)scratch : 0x1000;
    q->op = op;
    q->reserved = (uint32_t)rnd();
    q->offset = off;
    q->addr = addr;
    q->len = len;
    q->id = rnd();
}

/*
 * A change to a request that may already be posted. Each one can only make
 * the request invalid or turn it into a write, so whatever mix of old and
 * new fields the tender reads, it never runs a read outside the safe areas.
 */
static void change_posted_request(volatile struct sn_blk_req *q)
{
    switch (rnd() % 5) {
    case 0:
        q->op = SN_BLK_OP_WRITE;
        break;
    case 1:
        q->len = 0;
        break;
    case 2:
        q->offset = 1;
        break;
    case 3:
        q->addr = 0x1000;
        break;
    default:
        q->id = rnd();
        break;
    }
}

static uint32_t garbage_len(void)
{
    return (uint32_t)PICK(0, 1, 13, 14, 60, t.mtu + 14, t.mtu + 15, 0xffffffff, 0x80000000,
                          rnd() % (t.mtu + 16), rnd());
}

/* Room before the producer index would run more than a queue ahead of the tender's consumer. */
static uint32_t room(volatile struct sn_queue *q, uint32_t prod, uint32_t mask)
{
    uint32_t used = prod - __atomic_load_n(&q->cons, __ATOMIC_ACQUIRE);
    return used <= mask + 1 ? mask + 1 - used : 0;
}

static uint32_t net_burst(void)
{
    uint32_t k = room(&t.net->tx, t.tx_prod, t.nmask);
    if (k == 0)
        return 0;
    k = 1 + (uint32_t)(rnd() % (k < 32 ? k : 32));
    for (uint32_t j = 0; j < k; j++) {
        uint32_t idx = (t.tx_prod + j) & t.nmask;
        t.tx[idx].len = garbage_len();
        t.tx[idx].flags = (uint32_t)rnd();
        uint64_t *p = (uint64_t *)(t.txbuf + (uint64_t)idx * t.stride);
        p[0] = rnd();
        p[1] = rnd();
    }
    t.tx_prod += k;
    __atomic_store_n(&t.net->tx.prod, t.tx_prod, __ATOMIC_RELEASE);
    /* Change a frame length the tender may be reading right now. */
    t.tx[(t.tx_prod - 1 - rnd() % k) & t.nmask].len = garbage_len();
    return k;
}

static uint32_t blk_burst(void)
{
    uint32_t k = room(&t.blk->req, t.req_prod, t.bmask);
    if (k == 0)
        return 0;
    k = 1 + (uint32_t)(rnd() % (k < 16 ? k : 16));
    for (uint32_t j = 0; j < k; j++)
        garbage_request(&t.req[(t.req_prod + j) & t.bmask]);
    t.req_prod += k;
    __atomic_store_n(&t.blk->req.prod, t.req_prod, __ATOMIC_RELEASE);
    change_posted_request(&t.req[(t.req_prod - 1 - rnd() % k) & t.bmask]);
    return k;
}

/* Fields the tender must never read back: the header, the device layouts, the flags. */
static void scribble(void)
{
    switch (rnd() % 6) {
    case 0:
        t.hdr->dev_off[rnd() % SN_MFT_MAX_ENTRIES] = rnd();
        break;
    case 1:
        t.hdr->magic = rnd();
        t.hdr->entries = (uint32_t)rnd();
        break;
    case 2:
        t.net->buf_stride = (uint32_t)rnd();
        t.net->tx_buf_off = rnd();
        t.net->mtu = (uint32_t)rnd();
        break;
    case 3:
        t.blk->capacity = rnd();
        t.blk->block_size = (uint32_t)rnd();
        t.blk->req_off = rnd();
        break;
    case 4:
        t.net->tx.prod_waiting = (uint32_t)rnd();
        t.net->rx.cons_waiting = (uint32_t)rnd();
        break;
    default:
        t.blk->req.prod_waiting = (uint32_t)rnd();
        t.blk->cpl.cons_waiting = (uint32_t)rnd();
        break;
    }
}

/*
 * Wild mode only: what a correct tender must treat as a protocol violation.
 * The bad index stays in place (nothing else is published afterwards), so
 * the tender sees it however late it looks; returns only if it never acts.
 */
static int violate(void)
{
    /* Only indices the tender reads on its own: a completion consumer index
     * moved past the producer is seen only when the tender next completes a
     * request, which this guest never asks for again (the broker's own tests
     * cover that case deterministically). */
    switch (rnd() % 3) {
    case 0:
        t.net->tx.prod = t.tx_prod + t.nmask + 2 + (uint32_t)(rnd() % 100000);
        break;
    case 1:
        t.blk->req.prod = t.req_prod + t.bmask + 2 + (uint32_t)(rnd() % 100000);
        break;
    default:
        /* Backwards is only a violation of an index the tender has seen:
         * let it catch up first (a lagging tender could not tell). */
        for (int i = 0; i < 1000 && __atomic_load_n(&t.net->tx.cons, __ATOMIC_ACQUIRE) != t.tx_prod; i++)
            solo5_yield(solo5_clock_monotonic() + 1000000ULL, NULL);
        t.net->tx.prod = t.tx_prod - 1 - (uint32_t)(rnd() % 1000);
        break;
    }
    sn_printf("HOSTILE VIOLATION\n");
    for (int i = 0; i < 100; i++) {
        sn_platform_kick();
        solo5_yield(solo5_clock_monotonic() + 50000000ULL, NULL);
    }
    sn_printf("HOSTILE NOT STOPPED\n");
    return 3;
}

static int find_rings(solo5_handle_t hn, solo5_handle_t hb, const struct solo5_block_info *bi)
{
    volatile const struct sn_bootinfo *boot = (volatile const struct sn_bootinfo *)SN_BOOTINFO_ADDR;
    t.rings = boot->rings;
    t.rings_size = boot->rings_size;
    t.mem = boot->mem_size;
    if (t.rings == 0 || hn >= SN_MFT_MAX_ENTRIES || hb >= SN_MFT_MAX_ENTRIES)
        return -1;
    t.hdr = (volatile struct sn_rings_hdr *)(uintptr_t)t.rings;
    uint8_t *net = (uint8_t *)(uintptr_t)(t.rings + t.hdr->dev_off[hn]);
    uint8_t *blk = (uint8_t *)(uintptr_t)(t.rings + t.hdr->dev_off[hb]);
    t.net = (volatile struct sn_net_dev *)net;
    t.blk = (volatile struct sn_blk_dev *)blk;
    /* Everything below is read before the first scribble. */
    t.tx = (volatile struct sn_net_slot *)(net + t.net->tx_slots_off);
    t.txbuf = net + t.net->tx_buf_off;
    t.nmask = t.net->slots - 1;
    t.stride = t.net->buf_stride;
    t.mtu = t.net->mtu;
    t.tx_prod = t.net->tx.prod;
    t.req = (volatile struct sn_blk_req *)(blk + t.blk->req_off);
    t.bmask = t.blk->slots - 1;
    t.req_prod = t.blk->req.prod;
    t.bs = bi->block_size;
    t.cap = bi->capacity;
    return 0;
}

int solo5_app_main(const struct solo5_start_info *si)
{
    solo5_handle_t hn, hb;
    struct solo5_net_info ni;
    struct solo5_block_info bi;
    const char *p = si->cmdline;
    uint64_t n = 0;

    while (*p >= '0' && *p <= '9')
        n = n * 10 + (uint64_t)(*p++ - '0');
    while (*p == ' ')
        p++;
    t.wild = p[0] == 'w';
    if (n == 0 || solo5_net_acquire("service", &hn, &ni) != SOLO5_R_OK ||
        solo5_block_acquire("storage", &hb, &bi) != SOLO5_R_OK || find_rings(hn, hb, &bi) != 0) {
        sn_printf("usage: hostile N [wild], with net 'service' and block 'storage' attached\n");
        return SOLO5_EXIT_FAILURE;
    }
    rng ^= solo5_clock_monotonic();
    sn_printf("HOSTILE START %lu%s\n", (unsigned long)n, t.wild ? " wild" : "");

    uint64_t done = 0, idle = 0;
    while (done < n) {
        uint64_t r = rnd();
        uint32_t k = 0;
        switch (r % 16) {
        case 0:
        case 1:
        case 2:
        case 3:
        case 4:
        case 5:
            k = net_burst();
            break;
        case 6:
        case 7:
        case 8:
        case 9:
        case 10:
        case 11:
            k = blk_burst();
            break;
        case 12:
            scribble();
            break;
        case 13:
            change_posted_request(&t.req[rnd() & t.bmask]);
            break;
        default:
            sn_platform_kick();
            break;
        }
        /* Take every completion and received frame, so that the tender never stalls on us. */
        __atomic_store_n(&t.blk->cpl.cons, __atomic_load_n(&t.blk->cpl.prod, __ATOMIC_ACQUIRE),
                         __ATOMIC_RELEASE);
        __atomic_store_n(&t.net->rx.cons, __atomic_load_n(&t.net->rx.prod, __ATOMIC_ACQUIRE),
                         __ATOMIC_RELEASE);
        if (t.wild && done > 1000 && (r >> 40) % 512 == 0)
            return violate();
        done += k;
        if (k > 0 || r % 16 >= 12) {
            idle = 0;
            continue;
        }
        /* Both queues full: make sure the tender is awake, and let it run. */
        sn_platform_kick();
        if (++idle > 64)
            solo5_yield(solo5_clock_monotonic() + 50000, NULL);
    }
    sn_printf("HOSTILE DONE %lu\n", (unsigned long)done);
    return SOLO5_EXIT_SUCCESS;
}
