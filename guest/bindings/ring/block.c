/* block.c: the block device calls over the shared-memory rings: one request, then wait for its completion. */
#include "rings.h"
#include "platform.h"

/*
 * A handle is the device's manifest index. A request names the caller's own
 * buffer; the tender reads into it or writes from it in place (docs/abi.md,
 * "Block"). The calls are synchronous, so each device has at most one
 * request in flight, and its completion is the next one on the queue.
 * Requests of any number of blocks are passed through as one.
 */
static struct sn_blk_ring blks[SN_MFT_MAX_ENTRIES];
/* Bit N set: manifest entry N is an acquired block device. */
static solo5_handle_set_t blk_acquired;

static struct sn_blk_ring *blk_get(solo5_handle_t h)
{
    if (h >= SN_MFT_MAX_ENTRIES || (blk_acquired & (1ULL << h)) == 0)
        return NULL;
    return &blks[h];
}

solo5_result_t solo5_block_acquire(const char *name, solo5_handle_t *handle, struct solo5_block_info *info)
{
    solo5_handle_t index;
    const struct sn_mft_entry *e;

    if (handle == NULL || info == NULL)
        return SOLO5_R_EINVAL;
    solo5_result_t r = sn_mft_lookup(name, SN_MFT_DEV_BLOCK_BASIC, &index, &e);
    if (r != SOLO5_R_OK) {
        sn_log(SN_LOG_WARN, "block: no BLOCK_BASIC device \"%.*s\" in the manifest", SN_MFT_NAME_SIZE - 1,
               name != NULL ? name : "");
        return r;
    }
    if (!(blk_acquired & (1ULL << index))) {
        if (!e->attached) {
            sn_log(SN_LOG_WARN, "block: device \"%s\" is not attached", e->name);
            return SOLO5_R_EUNSPEC;
        }
        uint64_t capacity = e->u.block_basic.capacity;
        uint32_t block_size = e->u.block_basic.block_size;
        if (block_size < SN_BLOCK_SIZE_MIN || block_size > SN_BLOCK_SIZE_MAX ||
            (block_size & (block_size - 1)) != 0 || capacity == 0 || capacity % block_size != 0) {
            sn_log(SN_LOG_WARN, "block: device \"%s\": bad geometry (block size %u)", e->name, block_size);
            return SOLO5_R_EUNSPEC;
        }
        r = sn_rings_blk((uint32_t)index, block_size, capacity, &blks[index]);
        if (r != SOLO5_R_OK)
            return r;
        blk_acquired |= 1ULL << index;
        sn_log(SN_LOG_DEBUG, "block: acquired \"%s\" as handle %lu, %lu bytes in blocks of %u", e->name,
               (unsigned long)index, (unsigned long)capacity, block_size);
    }
    *handle = index;
    info->capacity = blks[index].capacity;
    info->block_size = blks[index].block_size;
    return SOLO5_R_OK;
}

static int req_has_room(const void *arg)
{
    const struct sn_blk_ring *b = arg;
    return b->req_prod - sn_load_acquire(&b->dev->req.cons) <= b->mask;
}

static int cpl_ready(const void *arg)
{
    const struct sn_blk_ring *b = arg;
    return sn_load_acquire(&b->dev->cpl.prod) != b->cpl_cons;
}

static solo5_result_t block_io(solo5_handle_t handle, uint32_t op, solo5_off_t offset, uintptr_t addr,
                               size_t size)
{
    struct sn_blk_ring *b = blk_get(handle);

    /* The same checks the tender makes, so a bad request never reaches the ring. */
    if (b == NULL || addr == 0 || size == 0 || size % b->block_size != 0 || offset % b->block_size != 0 ||
        size > b->capacity || offset > b->capacity - size)
        return SOLO5_R_EINVAL;

    /*
     * The tender completes a request only after reading it, so with every
     * completion consumed (always, for these synchronous calls) the slot is
     * free without a look at req.cons, a line the tender just wrote.
     */
    if (b->req_prod - b->cpl_cons > b->mask && !req_has_room(b))
        sn_ring_wait(&b->dev->req.prod_waiting, req_has_room, b);
    uint64_t id = b->next_id++;
    volatile struct sn_blk_req *q = &b->reqs[b->req_prod & b->mask];
    q->op = op;
    q->reserved = 0;
    q->offset = offset;
    q->addr = addr;
    q->len = size;
    q->id = id;
    sn_store_release(&b->dev->req.prod, ++b->req_prod);
    sn_fence();
    if (b->dev->req.cons_waiting)
        sn_platform_kick();

    if (!cpl_ready(b))
        sn_ring_wait(&b->dev->cpl.cons_waiting, cpl_ready, b);
    volatile const struct sn_blk_cpl *c = &b->cpls[b->cpl_cons & b->mask];
    uint64_t got_id = c->id;
    uint32_t status = c->status;
    sn_store_release(&b->dev->cpl.cons, ++b->cpl_cons);
    sn_fence();
    if (b->dev->cpl.prod_waiting)
        sn_platform_kick();

    if (got_id != id) {
        sn_log(SN_LOG_WARN, "block: handle %lu: completion for request %lu, expected %lu",
               (unsigned long)handle, (unsigned long)got_id, (unsigned long)id);
        return SOLO5_R_EUNSPEC;
    }
    switch (status) {
    case SN_BLK_ST_OK:
        return SOLO5_R_OK;
    case SN_BLK_ST_EINVAL:
        return SOLO5_R_EINVAL;
    default:
        return SOLO5_R_EUNSPEC;
    }
}

solo5_result_t solo5_block_write(solo5_handle_t handle, solo5_off_t offset, const uint8_t *buf, size_t size)
{
    return block_io(handle, SN_BLK_OP_WRITE, offset, (uintptr_t)buf, size);
}

solo5_result_t solo5_block_read(solo5_handle_t handle, solo5_off_t offset, uint8_t *buf, size_t size)
{
    return block_io(handle, SN_BLK_OP_READ, offset, (uintptr_t)buf, size);
}
