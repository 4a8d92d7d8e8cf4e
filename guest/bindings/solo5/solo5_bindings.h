/* solo5_bindings.h: what the Solo5-ABI bindings' files share: the checked boot facts and the device table. */
#ifndef SN_SOLO5_BINDINGS_H
#define SN_SOLO5_BINDINGS_H

#include "bindings.h"
#include "sn_solo5.h"
#include "spt_sys.h"

/*
 * These bindings speak upstream Solo5's spt ABI (include/sn_solo5.h): the
 * tender leaves a struct sn_solo5_boot_info at SN_SOLO5_BOOT_INFO_BASE, a
 * manifest copy naming each device's host fd, and an epoll fd and a timerfd;
 * the guest makes its own system calls on them, within the seccomp rules
 * the tender installed (docs/guest.md lists them).
 */

/* Extra system calls of this ABI (spt_sys.h has the shared ones). */
#define S5_SYS_PREAD64 17
#define S5_SYS_PWRITE64 18
#define S5_SYS_TIMERFD_SETTIME 286
#define S5_EAGAIN 11
#define S5_TFD_TIMER_ABSTIME 1

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
/* From the boot info. */
extern int s5_epollfd;
extern int s5_timerfd;

/*
 * solo5_boot.c: whether `size` bytes at `buf` are guest memory the device
 * may read (`into` = 0) or write into (`into` = 1: not the image's
 * read-only text, rodata or TLS template). The ring ABI's tender refuses
 * other buffers with SOLO5_R_EINVAL; checking here answers the same instead
 * of a failed system call (EFAULT) or, worse, a read landing in code.
 */
int s5_buf_ok(uintptr_t buf, size_t size, int into);

/* solo5_mft.c: checks and copies the manifest copy at `addr` (an untrusted pointer). */
void s5_mft_init(uint64_t addr);

/*
 * Finds `name` of `type` (SN_MFT_DEV_*): SOLO5_R_OK with *handle set and the
 * entry marked acquired, SOLO5_R_EINVAL if the manifest declares no such
 * device, SOLO5_R_EUNSPEC if it is declared but was not attached.
 */
solo5_result_t s5_acquire(const char *name, uint32_t type, solo5_handle_t *handle);

/* The acquired device `handle` of `type`, or NULL. */
const struct s5_dev *s5_dev(solo5_handle_t handle, uint32_t type);

#endif /* SN_SOLO5_BINDINGS_H */
