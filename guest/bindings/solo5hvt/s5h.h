/* s5h.h: what the Solo5-ABI hvt bindings' files share: the ring-0 gate, the hypercall, boot facts, the net ring. */
#ifndef SN_S5H_H
#define SN_S5H_H

#include "sn_solo5_hvt.h"

/*
 * These bindings speak upstream Solo5's hvt ABI (include/sn_solo5_hvt.h):
 * the tender enters _start in ring 0 with RDI at the boot info, and serves
 * a 32-bit `outl` of an argument struct's address to port 0x500 + nr.
 *
 * The application runs in ring 3 all the same (docs/guest.md, "Solo5 ABI on
 * hvt"): on PVM hosts ring-0 guest code is emulated an instruction at a
 * time and cannot use SSE, while ring-3 code runs natively. s5h_start.S
 * loads the guest's own GDT and TSS (hvt/hvt_tables.S, shared with the
 * ring-ABI hvt bindings), an IDT, and page tables with the user bit
 * (s5h_pagetables.S), then drops to ring 3. The code here issues `outl`
 * and `wrmsr` as if it ran in ring 0, as upstream's bindings do:
 *  - `outl` to the tender's ports is allowed in ring 3 by the TSS's I/O
 *    permission bitmap (below), so it exits to the tender as it would from
 *    ring 0: on hardware KVM the CPU checks the bitmap, on PVM the host's
 *    emulation of the faulting `outl` does (IOPL 3 would not do: PVM drops
 *    IOPL from the RFLAGS it returns to ring 3 with);
 *  - any other port, and `wrmsr`, raise #GP in ring 3, and the #GP handler
 *    (s5h_gp in s5h_start.S) redoes them in ring 0 and returns past them.
 *    On PVM that round trip is about ten ring-0 instructions, each emulated,
 *    where the bitmap's path costs the one `outl` (docs/decisions.md).
 */

/*
 * The I/O permission bitmap after the TSS (hvt/hvt_tables.S, assembled
 * with S5H_IO_BITMAP for these bindings only), one bit per port, 0 = allowed:
 * closed below 0x500, open for the hypercall ports [0x500, 0x600) (the
 * tender ends a guest that uses one it does not serve) and for the four
 * bits a 4-byte `outl` to the ring kick 0x600 checks, then a closing 0xff
 * byte, which the CPU requires since it reads two bytes.
 */
#define S5H_IOMAP_FIRST_PORT 0x500
#define S5H_IOMAP_KICK_PORT 0x600
#define S5H_IOMAP_CLOSED_BYTES (S5H_IOMAP_FIRST_PORT / 8)
#define S5H_IOMAP_OPEN_BYTES ((S5H_IOMAP_KICK_PORT - S5H_IOMAP_FIRST_PORT) / 8)
#define S5H_IOMAP_KICK_BYTE 0xf0
#define S5H_IOMAP_SIZE (S5H_IOMAP_CLOSED_BYTES + S5H_IOMAP_OPEN_BYTES + 2)

/* Page table entry bits of this guest's own tables (s5h_pagetables.S): P, RW, U, accessed, dirty, PS. */
#define S5H_PTE_TABLE 0x27
#define S5H_PTE_PAGE_RO 0x25
#define S5H_PTE_PAGE_RW 0x67
#define S5H_PTE_PAGE_2M 0xe7

#ifndef __ASSEMBLER__

#include "bindings.h"
#include "solo5_mft.h"

/* One `outl` of `value` to `port` (straight to the tender through the I/O bitmap; else redone in ring 0 by s5h_gp). */
static inline void s5h_outl(uint32_t port, uint32_t value)
{
    __asm__ volatile("outl %0, %w1" : : "a"(value), "d"(port) : "memory");
}

/*
 * Hypercall `nr` with the argument struct at `arg`: the memory clobber in
 * s5h_outl makes the compiler store the struct before and reload it after.
 * Guest memory is identity mapped and below 4 GiB, so the low 32 bits of
 * the address are the guest-physical address the tender wants.
 */
static inline void s5h_hypercall(uint32_t nr, void *arg)
{
    s5h_outl(SN_SOLO5_HVT_PORT(nr), (uint32_t)(uintptr_t)arg);
}

/* The FS base, by `wrmsr` (redone in ring 0 by s5h_gp, which also loads CR3 from s5h_cr3, flushing the TLB). */
static inline void s5h_set_fs_base(uint64_t base)
{
    __asm__ volatile("wrmsr"
                     :
                     : "c"(0xc0000100U), "a"((uint32_t)base), "d"((uint32_t)(base >> 32))
                     : "memory");
}

/* How many `outl`s s5h_gp redid in ring 0: ports outside the I/O bitmap, or a bitmap the guest switched off. */
extern volatile uint64_t s5h_gp_outs;

/* Boot facts, checked once in s5h_boot.c. */
extern uint64_t s5h_mem_size;
/* The ABI1 note's version (notes/abi_v1.c or abi_v2.c): 1 reads the wall clock once at boot. */
extern const uint32_t s5h_abi_version;

/* s5h_clock.c: start the clocks from the TSC frequency (non-zero) and, on ABI 1, one WALLTIME. */
void s5h_clock_init(uint64_t tsc_hz);
uint64_t s5h_rdtsc(void);

/*
 * Whether `size` bytes at `buf` lie where the tender accepts a buffer
 * ([0x10000, mem_size), strictly below the top); with `into`, also
 * outside what the host keeps read-only (everything below the image, the
 * image's text, rodata and TLS template), where a device read would end the
 * tender instead of failing the call.
 */
int s5h_buf_ok(uintptr_t buf, size_t size, int into);

/* s5h_net.c: take the net ring at `ring` (checked), if offered; its write buffers come from the heap. */
uint64_t s5h_ring_init(uint64_t ring, uint64_t heap_start, uint64_t heap_end);
/* Wait, briefly, for the tender to take the frames written through the ring (before HALT). */
void s5h_ring_drain(void);

/* s5h_platform.c: HALT with `status` and a cookie (a trap frame, or 0). */
void s5h_halt(int status, void *cookie) __attribute__((noreturn));

#endif /* __ASSEMBLER__ */

#endif /* SN_S5H_H */
