/* helper_hvt_paging.c: the hvt guest's page tables: identity map with the plan's permissions, page 0 absent. */
#include "helper_hvt.h"
#include "sn_hvt_abi.h"

/*
 * x86-64 four-level paging, guest virtual == guest physical. The guest runs
 * in ring 3 (sn_hvt_abi.h), so its own MMU enforces the permissions, with
 * EFER.NXE for no-execute. The rules are spt's mprotect: text R+X, rodata R,
 * everything else R+W and never executable; nothing below
 * SN_MEM_UNMAPPED_END and nothing past mem_size is present, except the
 * hypercall page, R+W and never executable. Every page is user-accessible:
 * the guest is one protection domain and the VM is the boundary.
 *
 * Large pages wherever a whole 2 MiB (or, if the vCPU has them, 1 GiB)
 * range has one permission; 4 KiB pages only in the few 2 MiB ranges where
 * the permission changes (the first one, with the unmapped low 64 KiB, and
 * those holding a region boundary or the end of memory). The tables live in
 * the 15 pages from SN_HVT_PAGE_TABLES to SN_MEM_UNMAPPED_END, which nothing
 * else uses and which are themselves not mapped for the guest. That bounds
 * memory to roughly 10 GiB without 1 GiB pages (one table per GiB); a plan
 * that needs more tables is refused.
 */

#define PTE_P 0x1ULL
#define PTE_W 0x2ULL
#define PTE_U 0x4ULL
#define PTE_PS 0x80ULL
#define PTE_NX (1ULL << 63)
/* Upper levels grant everything; the leaf decides. */
#define TABLE_FLAGS (PTE_P | PTE_W | PTE_U)
#define ADDR_MASK 0x000ffffffffff000ULL

#define SIZE_4K 0x1000ULL
#define SIZE_2M 0x200000ULL
#define SIZE_1G 0x40000000ULL
#define ENTRIES 512U

struct tables {
    uint8_t *mem;
    uint64_t next; /* guest physical address of the next free table page */
};

/* A zeroed table page, or 0 when the space below SN_MEM_UNMAPPED_END is used up. */
static uint64_t table_alloc(struct tables *t)
{
    if (t->next >= SN_MEM_UNMAPPED_END)
        return 0;
    uint64_t gpa = t->next;
    t->next += SIZE_4K;
    uint64_t *e = (uint64_t *)(t->mem + gpa);
    for (unsigned i = 0; i < ENTRIES; i++)
        e[i] = 0;
    return gpa;
}

/* The table entry e points to, created (zeroed) if e is empty; 0 when out of space. */
static uint64_t *table_under(struct tables *t, uint64_t *e)
{
    if (!(*e & PTE_P)) {
        uint64_t gpa = table_alloc(t);
        if (gpa == 0)
            return 0;
        *e = gpa | TABLE_FLAGS;
    }
    return (uint64_t *)(t->mem + (*e & ADDR_MASK));
}

/* Leaf flags for the 4 KiB page at addr, 0 for not present. */
static uint64_t leaf_flags(const struct sn_plan *p, uint64_t addr)
{
    if (addr < SN_MEM_UNMAPPED_END || addr >= p->mem_size)
        return 0;
    for (uint32_t i = 0; i < p->nregions; i++) {
        const struct sn_plan_region *r = &p->regions[i];
        if (addr < r->addr || addr - r->addr >= r->len)
            continue;
        /* x86 cannot express a present page that is not readable. */
        if (!(r->prot & SN_PROT_R))
            return 0;
        return PTE_P | PTE_U | ((r->prot & SN_PROT_W) ? PTE_W : 0) | ((r->prot & SN_PROT_X) ? 0 : PTE_NX);
    }
    return PTE_P | PTE_U | PTE_W | PTE_NX;
}

/* Whether [start, start + len) has one permission throughout: no boundary strictly inside it. */
static int uniform(const struct sn_plan *p, uint64_t start, uint64_t len)
{
    uint64_t end = start + len;
    if (SN_MEM_UNMAPPED_END > start && SN_MEM_UNMAPPED_END < end)
        return 0;
    if (p->mem_size > start && p->mem_size < end)
        return 0;
    for (uint32_t i = 0; i < p->nregions; i++) {
        uint64_t a = p->regions[i].addr, b = a + p->regions[i].len;
        if ((a > start && a < end) || (b > start && b < end))
            return 0;
    }
    return 1;
}

