/* s5h_net.c: network devices on the Solo5 hvt ABI: upstream's 0.11 shared net ring when offered, else NET_WRITE/NET_READ. */
#include "s5h.h"

/*
 * The ring (include/sn_solo5_hvt.h) is served by a host thread: writes are
 * fire-and-forget from a buffer of the guest's own, reads are synchronous.
 * Upstream's guest keeps 1024 write buffers of 2048 bytes in its BSS; these
 * bindings take TX_BUFS of them from the heap, and only when a ring is
 * offered, so that a guest without one needs no extra 2 MiB. The host takes
 * entries in order and advances ent_head past an entry once it is done
 * with its buffer, so the buffer of entry i is free again once
 * ent_tail - ent_head < TX_BUFS.
 */
#define TX_BUFS 256U
#define TX_BUF_SIZE 2048U

static volatile struct sn_solo5_hvt_ring *ring;
static uint8_t *tx_bufs;
static uint32_t tail; /* ent_tail: only the guest writes it, so it is kept here and published */
static uint32_t next_id;

/*
 * Read-ahead (solo5_yield, below): one frame taken through the ring while
 * waiting for input, kept for the next solo5_net_read of its device. The
 * buffer holds the largest frame of any net device; each read ahead asks
 * for no more than its device's frame, which every read of that device
 * must offer room for, so the frame always fits the application's buffer.
 */
static uint8_t *ahead;
static size_t ahead_cap, ahead_len;
static solo5_handle_t ahead_handle;
static int ahead_full;
/* The last solo5_yield found input: frames are flowing, and the ring thread is worth keeping awake. */
static int busy;

uint64_t s5h_ring_init(uint64_t addr, uint64_t heap_start, uint64_t heap_end)
{
    for (uint32_t i = 1; i < s5_entries; i++)
        if (s5_devs[i].type == SN_MFT_DEV_NET_BASIC && (size_t)s5_devs[i].mtu + SOLO5_NET_HLEN > ahead_cap)
            ahead_cap = (size_t)s5_devs[i].mtu + SOLO5_NET_HLEN;
    uint64_t need = (uint64_t)TX_BUFS * TX_BUF_SIZE + SN_PAGE_ALIGN_UP((uint64_t)ahead_cap);
    if (heap_end < heap_start || heap_end - heap_start < need + 0x80000ULL) {
        sn_log(SN_LOG_WARN, "net ring offered, but no room for its buffers; using hypercalls");
        return heap_start;
    }
    ring = (volatile struct sn_solo5_hvt_ring *)(uintptr_t)addr;
    tx_bufs = (uint8_t *)(uintptr_t)heap_start;
    ahead = tx_bufs + (size_t)TX_BUFS * TX_BUF_SIZE;
    tail = ring->ent_tail;
    sn_log(SN_LOG_INFO, "    ring @ (0x%08lx - 0x%08lx), %u write buffers", (unsigned long)addr,
           (unsigned long)(addr + sizeof(struct sn_solo5_hvt_ring) - 1), TX_BUFS);
    return heap_start + need;
}

/* Publishes the entries up to `tail`; 1 if the ring thread slept and was kicked. */
static int publish(void)
{
    __asm__ volatile("" ::: "memory");
    ring->ent_tail = tail;
    __asm__ volatile("mfence" ::: "memory");
    if (ring->needs_kick == 0)
        return 0;
    s5h_outl(SN_SOLO5_HVT_RING_KICK_PORT, 0);
    return 1;
}

/*
 * Whether the next read or write goes through the ring (docs/decisions.md,
 * "The hvt net ring"): always while the host's ring thread has entries
 * still to take (a write by hypercall would overtake them); else while it
 * is awake (needs_kick clear), or frames are flowing (`busy`, worth a kick
 * to wake it); else by hypercall. A kick costs a VM exit on PVM, as a
 * hypercall does, and on top a hand-off to that thread (often on this
 * very CPU) and back, where the hypercall is served on the vCPU's own
 * thread. Both paths reach the same device queue, in upstream's tender as
 * in this project's, so frames keep their order.
 *
 * A commit that took longer than SLOW_NS (SLOW_KICKED_NS if the thread had
 * to be woken first) means the thread was not running (a busy host
 * preempted it) while this vCPU spun for it: for BACKOFF_NS the ring is
 * left to its queued entries and everything goes by hypercall, which never
 * waits on another thread.
 */
