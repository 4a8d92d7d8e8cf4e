/* net.c: the network device calls over the shared-memory rings: acquire, write (tx queue), read (rx queue). */
#include "rings.h"
#include "platform.h"

/*
 * A handle is the device's manifest index. Frames are copied: into the tx
 * slot's buffer on write, out of the rx slot's buffer on read, so the tender
 * never follows an address the guest wrote (docs/abi.md, "Net").
 */
static struct sn_net_ring nets[SN_MFT_MAX_ENTRIES];
static struct solo5_net_info net_infos[SN_MFT_MAX_ENTRIES];
/* Bit N set: manifest entry N is an acquired net device. */
static solo5_handle_set_t net_acquired;

static struct sn_net_ring *net_get(solo5_handle_t h)
{
    if (h >= SN_MFT_MAX_ENTRIES || (net_acquired & (1ULL << h)) == 0)
        return NULL;
    return &nets[h];
}

solo5_result_t solo5_net_acquire(const char *name, solo5_handle_t *handle, struct solo5_net_info *info)
{
    solo5_handle_t index;
    const struct sn_mft_entry *e;

    if (handle == NULL || info == NULL)
        return SOLO5_R_EINVAL;
    solo5_result_t r = sn_mft_lookup(name, SN_MFT_DEV_NET_BASIC, &index, &e);
    if (r != SOLO5_R_OK) {
        sn_log(SN_LOG_WARN, "net: no NET_BASIC device \"%.*s\" in the manifest", SN_MFT_NAME_SIZE - 1,
               name != NULL ? name : "");
        return r;
    }
    if (net_acquired & (1ULL << index)) {
        *handle = index;
        *info = net_infos[index];
        return SOLO5_R_OK;
    }
    if (!e->attached) {
        sn_log(SN_LOG_WARN, "net: device \"%s\" is not attached", e->name);
        return SOLO5_R_EUNSPEC;
    }
    uint16_t mtu = e->u.net_basic.mtu;
    if (mtu == 0) {
        sn_log(SN_LOG_WARN, "net: device \"%s\" has an MTU of 0", e->name);
        return SOLO5_R_EUNSPEC;
    }
    r = sn_rings_net((uint32_t)index, mtu, &nets[index]);
    if (r != SOLO5_R_OK)
        return r;
    memcpy(net_infos[index].mac_address, e->u.net_basic.mac, SOLO5_NET_ALEN);
    net_infos[index].mtu = mtu;
    net_acquired |= 1ULL << index;
    sn_log(SN_LOG_DEBUG, "net: acquired \"%s\" as handle %lu, mtu %u", e->name, (unsigned long)index,
           (unsigned)mtu);
    *handle = index;
    *info = net_infos[index];
    return SOLO5_R_OK;
}

static int tx_has_room(const void *arg)
{
    const struct sn_net_ring *n = arg;
    return n->tx_prod - sn_load_acquire(&n->dev->tx.cons) <= n->mask;
}

solo5_result_t solo5_net_write(solo5_handle_t handle, const uint8_t *buf, size_t size)
{
    struct sn_net_ring *n = net_get(handle);

    /* A frame shorter than its Ethernet header is not a frame; the tender would drop it. */
    if (n == NULL || buf == NULL || size < SOLO5_NET_HLEN || size > (size_t)n->mtu + SOLO5_NET_HLEN)
        return SOLO5_R_EINVAL;
    /* A full queue means the tender is behind: wait for it rather than drop the frame. */
    if (!tx_has_room(n)) {
        if (n->dev->no_spin != 0)
            sn_ring_sleep(&n->dev->tx.prod_waiting, tx_has_room, n);
        else
            sn_ring_wait(&n->dev->tx.prod_waiting, tx_has_room, n);
    }

    uint32_t idx = n->tx_prod & n->mask;
    memcpy(n->tx_buf + (size_t)idx * n->stride, buf, size);
    n->tx_slots[idx].len = (uint32_t)size;
    n->tx_slots[idx].flags = 0;
    sn_store_release(&n->dev->tx.prod, ++n->tx_prod);
    sn_fence();
    if (n->dev->tx.cons_waiting)
        sn_platform_kick();
    return SOLO5_R_OK;
}

solo5_result_t solo5_net_read(solo5_handle_t handle, uint8_t *buf, size_t size, size_t *read_size)
{
    struct sn_net_ring *n = net_get(handle);

    /* The API asks for room for any frame, not just the next one. */
    if (n == NULL || buf == NULL || read_size == NULL || size < (size_t)n->mtu + SOLO5_NET_HLEN)
        return SOLO5_R_EINVAL;
    uint32_t prod = sn_load_acquire(&n->dev->rx.prod);
    if (prod == n->rx_cons)
        return SOLO5_R_AGAIN;

    uint32_t idx = n->rx_cons & n->mask;
    uint32_t len = n->rx_slots[idx].len;
    solo5_result_t r = SOLO5_R_OK;
    if (prod - n->rx_cons > n->mask + 1 || len > (uint32_t)n->mtu + SOLO5_NET_HLEN) {
        /* Not something our tender produces; skip the slot rather than copy past its buffer. */
        sn_log(SN_LOG_WARN, "net: handle %lu: bad rx slot (len %u)", (unsigned long)handle, len);
        *read_size = 0;
        r = SOLO5_R_EUNSPEC;
    } else {
        memcpy(buf, n->rx_buf + (size_t)idx * n->stride, len);
        *read_size = len;
    }
    sn_store_release(&n->dev->rx.cons, ++n->rx_cons);
    sn_fence();
    if (n->dev->rx.prod_waiting)
        sn_platform_kick();
    return r;
}

solo5_handle_set_t sn_net_ready_set(void)
{
    solo5_handle_set_t ready = 0;

    for (solo5_handle_set_t left = net_acquired; left != 0; left &= left - 1) {
        unsigned h = (unsigned)__builtin_ctzll(left);
        if (sn_load_acquire(&nets[h].dev->rx.prod) != nets[h].rx_cons)
            ready |= 1ULL << h;
    }
    return ready;
}

int sn_net_may_spin(void)
{
    for (solo5_handle_set_t left = net_acquired; left != 0; left &= left - 1)
        if (nets[__builtin_ctzll(left)].dev->no_spin != 0)
            return 0;
    return 1;
}

void sn_net_arm_rx(int on)
{
    for (solo5_handle_set_t left = net_acquired; left != 0; left &= left - 1)
        nets[__builtin_ctzll(left)].dev->rx.cons_waiting = on ? 1 : 0;
}

/* How long solo5_exit waits for the tender to take queued frames. */
#define FLUSH_NS 200000000ULL

/* Signed, so that an application that drove the queue itself (the hostile test) does not wait. */
static int tx_all_taken(const struct sn_net_ring *n)
{
    return (int32_t)(n->tx_prod - sn_load_acquire(&n->dev->tx.cons)) <= 0;
}

void sn_net_flush(void)
{
    solo5_time_t deadline = 0;

    for (solo5_handle_set_t left = net_acquired; left != 0; left &= left - 1) {
        struct sn_net_ring *n = &nets[__builtin_ctzll(left)];
        if (tx_all_taken(n))
            continue;
        if (deadline == 0)
            deadline = solo5_clock_monotonic() + FLUSH_NS;
        n->dev->tx.prod_waiting = 1;
        sn_fence();
        while (!tx_all_taken(n) && solo5_clock_monotonic() < deadline)
            sn_platform_wait(deadline);
        n->dev->tx.prod_waiting = 0;
    }
}
