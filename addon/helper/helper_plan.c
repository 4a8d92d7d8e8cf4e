/* helper_plan.c: reads the load plan from SN_FD_PLAN and validates every field before anything is mapped. */
#include "helper_plan.h"
#include "sn_hvt_debug.h"

static int invalid(struct diag *why, const char *what)
{
    why->len = 0;
    diag_str(why, "invalid plan: ");
    diag_str(why, what);
    return 0;
}

static int invalid_region(struct diag *why, uint32_t i, const char *what)
{
    why->len = 0;
    diag_str(why, "invalid plan: region ");
    diag_u64(why, i);
    diag_str(why, " ");
    diag_str(why, what);
    return 0;
}

static int page_aligned(uint64_t v)
{
    return (v & (SN_PAGE_SIZE - 1)) == 0;
}

/* The region holding addr, or -1. Regions are already known not to overlap. */
static int region_at(const struct sn_plan *p, uint64_t addr)
{
    for (uint32_t i = 0; i < p->nregions; i++) {
        const struct sn_plan_region *r = &p->regions[i];
        if (addr >= r->addr && addr - r->addr < r->len)
            return (int)i;
    }
    return -1;
}

static int check_regions(const struct sn_plan *p, struct diag *why)
{
    for (uint32_t i = 0; i < p->nregions; i++) {
        const struct sn_plan_region *r = &p->regions[i];
        if (!page_aligned(r->addr) || !page_aligned(r->len))
            return invalid_region(why, i, "is not page aligned");
        if (r->len == 0)
            return invalid_region(why, i, "is empty");
        if (r->addr < SN_GUEST_MIN_BASE || r->addr > p->mem_size || r->len > p->mem_size - r->addr)
            return invalid_region(why, i, "is outside guest memory");
        if (r->prot & ~(SN_PROT_R | SN_PROT_W | SN_PROT_X))
            return invalid_region(why, i, "has unknown protection bits");
        if ((r->prot & SN_PROT_W) && (r->prot & SN_PROT_X))
            return invalid_region(why, i, "is writable and executable");
        if (r->pad != 0)
            return invalid_region(why, i, "has non-zero padding");
        for (uint32_t j = 0; j < i; j++) {
            const struct sn_plan_region *q = &p->regions[j];
            if (r->addr < q->addr + q->len && q->addr < r->addr + r->len)
                return invalid_region(why, i, "overlaps an earlier region");
        }
    }
    /* Unused slots must be zero so that a miscounted nregions cannot go unnoticed. */
    const unsigned char *rest = (const unsigned char *)&p->regions[p->nregions];
    const unsigned char *end = (const unsigned char *)&p->regions[SN_PLAN_MAX_REGIONS];
    for (; rest < end; rest++)
        if (*rest)
            return invalid(why, "unused region slots are not zero");
    return 1;
}

/* The Solo5 device fds: only with SN_PLAN_F_SOLO5, instead of doorbells. */
static int check_devfds(const struct sn_plan *p, struct diag *why)
{
    int solo5 = (p->flags & SN_PLAN_F_SOLO5) != 0;
    /* hvt: one "doorbell", the 0.11 net ring's kick eventfd (sn_solo5_hvt.h), may follow the device fds. */
    if (solo5 && p->ndoorbells > (p->target == SN_ABI_TARGET_HVT ? 1U : 0U))
        return invalid(why, "a Solo5-ABI guest has no doorbells");
    if (solo5 && p->target == SN_ABI_TARGET_HVT &&
        p->mem_size > SN_SOLO5_HVT_MEM_MAX + SN_SOLO5_HVT_RING_AREA)
        return invalid(why, "mem_size is above what a Solo5 hvt guest can map");
    if (!solo5 && p->ndevfds != 0)
        return invalid(why, "device fds without SN_PLAN_F_SOLO5");
    if (p->ndevfds > SN_MFT_MAX_ENTRIES - 1)
        return invalid(why, "ndevfds is out of range");
    for (uint32_t i = 0; i < SN_MFT_MAX_ENTRIES; i++) {
        if (i >= p->ndevfds && p->dev_epoll[i] != 0)
            return invalid(why, "dev_epoll is set past ndevfds");
        if (p->dev_epoll[i] >= SN_MFT_MAX_ENTRIES)
            return invalid(why, "dev_epoll names no manifest entry");
    }
    return 1;
}

