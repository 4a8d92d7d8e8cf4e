/* solo5_mft.h: the device table every Solo5-ABI bindings (spt and hvt) copies out of the tender's manifest copy. */
#ifndef SN_SOLO5_MFT_H
#define SN_SOLO5_MFT_H

#include "bindings.h"

/*
 * One manifest entry, copied out of the manifest copy once at boot: the
 * application may scribble on that copy, and nothing it writes there later
 * changes which fd or geometry the bindings use.
 */
struct s5_dev {
    char name[SN_MFT_NAME_SIZE];
    uint32_t type;
    int32_t hostfd;
    uint8_t attached;
    uint8_t acquired;
    uint16_t mtu;
    uint8_t mac[SOLO5_NET_ALEN];
    uint16_t block_size;
    uint64_t capacity;
};

/* Entries copied at boot (entry 0, the reserved one, included); 0 if the manifest was unusable. */
extern uint32_t s5_entries;
extern struct s5_dev s5_devs[SN_MFT_MAX_ENTRIES];
/*
 * Checks and copies the manifest copy at `addr` (an untrusted pointer),
 * which must lie with all its entries in [lo, hi): the low memory between
 * the boot info and the image, which differs per target. With
 * `need_hostfd`, a device must name a host fd to be usable (spt, where the
 * guest uses it); on hvt the tender does the I/O and the fd is only shown.
 */
void s5_mft_init(uint64_t addr, uint64_t lo, uint64_t hi, int need_hostfd);

/*
 * Finds `name` of `type` (SN_MFT_DEV_*): SOLO5_R_OK with *handle set and the
 * entry marked acquired, SOLO5_R_EINVAL if the manifest declares no such
 * device, SOLO5_R_EUNSPEC if it is declared but was not attached.
 */
solo5_result_t s5_acquire(const char *name, uint32_t type, solo5_handle_t *handle);

/* The acquired device `handle` of `type`, or NULL. */
const struct s5_dev *s5_dev(solo5_handle_t handle, uint32_t type);

/*
 * The API's limits, checked alike on every ABI: a block request is whole
 * blocks (at least one) at a block-aligned offset inside the capacity; a
 * frame written is 14 to mtu + 14 bytes, a read buffer at least mtu + 14.
 * solo5_block_acquire and solo5_net_acquire (solo5_mft.c) serve both ABIs.
 */
int s5_block_request_ok(const struct s5_dev *d, uint64_t offset, size_t size);
int s5_net_size_ok(const struct s5_dev *d, size_t size, int reading);

#endif /* SN_SOLO5_MFT_H */
