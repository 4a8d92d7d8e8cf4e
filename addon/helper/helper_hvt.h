/* helper_hvt.h: the hvt target: the guest runs in a KVM virtual machine driven by this process. */
#ifndef HELPER_HVT_H
#define HELPER_HVT_H

#include "sn_abi.h"
#include "helper_diag.h"
#include "helper_hvt_sys.h"

/* What the run loop needs once set-up is over. */
struct hvt_vm {
    uint8_t *mem;         /* guest memory as mapped here: guest physical address 0 is mem[0] */
    uint64_t mem_size;
    struct kvm_run *run;  /* the vCPU's shared exit record */
    uint32_t ndoorbells;
    uint32_t flags; /* the plan's: SN_PLAN_F_DUMPCORE and SN_PLAN_F_GDB matter to solo5-helper-debug */
};

/* What the vCPU's CPUID says about paging (from KVM_GET_SUPPORTED_CPUID). */
struct hvt_cpu_caps {
    int gb_pages; /* 1 GiB pages (CPUID 0x80000001 EDX bit 26) */
    unsigned phys_bits; /* physical address width (CPUID 0x80000008 EAX[7:0]) */
};

/* helper_hvt.c: create the VM, map and register memory, set up the vCPU, confine, run. */
__attribute__((noreturn)) void hvt_run(const struct sn_plan *p, const struct h_sock_filter *bpf);

/* helper_hvt_vcpu.c: CPUID, long-mode registers and the boot info's clock fields. */
void hvt_vcpu_cpuid(int kvm_fd, int vcpu_fd, struct hvt_cpu_caps *caps);
void hvt_vcpu_registers(int vcpu_fd, const struct sn_plan *p, uint64_t cr3);
/* The general registers at entry: these three set, RFLAGS 0x2 (interrupts off), everything else zero. */
void hvt_vcpu_entry(int vcpu_fd, uint64_t rip, uint64_t rsp, uint64_t rdi);
/* Write all of [buf, buf + len) to the console, retrying short writes; a closed console drops the rest. */
void hvt_console_write(const uint8_t *buf, uint64_t len);
void hvt_vcpu_clocks(int vcpu_fd, uint8_t *mem);

/* "solo5-helper: <step> failed: <ERRNO> (<advice>)" on fd 2, exit 1: a KVM set-up step failed. */
__attribute__((noreturn)) void hvt_kvm_fail(const char *step, long ret);

/*
 * helper_hvt_paging.c: write identity-mapping page tables for the plan into
 * guest memory at SN_HVT_PAGE_TABLES. Returns the CR3 value, or 0 with the
 * reason in *why when the plan cannot be mapped in the space there is.
 */
uint64_t hvt_paging_build(uint8_t *mem, const struct sn_plan *p, const struct hvt_cpu_caps *caps,
                          struct diag *why);

/* helper_hvt_debug.c: solo5-helper-debug's set-up of its debug channel, before confinement. */
void hvt_debug_setup(const struct sn_plan *p);

/* helper_hvt_loop.c: KVM_RUN and hypercalls until the guest exits. */
__attribute__((noreturn)) void hvt_loop(const struct hvt_vm *vm);

#endif /* HELPER_HVT_H */
