/* s5h_pagetables.S: the Solo5-ABI hvt guest's own page tables, static: the first 4 GiB identity mapped with the user bit. */

#include "s5h.h"

/*
 * The tender's page tables (at 0x2000) have no user bit, so ring 3 could
 * touch nothing through them. Two sets replace them, both identity maps
 * with the user bit of what upstream's map: page 0 to 0xffff not present,
 * 0x10000 to 0xfffff (boot info, manifest copy, command line) read-only,
 * 0x100000 up read/write, in 4 KiB pages (s5h_pt0, shared) to 2 MiB and
 * 2 MiB pages above.
 *
 * - The boot set, static data: all of the first 4 GiB (the largest guest),
 *   because the tender's stack sits at the top of memory, whatever its
 *   size. s5h_start.S loads it; filling tables in ring 0 would cost
 *   milliseconds on PVM hosts, where ring 0 is emulated.
 * - The final set, in bss: s5h_boot.c fills it from ring 3 up to the top of
 *   guest memory (and the net ring) and loads it (S5H_CR3 and the FS-base
 *   gate, s5h_start.S), so that an access above memory is a page fault the
 *   guest reports, as under upstream's tables. It is filled while not in
 *   use: on PVM hosts every store into an active page table traps (shadow
 *   paging), and trimming the boot set in place cost 40 ms.
 *
 * Accessed and dirty bits are preset so that the CPU need not write them.
 * No NX (upstream sets none either: EFER.NXE is clear).
 */

    .section .data.s5h_pagetables, "aw"
    .balign 4096
    .globl s5h_boot_pml4, s5h_pt0, s5h_cr3
s5h_boot_pml4:
    .quad   s5h_boot_pdpt + S5H_PTE_TABLE
    .fill   511, 8, 0

s5h_boot_pdpt:
    .quad   s5h_boot_pd + S5H_PTE_TABLE, s5h_boot_pd + 0x1000 + S5H_PTE_TABLE
    .quad   s5h_boot_pd + 0x2000 + S5H_PTE_TABLE, s5h_boot_pd + 0x3000 + S5H_PTE_TABLE
    .fill   508, 8, 0

/* Four directories, 2048 entries: entry 0 points to s5h_pt0, entry N maps N * 2 MiB. */
s5h_boot_pd:
    .quad   s5h_pt0 + S5H_PTE_TABLE
    .set    n, 1
    .rept   2047
    .quad   (n << 21) + S5H_PTE_PAGE_2M
    .set    n, n + 1
    .endr

s5h_pt0:
    .fill   16, 8, 0
    .set    n, 16
    .rept   256 - 16
    .quad   (n << 12) + S5H_PTE_PAGE_RO
    .set    n, n + 1
    .endr
    .rept   256
    .quad   (n << 12) + S5H_PTE_PAGE_RW
    .set    n, n + 1
    .endr

/* What the FS-base gate loads into CR3: the boot set until s5h_boot.c has filled the final one. */
    .balign 8
s5h_cr3:
    .quad   s5h_boot_pml4

    .section .bss.s5h_pagetables, "aw", @nobits
    .balign 4096
    .globl s5h_pml4, s5h_pdpt, s5h_pd
s5h_pml4:
    .skip   4096
s5h_pdpt:
    .skip   4096
s5h_pd:
    .skip   4 * 4096

    .section .note.GNU-stack, "", @progbits
