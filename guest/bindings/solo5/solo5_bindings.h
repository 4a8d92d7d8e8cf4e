/* solo5_bindings.h: what the Solo5-ABI bindings' files share: the checked boot facts and the device table. */
#ifndef SN_SOLO5_BINDINGS_H
#define SN_SOLO5_BINDINGS_H

#include "bindings.h"
#include "sn_solo5.h"
#include "solo5_mft.h"
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

#endif /* SN_SOLO5_BINDINGS_H */
