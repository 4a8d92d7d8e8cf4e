/* helper_setup.h: the set-up steps both targets share: memfd check, wait epoll, confinement. */
#ifndef HELPER_SETUP_H
#define HELPER_SETUP_H

#include "sn_abi.h"
#include "helper_sys.h"

/* The memory fd must be a regular file of exactly plan.mem_size bytes. */
void setup_check_memfd(const struct sn_plan *p);

/* Close the memory and plan fds and create SN_FD_WAIT, the epoll on the doorbells to the guest. */
void setup_wait_fd(const struct sn_plan *p);

/* Set no-new-privs and install the plan's BPF program; after it only what the policy allows works. */
void setup_confine(const struct sn_plan *p, const struct h_sock_filter *bpf);

#endif /* HELPER_SETUP_H */
