/* helper_spt.c: spt target: map guest memory, apply permissions, build the wait fd, install seccomp, jump. */
#include "helper_spt.h"

#include "helper_diag.h"

/* SN_PROT_* were chosen equal to the kernel's PROT_* bits so regions map 1:1. */
_Static_assert(SN_PROT_R == H_PROT_READ && SN_PROT_W == H_PROT_WRITE && SN_PROT_X == H_PROT_EXEC,
               "SN_PROT_* match PROT_*");

void helper_jump(uint64_t entry, uint64_t stack_top, uint64_t bootinfo) __attribute__((noreturn));

static void check_memfd(const struct sn_plan *p)
{
    struct h_stat st;
    long r = h_fstat(SN_FD_MEM, &st);
    if (h_is_err(r))
        diag_fail("fstat guest memory", r);
    if ((st.st_mode & H_S_IFMT) != H_S_IFREG || (uint64_t)st.st_size != p->mem_size) {
        struct diag d;
        d.len = 0;
        diag_str(&d, "invalid plan: mem_size does not match the guest memory file");
        diag_exit(&d);
    }
}

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

/*
 * The guest's fds after set-up: 0 (/dev/null), 1 console, 2 diagnostics,
 * SN_FD_WAIT and the doorbells. Doorbells come in pairs (SN_DOORBELL_TO_*):
 * the guest writes the first to wake the tender and sleeps on the second, so
 * only the second of each pair goes into the wait epoll (the first stays
 * readable until the tender drains it and would wake the guest at once);
 * each event's data is the doorbell's fd number. The memfd and plan fds are
 * gone: the guest reaches its memory only through the mapping.
 */
static void make_wait_fd(const struct sn_plan *p)
{
    long r = h_close_range(SN_FD_MEM, SN_FD_PLAN);
    if (h_is_err(r))
        diag_fail("close memory and plan fds", r);
    long ep = h_epoll_create1(H_EPOLL_CLOEXEC);
    if (h_is_err(ep))
        diag_fail("epoll_create1", ep);
    if (ep != SN_FD_WAIT) {
        /* fd 0 was not open at exec, so epoll took a lower number. */
        r = h_dup3((int)ep, SN_FD_WAIT, H_O_CLOEXEC);
        if (h_is_err(r))
            diag_fail("dup3 wait fd", r);
        h_close((int)ep);
    }
    for (uint32_t i = 0; i < p->ndoorbells; i++) {
        int fd = SN_FD_DOORBELL0 + (int)i;
        if (i % 2 != SN_DOORBELL_TO_GUEST) {
            /* Not waited on, but a missing one would only show as the guest's failed kicks. */
            r = h_fcntl(fd, H_F_GETFD);
            if (h_is_err(r))
                diag_fail("check doorbell to tender", r);
            continue;
        }
        struct h_epoll_event ev = {.events = H_EPOLLIN, .data = (uint64_t)fd};
        r = h_epoll_ctl(SN_FD_WAIT, H_EPOLL_CTL_ADD, fd, &ev);
        if (h_is_err(r))
            diag_fail("epoll_ctl doorbell to guest", r);
    }
}

void spt_run(const struct sn_plan *p, const struct h_sock_filter *bpf)
{
    check_memfd(p);
    map_memory(p);
    make_wait_fd(p);

    /* The last two syscalls: nothing may run unconfined after the filter's set-up. */
    struct h_sock_fprog prog = {.len = (uint16_t)p->bpf_len, .filter = bpf};
    long r = h_prctl(H_PR_SET_NO_NEW_PRIVS, 1);
    if (h_is_err(r))
        diag_fail("prctl(PR_SET_NO_NEW_PRIVS)", r);
    r = h_seccomp(H_SECCOMP_SET_MODE_FILTER, 0, &prog);
    if (h_is_err(r))
        diag_fail("seccomp", r);
    helper_jump(p->entry, p->stack_top, p->bootinfo);
}