#define SLOW_NS 200000ULL
#define SLOW_KICKED_NS 1000000ULL
#define BACKOFF_NS 50000000ULL
static solo5_time_t backoff_until;

static int ring_now(void)
{
    if (ring->ent_head != tail)
        return 1;
    if (backoff_until != 0 && solo5_clock_monotonic() < backoff_until)
        return 0;
    return ring->needs_kick == 0 || busy;
}

/* The next free entry, once the host has taken enough of the earlier ones. */
static volatile struct sn_solo5_hvt_ring_entry *next_entry(void)
{
    while (tail - ring->ent_head >= TX_BUFS)
        __asm__ volatile("pause" ::: "memory");
    return &ring->ent[tail % SN_SOLO5_HVT_RING_SLOTS];
}

void s5h_ring_drain(void)
{
    if (ring == NULL)
        return;
    /* At most 100 ms: a tender that stopped serving the ring must not keep the guest from halting. */
    solo5_time_t until = solo5_clock_monotonic() + 100000000ULL;
    while (ring->ent_head != tail && solo5_clock_monotonic() < until)
        __asm__ volatile("pause" ::: "memory");
}

/* The API's limits, checked as the other bindings check them, so that every ABI answers alike. */
solo5_result_t solo5_net_write(solo5_handle_t handle, const uint8_t *buf, size_t size)
{
    const struct s5_dev *d = s5_dev(handle, SN_MFT_DEV_NET_BASIC);

    if (d == NULL || !s5_net_size_ok(d, size, 0) || !s5h_buf_ok((uintptr_t)buf, size, 0))
        return SOLO5_R_EINVAL;
    if (ring != NULL && size <= TX_BUF_SIZE && ring_now()) {
        volatile struct sn_solo5_hvt_ring_entry *e = next_entry();
        uint8_t *copy = tx_bufs + (size_t)(tail % TX_BUFS) * TX_BUF_SIZE;
        memcpy(copy, buf, size);
        e->operation = SN_SOLO5_HVT_RING_OP_NET_WRITE;
        e->handle = (uint32_t)handle;
        e->data = (uintptr_t)copy;
        e->len = (uint32_t)size;
        e->id = next_id++;
        tail++;
        publish();
        return SOLO5_R_OK;
    }
    struct sn_solo5_hvt_netio arg = {
        .handle = handle, .data = (uintptr_t)buf, .len = size, .ret = 0, .pad = 0
    };
    s5h_hypercall(SN_SOLO5_HVT_HC_NET_WRITE, &arg);
    return arg.ret == SOLO5_R_OK ? SOLO5_R_OK : SOLO5_R_EUNSPEC;
}

static solo5_result_t ring_read(solo5_handle_t handle, uint8_t *buf, size_t size, size_t *read_size)
{
    volatile struct sn_solo5_hvt_ring_entry *e = next_entry();
    uint32_t id = next_id++;
    e->operation = SN_SOLO5_HVT_RING_OP_NET_READ;
    e->handle = (uint32_t)handle;
    e->data = (uintptr_t)buf;
    e->len = size > 0xffffffffULL ? 0xffffffffU : (uint32_t)size;
    e->id = id;
    tail++;
    solo5_time_t start = solo5_clock_monotonic();
    int kicked = publish();
    uint32_t head = ring->com_head;
    while (ring->com_tail == head)
        __asm__ volatile("pause" ::: "memory");
    solo5_time_t took = solo5_clock_monotonic() - start;
    if (took > (kicked ? SLOW_KICKED_NS : SLOW_NS))
        backoff_until = start + took + BACKOFF_NS;
    volatile struct sn_solo5_hvt_ring_commit *c = &ring->com[head % SN_SOLO5_HVT_RING_SLOTS];
    uint32_t cid = c->id, len = c->len;
    int32_t ret = c->ret;
    ring->com_head = head + 1;
    /* One read is outstanding at a time, so this is its commit; anything else is the tender's fault. */
    if (cid != id || (ret == SOLO5_R_OK && len > size))
        return SOLO5_R_EUNSPEC;
    if (ret != SOLO5_R_OK)
        return ret == SOLO5_R_AGAIN ? SOLO5_R_AGAIN : SOLO5_R_EUNSPEC;
    *read_size = len;
    return SOLO5_R_OK;
}

