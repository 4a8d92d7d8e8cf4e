/* block.c: the block device calls; acquisition by manifest name, I/O not available until rings exist. */
#include "bindings.h"

/*
 * The rings that carry requests between guest and tender are not part of this
 * ABI version yet, so no block device can be acquired: a declared device
 * is reported as not usable (SOLO5_R_EUNSPEC) whether or not the tender
 * attached it, and the I/O calls see every handle as invalid. This file is
 * the one to replace when the rings land.
 */

/* Handles acquired so far; bit N is the manifest entry N. Always empty for now. */
static solo5_handle_set_t block_acquired;

static int block_handle_ok(solo5_handle_t h)
{
    return h < SN_MFT_MAX_ENTRIES && (block_acquired & (1ULL << h)) != 0;
}

solo5_result_t solo5_block_acquire(const char *name, solo5_handle_t *handle,
                                   struct solo5_block_info *info)
{
    solo5_handle_t index;
    const struct sn_mft_entry *e;

    if (handle == NULL || info == NULL)
        return SOLO5_R_EINVAL;
    solo5_result_t r = sn_mft_lookup(name, SN_MFT_DEV_BLOCK_BASIC, &index, &e);
    if (r != SOLO5_R_OK) {
        sn_log(SN_LOG_WARN, "block: no BLOCK_BASIC device \"%.*s\" in the manifest",
               SN_MFT_NAME_SIZE - 1, name != NULL ? name : "");
        return r;
    }
    if (!e->attached) {
        sn_log(SN_LOG_WARN, "block: device \"%s\" is not attached", e->name);
        return SOLO5_R_EUNSPEC;
    }
    sn_log(SN_LOG_WARN, "block: device \"%s\": block I/O is not supported yet", e->name);
    return SOLO5_R_EUNSPEC;
}

solo5_result_t solo5_block_write(solo5_handle_t handle, solo5_off_t offset,
                                 const uint8_t *buf, size_t size)
{
    (void)offset;
    (void)buf;
    (void)size;
    if (!block_handle_ok(handle))
        return SOLO5_R_EINVAL;
    return SOLO5_R_EUNSPEC;
}

solo5_result_t solo5_block_read(solo5_handle_t handle, solo5_off_t offset,
                                uint8_t *buf, size_t size)
{
    (void)offset;
    (void)buf;
    (void)size;
    if (!block_handle_ok(handle))
        return SOLO5_R_EINVAL;
    return SOLO5_R_EUNSPEC;
}