int plan_check(const struct sn_plan *p, struct diag *why)
{
    if (p->magic != SN_PLAN_MAGIC)
        return invalid(why, "bad magic");
    if (p->abi_version != SN_ABI_VERSION)
        return invalid(why, "abi_version does not match the helper");
    if (p->target != SN_ABI_TARGET_SPT && p->target != SN_ABI_TARGET_HVT)
        return invalid(why, "target is neither spt nor hvt");
    if (p->flags & (SN_PLAN_F_DUMPCORE | SN_PLAN_F_GDB)) {
#ifdef SN_HVT_DEBUG
        if ((p->flags & SN_PLAN_F_DUMPCORE) && p->target != SN_ABI_TARGET_HVT)
            return invalid(why, "SN_PLAN_F_DUMPCORE is hvt only");
#else
        return invalid(why,
                       "this helper has no debug features (--gdb and --dumpcore run solo5-helper-debug)");
#endif
    }
    if (p->flags & ~(SN_PLAN_F_SOLO5 | SN_PLAN_F_SETID | SN_PLAN_F_GATE | SN_PLAN_F_DUMPCORE | SN_PLAN_F_GDB))
        return invalid(why, "unknown flags");
    if ((p->flags & SN_PLAN_F_GATE) && p->target != SN_ABI_TARGET_SPT)
        return invalid(why, "a start gate is spt only");
    if (p->parent_pid <= 0)
        return invalid(why, "parent_pid is not a process id");
    if (!(p->flags & SN_PLAN_F_SETID) && (p->uid != 0 || p->gid != 0))
        return invalid(why, "uid or gid given without SN_PLAN_F_SETID");
    if (!check_devfds(p, why))
        return 0;
    if (!page_aligned(p->mem_size))
        return invalid(why, "mem_size is not page aligned");
    if (p->mem_size < HELPER_MIN_MEM_SIZE || p->mem_size > HELPER_MAX_MEM_SIZE)
        return invalid(why, "mem_size is out of range");
    if (p->nregions == 0 || p->nregions > SN_PLAN_MAX_REGIONS)
        return invalid(why, "nregions is out of range");
    if (p->bpf_len == 0 || p->bpf_len > SN_PLAN_MAX_BPF)
        return invalid(why, "bpf_len is out of range");
    if (p->ndoorbells > HELPER_MAX_DOORBELLS)
        return invalid(why, "ndoorbells is out of range");
    int solo5 = (p->flags & SN_PLAN_F_SOLO5) != 0;
    if (!solo5 && p->ndoorbells % 2)
        return invalid(why, "ndoorbells is not a whole number of pairs");
    uint64_t solo5_boot = p->target == SN_ABI_TARGET_HVT ? SN_SOLO5_HVT_BOOT_INFO : SN_SOLO5_BOOT_INFO_BASE;
    if (p->bootinfo != (solo5 ? solo5_boot : SN_BOOTINFO_ADDR))
        return invalid(why, "bootinfo is not at its fixed address");
    if (!check_regions(p, why))
        return 0;
    int text = region_at(p, p->entry);
    if (text < 0 || !(p->regions[text].prot & SN_PROT_X))
        return invalid(why, "entry is not in an executable region");
    /* Solo5's spt ABI enters with %rsp = mem_size - 8, as if a return address had been pushed. */
    if ((p->stack_top & 15) != (solo5 ? 16 - SN_SOLO5_STACK_GAP : 0))
        return invalid(why, solo5 ? "stack_top is not 8 below a 16-byte boundary"
                                  : "stack_top is not 16-byte aligned");
    if (p->stack_top <= SN_GUEST_MIN_BASE || p->stack_top > p->mem_size)
        return invalid(why, "stack_top is outside guest memory");
    int below = region_at(p, p->stack_top - 1);
    if (below >= 0 && !(p->regions[below].prot & SN_PROT_W))
        return invalid(why, "stack_top is not in writable memory");
    return 1;
}

void plan_read(struct sn_plan *p, struct h_sock_filter *bpf)
{
    struct diag why;
    long n = h_pread(SN_FD_PLAN, p, sizeof(*p), 0);
    if (h_is_err(n))
        diag_fail("read plan", n);
    if ((unsigned long)n != sizeof(*p)) {
        why.len = 0;
        diag_str(&why, "invalid plan: truncated");
        diag_exit(&why);
    }
    if (!plan_check(p, &why))
        diag_exit(&why);
    /* Ask for one instruction more than announced: getting it means trailing bytes. */
    unsigned long want = (unsigned long)p->bpf_len * sizeof(*bpf);
    n = h_pread(SN_FD_PLAN, bpf, want + sizeof(*bpf), sizeof(*p));
    if (h_is_err(n))
        diag_fail("read plan", n);
    if ((unsigned long)n != want) {
        why.len = 0;
        diag_str(&why, "invalid plan: bpf_len does not match the plan's size");
        diag_exit(&why);
    }
}
