/* helper_hvt_solo5.h: running a guest of upstream Solo5's hvt ABI: its VM, device table and hypercall handlers. */
#ifndef HELPER_HVT_SOLO5_H
#define HELPER_HVT_SOLO5_H

#include "helper_hvt.h"
#include "helper_hvt_mem.h"
#include "sn_solo5.h"
#include "sn_solo5_hvt.h"

/*
 * One device per manifest index (the guest's handle), read from the
 * manifest copy the tender wrote, before the guest first runs. The guest may
 * rewrite that copy later (it runs in ring 0 and can map any page), so this
 * table is the only one the helper trusts.
 */
struct hvt_solo5_dev {
    uint32_t type; /* SN_MFT_DEV_BLOCK_BASIC or SN_MFT_DEV_NET_BASIC; 0: no device here */
    int fd; /* the host fd, SN_FD_DEV0 + its place in the plan */
    uint64_t capacity; /* block: bytes */
};

struct hvt_solo5_vm {
    struct hvt_mem mem; /* size: the guest-visible bytes (boot info mem_size) */
    uint64_t alloc; /* bytes registered with KVM: mem.size plus a net ring's 2 MiB */
    struct kvm_run *run;
    uint64_t run_size; /* bytes of the vCPU's run area mapped at run */
    int vcpu_fd;
    uint32_t ndoorbells, ndevfds, flags; /* the plan's, for solo5-helper-debug's channel */
    unsigned nblock, nnet;
    struct hvt_solo5_dev dev[SN_MFT_MAX_ENTRIES];
};

/*
 * A handler's verdict (conventions-new-rooms 1.3): a bad request is
 * SN_SOLO5_R_EINVAL in the struct and HC_CONTINUE; a bad pointer or a host
 * I/O failure is HC_FATAL with the line in `why`; HALT is HC_EXIT with the
 * status. Handlers never end the process: only the run loop does.
 */
enum hc_next { HC_CONTINUE, HC_EXIT, HC_FATAL };

struct hc_out {
    int status; /* HC_EXIT */
    uint64_t cookie; /* HC_EXIT: HALT's cookie, checked (a guest trap frame, or 0) */
    struct diag why; /* HC_FATAL: the line, without prefix or newline */
};

typedef enum hc_next (*hvt_solo5_call)(struct hvt_solo5_vm *vm, sn_gpa arg, struct hc_out *out);

/* Upstream's words for a bad guest pointer: "<file>:<line>: Invalid guest access: gpa=0x..., sz=N". */
enum hc_next hc_bad_access(struct hc_out *out, const char *file, unsigned line, sn_gpa gpa, uint64_t sz);
#ifdef __FILE_NAME__
#define HC_FILE __FILE_NAME__ /* the base name, however the file was named to the compiler */
#else
#define HC_FILE __FILE__
#endif
#define HC_BAD_ACCESS(out, gpa, sz) hc_bad_access((out), HC_FILE, __LINE__, (gpa), (sz))
/* "Fatal error when <what>: <ERRNO>" (a failed host read or write). */
enum hc_next hc_host_error(struct hc_out *out, const char *what, long ret);

/* helper_hvt_solo5_blk.c and helper_hvt_solo5_net.c */
enum hc_next hc_block_write(struct hvt_solo5_vm *vm, sn_gpa arg, struct hc_out *out);
enum hc_next hc_block_read(struct hvt_solo5_vm *vm, sn_gpa arg, struct hc_out *out);
enum hc_next hc_net_write(struct hvt_solo5_vm *vm, sn_gpa arg, struct hc_out *out);
enum hc_next hc_net_read(struct hvt_solo5_vm *vm, sn_gpa arg, struct hc_out *out);

/* The handle's device if it is one of `type`; the u64 is cut to 32 bits first, as upstream does. */
const struct hvt_solo5_dev *hvt_solo5_device(const struct hvt_solo5_vm *vm, uint64_t handle, uint32_t type);

/*
 * helper_hvt_solo5_boot.c: upstream's low memory (GDT, page tables), entry
 * registers, TSC frequency into the boot info, host-side read-only text, the
 * device table and the ring kick's ioeventfd. Exits with one line on failure.
 */
void hvt_solo5_boot(struct hvt_solo5_vm *vm, const struct sn_plan *p, int kvm_fd, int vm_fd);

/* helper_hvt_solo5_core.c: one port I/O exit, decoded and served; never ends the process. */
enum hc_next hvt_solo5_io(struct hvt_solo5_vm *vm, struct hc_out *out);
/* KVM_RUN and hypercalls until the guest halts or breaks the protocol. */
__attribute__((noreturn)) void hvt_solo5_loop(struct hvt_solo5_vm *vm);

#endif /* HELPER_HVT_SOLO5_H */
