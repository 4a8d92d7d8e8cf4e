/* helper_hvt_mem.h: the one checked way from a guest physical address to a host pointer, for both hvt ABIs. */
#ifndef HELPER_HVT_MEM_H
#define HELPER_HVT_MEM_H

#include <stdint.h>

#include "sn_abi.h"
#include "sn_solo5_hvt.h"

/*
 * Every address a guest hands the helper is an sn_gpa (sn_solo5_hvt.h): a
 * struct, so that adding to it or dereferencing it does not compile. The
 * only way to memory is gpa_range(), which checks that [gpa, gpa + len) lies
 * in guest RAM above the never-mapped low 64 KiB (page tables and GDT live
 * there, and no guest of either ABI points into it), without wrapping. A
 * range may end exactly at the top of guest memory (upstream's tender refuses
 * that one byte early; docs/decisions.md).
 */
struct hvt_mem {
    uint8_t *base; /* guest physical 0 as mapped here */
    uint64_t size; /* bytes hypercalls may name: the guest-visible size */
};

static inline sn_gpa sn_gpa_of(uint64_t v)
{
    sn_gpa g = { v };
    return g;
}

/* The helper's pointer to [gpa, gpa + len), or 0 when any of it is outside guest memory. */
static inline uint8_t *gpa_range(const struct hvt_mem *m, sn_gpa gpa, uint64_t len)
{
    if (gpa.v < SN_MEM_UNMAPPED_END || gpa.v > m->size || len > m->size - gpa.v)
        return 0;
    return m->base + gpa.v;
}

#endif /* HELPER_HVT_MEM_H */