/* One GiB of guest memory from base, in 2 MiB pages, or 4 KiB pages where permissions change. */
static int map_gig(struct tables *t, const struct sn_plan *p, uint64_t *pd, uint64_t base)
{
    for (unsigned m = 0; m < ENTRIES; m++) {
        uint64_t addr = base + m * SIZE_2M;
        if (addr >= p->mem_size)
            break;
        if (uniform(p, addr, SIZE_2M)) {
            uint64_t f = leaf_flags(p, addr);
            pd[m] = f ? addr | f | PTE_PS : 0;
            continue;
        }
        uint64_t *pt = table_under(t, &pd[m]);
        if (!pt)
            return 0;
        for (unsigned k = 0; k < ENTRIES; k++) {
            uint64_t a = addr + k * SIZE_4K;
            uint64_t f = leaf_flags(p, a);
            pt[k] = f ? a | f : 0;
        }
    }
    return 1;
}

/* The hypercall page: outside guest RAM, so that a store to it exits to the helper. */
static int map_hypercall_page(struct tables *t, uint64_t *pml4)
{
    const uint64_t va = SN_HVT_HYPERCALL_ADDR;
    uint64_t *pdpt = table_under(t, &pml4[(va >> 39) & (ENTRIES - 1)]);
    uint64_t *pd = pdpt ? table_under(t, &pdpt[(va >> 30) & (ENTRIES - 1)]) : 0;
    uint64_t *pt = pd ? table_under(t, &pd[(va >> 21) & (ENTRIES - 1)]) : 0;
    if (!pt)
        return 0;
    pt[(va >> 12) & (ENTRIES - 1)] = va | PTE_P | PTE_W | PTE_U | PTE_NX;
    return 1;
}

static uint64_t refuse(struct diag *why, const char *what)
{
    why->len = 0;
    diag_str(why, what);
    return 0;
}

uint64_t hvt_paging_build(uint8_t *mem, const struct sn_plan *p, const struct hvt_cpu_caps *caps,
                          struct diag *why)
{
    static const char too_many[] = "invalid plan: mem_size needs more page tables than fit below 0x10000 "
                                   "on this CPU (hvt: use a smaller --mem)";
    /* The hypercall page's 2 MiB range must stay outside guest RAM. */
    if (p->mem_size > (SN_HVT_HYPERCALL_ADDR & ~(SIZE_2M - 1)))
        return refuse(why, "invalid plan: mem_size reaches the hvt hypercall page below 64 GiB "
                           "(hvt: use a smaller --mem)");
    if (caps->phys_bits < 36)
        return refuse(why, "the vCPU reports fewer than 36 physical address bits");
    struct tables t = { .mem = mem, .next = SN_HVT_PAGE_TABLES };
    uint64_t pml4_gpa = table_alloc(&t);
    uint64_t *pml4 = (uint64_t *)(mem + pml4_gpa);
    uint64_t gigs = (p->mem_size + SIZE_1G - 1) / SIZE_1G;
    for (uint64_t g = 0; g < gigs; g++) {
        uint64_t base = g * SIZE_1G;
        uint64_t *pdpt = table_under(&t, &pml4[g / ENTRIES]);
        if (!pdpt)
            return refuse(why, too_many);
        if (caps->gb_pages && base + SIZE_1G <= p->mem_size && uniform(p, base, SIZE_1G)) {
            uint64_t f = leaf_flags(p, base);
            pdpt[g % ENTRIES] = f ? base | f | PTE_PS : 0;
            continue;
        }
        uint64_t *pd = table_under(&t, &pdpt[g % ENTRIES]);
        if (!pd || !map_gig(&t, p, pd, base))
            return refuse(why, too_many);
    }
    if (!map_hypercall_page(&t, pml4))
        return refuse(why, too_many);
    return pml4_gpa;
}
