/* helper_spt.c: spt target: map guest memory, apply permissions, set up the guest's fds, drop privileges, wait at the gate, confine, jump. */
#include "helper_spt.h"

#include "helper_diag.h"
#include "helper_guard.h"
#include "helper_setup.h"
#include "helper_solo5.h"

/* SN_PROT_* were chosen equal to the kernel's PROT_* bits so regions map 1:1. */
_Static_assert(SN_PROT_R == H_PROT_READ && SN_PROT_W == H_PROT_WRITE && SN_PROT_X == H_PROT_EXEC,
               "SN_PROT_* match PROT_*");

void helper_jump(uint64_t entry, uint64_t stack_top, uint64_t bootinfo) __attribute__((noreturn));

/*
 * Guest memory is the memfd mapped at offset == guest address, from the boot
 * info page up; the pages below it (NULL and friends) stay unmapped. The
 * mapping is shared so that the tender sees the guest's writes in place. No
 * MAP_POPULATE: pages the guest never touches cost nothing.
 */
static void map_memory(const struct sn_plan *p)
{
    uint64_t base = SN_MEM_UNMAPPED_END;
    long r = h_mmap(base, p->mem_size - base, H_PROT_READ | H_PROT_WRITE,
                    H_MAP_SHARED | H_MAP_FIXED_NOREPLACE, SN_FD_MEM, base);
    if (h_is_err(r))
        diag_fail("mmap guest memory", r);
    /* Kernels before 4.17 take MAP_FIXED_NOREPLACE as a mere hint. */
    if ((uint64_t)r != base)
        diag_fail("mmap guest memory", -17 /* EEXIST */);
    for (uint32_t i = 0; i < p->nregions; i++) {
        const struct sn_plan_region *reg = &p->regions[i];
        if (reg->prot == (SN_PROT_R | SN_PROT_W))
            continue;
        r = h_mprotect(reg->addr, reg->len, (int)reg->prot);
        if (h_is_err(r))
            diag_fail("mprotect guest region", r);
    }
}

void spt_run(const struct sn_plan *p, const struct h_sock_filter *bpf)
{
    setup_check_memfd(p);
    map_memory(p);
    if (p->flags & SN_PLAN_F_SOLO5)
        solo5_setup_fds(p);
    else
        setup_wait_fd(p);
    guard_drop_privileges(p);
    guard_wait_gate(p);
#ifdef SN_HVT_DEBUG
    spt_debug_stop(p);
#endif
    /* The last two syscalls: nothing may run unconfined after the filter's set-up. */
    setup_confine(p, bpf);
    helper_jump(p->entry, p->stack_top, p->bootinfo);
}