solo5_result_t solo5_net_read(solo5_handle_t handle, uint8_t *buf, size_t size, size_t *read_size)
{
    const struct s5_dev *d = s5_dev(handle, SN_MFT_DEV_NET_BASIC);

    if (d == NULL || read_size == NULL || !s5_net_size_ok(d, size, 1) || !s5h_buf_ok((uintptr_t)buf, size, 1))
        return SOLO5_R_EINVAL;
    if (ahead_full && handle == ahead_handle) {
        memcpy(buf, ahead, ahead_len);
        *read_size = ahead_len;
        ahead_full = 0;
        return SOLO5_R_OK;
    }
    if (ring != NULL && ring_now())
        return ring_read(handle, buf, size, read_size);
    struct sn_solo5_hvt_netio arg = {
        .handle = handle, .data = (uintptr_t)buf, .len = size, .ret = 0, .pad = 0
    };
    s5h_hypercall(SN_SOLO5_HVT_HC_NET_READ, &arg);
    if (arg.ret == SOLO5_R_AGAIN)
        return SOLO5_R_AGAIN;
    if (arg.ret != SOLO5_R_OK || arg.len > size)
        return SOLO5_R_EUNSPEC;
    *read_size = (size_t)arg.len;
    return SOLO5_R_OK;
}

/*
 * While frames are flowing and the ring thread is awake, look for the next
 * one through the ring for up to AHEAD_NS before asking POLL, which is a
 * VM exit (on PVM, about 30 µs): a NET_READ entry per acquired device,
 * AHEAD_GAP_NS apart so that the ring thread idles in between and lets
 * the sender of those frames have its CPU (the host's pump yields its CPU
 * once idle for a few µs). The ring-ABI bindings' yield spins alike. A
 * frame is kept for the next read of its device; an error ends the look.
 */
#define AHEAD_NS 20000ULL
#define AHEAD_GAP_NS 5000ULL

static solo5_handle_set_t read_ahead(solo5_time_t deadline)
{
    if (ahead_full)
        return 1ULL << ahead_handle;
    if (ring == NULL || !busy || ahead == NULL || !ring_now())
        return 0;
    solo5_time_t now = solo5_clock_monotonic(), until = now + AHEAD_NS;
    if (until > deadline)
        until = deadline;
    /* Handles 1..n-1, starting after the one that gave the last frame: a busy device must not starve the others. */
    const uint32_t n = s5_entries < 64 ? s5_entries : 64;
    while (now < until && ring->needs_kick == 0) {
        for (uint32_t k = 1; k < n; k++) {
            const uint32_t h = 1 + (ahead_handle + k - 1) % (n - 1);
            const struct s5_dev *d = s5_dev(h, SN_MFT_DEV_NET_BASIC);
            if (d == NULL)
                continue;
            /* No more than the device's frame: what its reads must offer room for. */
            size_t len = 0;
            solo5_result_t r = ring_read(h, ahead, (size_t)d->mtu + SOLO5_NET_HLEN, &len);
            if (r == SOLO5_R_OK) {
                ahead_full = 1;
                ahead_len = len;
                ahead_handle = h;
                return 1ULL << h;
            }
            if (r != SOLO5_R_AGAIN)
                return 0;
        }
        solo5_time_t next = solo5_clock_monotonic() + AHEAD_GAP_NS;
        while ((now = solo5_clock_monotonic()) < next && now < until)
            __asm__ volatile("pause" ::: "memory");
    }
    return 0;
}

/* POLL waits for the timeout or a net device's input; it reports ready handles, which are filtered to acquired ones. */
void solo5_yield(solo5_time_t deadline, solo5_handle_set_t *ready_set)
{
    solo5_handle_set_t early = read_ahead(deadline);
    if (early != 0) {
        busy = 1;
        if (ready_set != NULL)
            *ready_set = early;
        return;
    }
    solo5_time_t now = solo5_clock_monotonic();
    struct sn_solo5_hvt_poll arg = { .timeout_nsecs = deadline > now ? deadline - now : 0, .ready_set = 0 };
    s5h_hypercall(SN_SOLO5_HVT_HC_POLL, &arg);
    solo5_handle_set_t ready = 0;
    for (uint32_t i = 1; i < s5_entries && i < 64; i++) {
        if ((arg.ready_set >> i) & 1 && s5_dev(i, SN_MFT_DEV_NET_BASIC) != NULL)
            ready |= 1ULL << i;
    }
    busy = ready != 0;
    if (ready_set != NULL)
        *ready_set = ready;
}
