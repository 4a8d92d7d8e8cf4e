/* helper_solo5.h: the fds a guest of Solo5's spt ABI expects: its devices, an epoll set and a timerfd. */
#ifndef HELPER_SOLO5_H
#define HELPER_SOLO5_H

#include "sn_abi.h"
#include "sn_solo5.h"
#include "helper_sys.h"

/*
 * Close the memory and plan fds, create the epoll fd at SN_FD_SOLO5_EPOLL and
 * the timerfd (CLOCK_MONOTONIC, non-blocking) at SN_FD_SOLO5_TIMER, the
 * numbers the tender wrote into the boot info; register the timerfd with data
 * SN_SOLO5_INTERNAL_TIMERFD and each net fd with its manifest index, and check
 * that every device fd the manifest copy names is open.
 */
void solo5_setup_fds(const struct sn_plan *p);

#endif /* HELPER_SOLO5_H */
