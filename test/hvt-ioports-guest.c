/* hvt-ioports-guest.c: built by hvt-ioports.test.ts: which way the Solo5-ABI hvt bindings' ring-3 `outl` reaches the tender. */
#include "solo5.h"
#include "sn_printf.h"

/*
 * The bindings' own symbols (guest/bindings/solo5hvt/s5h.h, hvt/hvt_tables.S):
 * the TSS, writable guest data, and the count of `outl`s the #GP gate redid
 * in ring 0. Every PUTS hypercall is one `outl` to port 0x502.
 */
extern volatile uint64_t s5h_gp_outs;
extern uint8_t hvt_tss[];
/* The 64-bit TSS's field with the I/O bitmap's offset (Intel SDM vol. 3A, 8.7). */
#define TSS_IOMAP_BASE 102
#define TSS_SIZE 104

static uint64_t redone(const char *line)
{
    size_t n = 0;
    while (line[n] != '\0')
        n++;
    uint64_t before = s5h_gp_outs;
    solo5_console_write(line, n);
    return s5h_gp_outs - before;
}

/* Whether the bitmap opens a 4-byte `outl` to `port`: four clear bits. */
static int open4(unsigned port)
{
    const uint8_t *map = hvt_tss + TSS_SIZE;
    for (unsigned p = port; p < port + 4; p++)
        if (map[p / 8] & (1U << (p % 8)))
            return 0;
    return 1;
}

int solo5_app_main(const struct solo5_start_info *si)
{
    (void)si;
    volatile uint16_t *base = (volatile uint16_t *)(hvt_tss + TSS_IOMAP_BASE);
    const uint16_t open = *base;
    uint64_t a = redone("through the bitmap\n");
    /* An offset past the TSS's limit: no bitmap, every port closed to ring 3. */
    *base = 0xffff;
    uint64_t b = redone("through the gate\n");
    *base = open;
    uint64_t c = redone("through the bitmap again\n");
    sn_printf("redone in ring 0: %lu %lu %lu\n", (unsigned long)a, (unsigned long)b, (unsigned long)c);
    sn_printf("open: 0x4fc %d 0x500 %d 0x508 %d 0x600 %d 0x601 %d\n", open4(0x4fc), open4(0x500),
              open4(0x508), open4(0x600), open4(0x601));
    sn_printf("SUCCESS\n");
    return SOLO5_EXIT_SUCCESS;
}
