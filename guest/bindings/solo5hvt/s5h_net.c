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

uint64_t s5h_ring_init(uint64_t addr, uint64_t heap_start, uint64_t heap_end)
{
    uint64_t need = (uint64_t)TX_BUFS * TX_BUF_SIZE;
    if (heap_end < heap_start || heap_end - heap_start < need + 0x80000ULL) {
        sn_log(SN_LOG_WARN, "net ring offered, but no room for its buffers; using hypercalls");
        return heap_start;
    }
    ring = (volatile struct sn_solo5_hvt_ring *)(uintptr_t)addr;
    tx_bufs = (uint8_t *)(uintptr_t)heap_start;
    tail = ring->ent_tail;
    sn_log(SN_LOG_INFO, "    ring @ (0x%08lx - 0x%08lx), %u write buffers", (unsigned long)addr,
           (unsigned long)(addr + sizeof(struct sn_solo5_hvt_ring) - 1), TX_BUFS);
    return heap_start + need;
}

static void publish(void)
{
    __asm__ volatile("" ::: "memory");
    ring->ent_tail = tail;
    __asm__ volatile("mfence" ::: "memory");
    if (ring->needs_kick != 0)
        s5h_outl(SN_SOLO5_HVT_RING_KICK_PORT, 0);
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
    if (ring != NULL && size <= TX_BUF_SIZE) {
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
    publish();
    uint32_t head = ring->com_head;
    while (ring->com_tail == head)
        __asm__ volatile("pause" ::: "memory");
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
    if (ring != NULL)
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

/* POLL waits for the timeout or a net device's input; it reports ready handles, which are filtered to acquired ones. */
void solo5_yield(solo5_time_t deadline, solo5_handle_set_t *ready_set)
{
    solo5_time_t now = solo5_clock_monotonic();
    struct sn_solo5_hvt_poll arg = { .timeout_nsecs = deadline > now ? deadline - now : 0, .ready_set = 0 };
    s5h_hypercall(SN_SOLO5_HVT_HC_POLL, &arg);
    solo5_handle_set_t ready = 0;
    for (uint32_t i = 1; i < s5_entries && i < 64; i++) {
        if ((arg.ready_set >> i) & 1 && s5_dev(i, SN_MFT_DEV_NET_BASIC) != NULL)
            ready |= 1ULL << i;
    }
    if (ready_set != NULL)
        *ready_set = ready;
}
