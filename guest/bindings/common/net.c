/* net.c: the network device calls; acquisition by manifest name, I/O not available until rings exist. */
#include "bindings.h"

/*
 * The rings that carry frames between guest and tender are not part of this
 * ABI version yet, so no network device can be acquired: a declared device
 * is reported as not usable (SOLO5_R_EUNSPEC) whether or not the tender
 * attached it, and the I/O calls see every handle as invalid. This file is
 * the one to replace when the rings land.
 */

/* Handles acquired so far; bit N is the manifest entry N. Always empty for now. */
static solo5_handle_set_t net_acquired;

static int net_handle_ok(solo5_handle_t h)
{
    return h < SN_MFT_MAX_ENTRIES && (net_acquired & (1ULL << h)) != 0;
}

solo5_result_t solo5_net_acquire(const char *name, solo5_handle_t *handle,
                                 struct solo5_net_info *info)
{
    solo5_handle_t index;
    const struct sn_mft_entry *e;

    if (handle == NULL || info == NULL)
        return SOLO5_R_EINVAL;
    solo5_result_t r = sn_mft_lookup(name, SN_MFT_DEV_NET_BASIC, &index, &e);
    if (r != SOLO5_R_OK) {
        sn_log(SN_LOG_WARN, "net: no NET_BASIC device \"%.*s\" in the manifest",
               SN_MFT_NAME_SIZE - 1, name != NULL ? name : "");
        return r;
    }
    if (!e->attached) {
        sn_log(SN_LOG_WARN, "net: device \"%s\" is not attached", e->name);
        return SOLO5_R_EUNSPEC;
    }
    sn_log(SN_LOG_WARN, "net: device \"%s\": network I/O is not supported yet", e->name);
    return SOLO5_R_EUNSPEC;
}

solo5_result_t solo5_net_write(solo5_handle_t handle, const uint8_t *buf, size_t size)
{
    (void)buf;
    (void)size;
    if (!net_handle_ok(handle))
        return SOLO5_R_EINVAL;
    return SOLO5_R_EUNSPEC;
}

solo5_result_t solo5_net_read(solo5_handle_t handle, uint8_t *buf, size_t size,
                              size_t *read_size)
{
    (void)buf;
    (void)size;
    if (!net_handle_ok(handle) || read_size == NULL)
        return SOLO5_R_EINVAL;
    return SOLO5_R_EUNSPEC;
}
