/* solo5_mft.c: the device table of both Solo5 ABIs (spt, hvt): the checked manifest copy, acquire, and the API's request limits. */
#include "solo5_mft.h"

uint32_t s5_entries;
struct s5_dev s5_devs[SN_MFT_MAX_ENTRIES];
static int s5_need_hostfd;

/*
 * This manifest copy comes from the tender, which upstream trusts; here it
 * is checked like untrusted input anyway (it sits in memory the application
 * can overwrite, and a wrong tender should stop the guest with a message,
 * not a wild fd). Every field is read once, then copied; an invalid copy
 * leaves no devices.
 */
void s5_mft_init(uint64_t addr, uint64_t lo, uint64_t hi, int need_hostfd)
{
    s5_entries = 0;
    s5_need_hostfd = need_hostfd;
    if (addr < lo || addr % 8 != 0 || addr > hi || hi - addr < SN_MFT_SIZE(1)) {
        sn_log(SN_LOG_WARN, "manifest copy at 0x%lx is out of place; no devices available",
               (unsigned long)addr);
        return;
    }
    const volatile struct sn_mft *m = (const volatile struct sn_mft *)(uintptr_t)addr;
    uint32_t version = m->version, entries = m->entries;
    if (version != SN_MFT_VERSION || entries < 1 || entries > SN_MFT_MAX_ENTRIES ||
        hi - addr < SN_MFT_SIZE(entries) || m->e[0].type != SN_MFT_RESERVED_FIRST) {
        sn_log(SN_LOG_WARN,
               "manifest copy is malformed (version %u, %u entries); "
               "no devices available",
               version, entries);
        return;
    }
    for (uint32_t i = 1; i < entries; i++) {
        const volatile struct sn_mft_entry *e = &m->e[i];
        struct s5_dev *d = &s5_devs[i];
        for (uint32_t k = 0; k < SN_MFT_NAME_SIZE; k++)
            d->name[k] = e->name[k];
        /* A name without its NUL names nothing: it can never match. */
        if (d->name[SN_MFT_NAME_SIZE - 1] != '\0')
            d->name[0] = '\0';
        d->type = e->type;
        d->hostfd = e->b.hostfd;
        d->attached = e->attached != 0;
        d->acquired = 0;
        if (d->type == SN_MFT_DEV_NET_BASIC) {
            for (uint32_t k = 0; k < SOLO5_NET_ALEN; k++)
                d->mac[k] = e->u.net_basic.mac[k];
            d->mtu = e->u.net_basic.mtu;
        } else if (d->type == SN_MFT_DEV_BLOCK_BASIC) {
            d->capacity = e->u.block_basic.capacity;
            d->block_size = e->u.block_basic.block_size;
        }
        sn_log(SN_LOG_DEBUG, "manifest: device %u \"%s\" type %u %s fd %d", i, d->name, d->type,
               d->attached ? "attached" : "not attached", d->hostfd);
    }
    s5_entries = entries;
}

/* Only devices that can work are handed out: an fd, and a geometry the I/O calls can rely on. */
static const char *unusable(const struct s5_dev *d)
{
    if (!d->attached)
        return "is not attached";
    if (s5_need_hostfd && d->hostfd < 0)
        return "has no host fd";
    if (d->type == SN_MFT_DEV_NET_BASIC && d->mtu == 0)
        return "has an MTU of 0";
    if (d->type == SN_MFT_DEV_BLOCK_BASIC &&
        (d->block_size < 512 || (d->block_size & (d->block_size - 1)) != 0 || d->capacity < d->block_size ||
         d->capacity % d->block_size != 0))
        return "has a bad geometry";
    return NULL;
}

solo5_result_t s5_acquire(const char *name, uint32_t type, solo5_handle_t *handle)
{
    if (name == NULL || handle == NULL)
        return SOLO5_R_EINVAL;
    size_t len = strnlen(name, SN_MFT_NAME_SIZE);
    if (len == 0 || len >= SN_MFT_NAME_SIZE)
        return SOLO5_R_EINVAL;
    for (uint32_t i = 1; i < s5_entries; i++) {
        struct s5_dev *d = &s5_devs[i];
        if (d->type != type || strnlen(d->name, SN_MFT_NAME_SIZE) != len || memcmp(d->name, name, len) != 0)
            continue;
        const char *why = unusable(d);
        if (why != NULL) {
            sn_log(SN_LOG_WARN, "device \"%s\" %s", d->name, why);
            return SOLO5_R_EUNSPEC;
        }
        /* Acquiring again hands out the same handle, as upstream's spt bindings do. */
        d->acquired = 1;
        *handle = i;
        return SOLO5_R_OK;
    }
    sn_log(SN_LOG_WARN, "no %s device \"%.*s\" in the manifest",
           type == SN_MFT_DEV_NET_BASIC ? "NET_BASIC" : "BLOCK_BASIC", (int)len, name);
    return SOLO5_R_EINVAL;
}

const struct s5_dev *s5_dev(solo5_handle_t handle, uint32_t type)
{
    if (handle == 0 || handle >= s5_entries)
        return NULL;
    const struct s5_dev *d = &s5_devs[handle];
    return d->acquired && d->type == type ? d : NULL;
}

solo5_result_t solo5_block_acquire(const char *name, solo5_handle_t *handle, struct solo5_block_info *info)
{
    solo5_handle_t h;

    if (info == NULL)
        return SOLO5_R_EINVAL;
    solo5_result_t r = s5_acquire(name, SN_MFT_DEV_BLOCK_BASIC, &h);
    if (r != SOLO5_R_OK)
        return r;
    info->capacity = s5_devs[h].capacity;
    info->block_size = s5_devs[h].block_size;
    *handle = h;
    return SOLO5_R_OK;
}

solo5_result_t solo5_net_acquire(const char *name, solo5_handle_t *handle, struct solo5_net_info *info)
{
    solo5_handle_t h;

    if (info == NULL)
        return SOLO5_R_EINVAL;
    solo5_result_t r = s5_acquire(name, SN_MFT_DEV_NET_BASIC, &h);
    if (r != SOLO5_R_OK)
        return r;
    memcpy(info->mac_address, s5_devs[h].mac, SOLO5_NET_ALEN);
    info->mtu = s5_devs[h].mtu;
    *handle = h;
    return SOLO5_R_OK;
}

int s5_block_request_ok(const struct s5_dev *d, uint64_t offset, size_t size)
{
    uint64_t bs = d->block_size, cap = d->capacity;
    return size != 0 && size % bs == 0 && offset % bs == 0 && size <= cap && offset <= cap - size;
}

int s5_net_size_ok(const struct s5_dev *d, size_t size, int reading)
{
    size_t frame = (size_t)d->mtu + SOLO5_NET_HLEN;
    return reading ? size >= frame : size >= SOLO5_NET_HLEN && size <= frame;
}
