/* mft.c: finds devices by name in the manifest copy the tender placed in guest memory. */
#include "bindings.h"

/*
 * The tender copies the manifest from the ELF's MFT1 note into guest memory
 * at boot, filling in each attached device's data. The guest trusts its
 * tender, but the copy sits in memory the application can scribble on, so it
 * is checked once here and every name is bounded before it is compared.
 */
static const struct sn_mft *mft;
/* Entry count read once at boot; later changes to the copy cannot widen it. */
static uint32_t mft_entries;

void sn_mft_init(const struct sn_bootinfo *bi)
{
    uint64_t addr = bi->mft, size = bi->mft_size;

    mft = NULL;
    mft_entries = 0;
    if (addr == 0)
        return;
    /* The copy must lie in the low area reserved for it, below the image. */
    if (addr < SN_MEM_UNMAPPED_END || addr % 8 != 0 || size < sizeof(struct sn_mft) ||
        size > SN_MFT_MAX_BYTES || addr + size > SN_GUEST_MIN_BASE) {
        sn_log(SN_LOG_WARN,
               "manifest copy at 0x%lx (%lu bytes) is out of place; "
               "no devices available",
               (unsigned long)addr, (unsigned long)size);
        return;
    }
    const struct sn_mft *m = (const struct sn_mft *)(uintptr_t)addr;
    if (m->version != SN_MFT_VERSION || m->entries < 1 || m->entries > SN_MFT_MAX_ENTRIES ||
        SN_MFT_SIZE(m->entries) > size || m->e[0].type != SN_MFT_RESERVED_FIRST) {
        sn_log(SN_LOG_WARN,
               "manifest copy is malformed (version %u, %u entries); "
               "no devices available",
               m->version, m->entries);
        return;
    }
    mft = m;
    mft_entries = m->entries;
    for (uint32_t i = 1; i < mft_entries; i++) {
        const struct sn_mft_entry *e = &m->e[i];
        if (strnlen(e->name, SN_MFT_NAME_SIZE) == SN_MFT_NAME_SIZE)
            continue;
        sn_log(SN_LOG_DEBUG, "manifest: device %u \"%s\" type %u %s", i, e->name, e->type,
               e->attached ? "attached" : "not attached");
    }
}

solo5_result_t sn_mft_lookup(const char *name, uint32_t type, solo5_handle_t *index,
                             const struct sn_mft_entry **entry)
{
    if (mft == NULL || name == NULL || index == NULL || entry == NULL)
        return SOLO5_R_EINVAL;
    size_t len = strnlen(name, SN_MFT_NAME_SIZE);
    if (len == 0 || len >= SN_MFT_NAME_SIZE)
        return SOLO5_R_EINVAL;

    /* Entry 0 is reserved and never names a device. */
    for (uint32_t i = 1; i < mft_entries; i++) {
        const struct sn_mft_entry *e = &mft->e[i];
        if (strnlen(e->name, SN_MFT_NAME_SIZE) != len || memcmp(e->name, name, len) != 0)
            continue;
        if (e->type != type)
            return SOLO5_R_EINVAL;
        *index = i;
        *entry = e;
        return SOLO5_R_OK;
    }
    return SOLO5_R_EINVAL;
}
