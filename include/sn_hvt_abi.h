/* sn_hvt_abi.h: the hvt contract between the hvt guest bindings and the helper's vCPU loop. */
#ifndef SN_HVT_ABI_H
#define SN_HVT_ABI_H

/*
 * Only the hvt guest (guest/bindings/hvt) and the helper (addon/helper/
 * helper_hvt_*.c) speak this; the tender never sees it, which is why it is
 * not part of sn_abi.h and has no TypeScript mirror. docs/hvt.md is the prose
 * version, with the measurements behind the choices.
 *
 * Privilege: the guest runs in ring 3 of its VM. A few ring-0 instructions
 * at entry load its descriptor tables, and a ring-0 stub turns a CPU
 * exception (or a `syscall`) into a call of a ring-3 reporting function; all
 * other guest code, the application included, runs in ring 3. On KVM
 * hypervisors that run ring-0 guest code natively this costs nothing; on
 * those that run only ring 3 natively and emulate ring 0 instruction by
 * instruction (PVM, as on the machines this was built on), it is the
 * difference between native speed and a thousand times slower.
 *
 * The vCPU state at the guest's entry (the helper sets it through KVM; no
 * BIOS, no real mode): ring 0, 64-bit long mode with paging, CR0
 * PE|MP|ET|NE|WP|PG, CR4 PAE|OSFXSR|OSXMMEXCPT (SSE usable), EFER
 * LME|LMA|NXE|SCE, interrupts off, %rip = entry, %rsp = stack_top, %rdi =
 * boot info, FS and GS bases 0. CS holds SN_HVT_SEL_KCODE and the data
 * segments SN_HVT_SEL_KDATA, flat; GDTR and IDTR are empty, so the guest
 * must load its own tables, with the selectors below, before anything can
 * fault (until then a fault is a triple fault, which the helper reports as
 * an abort). The selectors are Linux's, because PVM runs ring 3 on the
 * host's own user segments.
 *
 * This part is plain integers, so that the bindings' assembly includes it.
 */
#define SN_HVT_SEL_KCODE 0x10
#define SN_HVT_SEL_KDATA 0x18
#define SN_HVT_SEL_UDATA 0x2b
#define SN_HVT_SEL_UCODE 0x33
#define SN_HVT_SEL_TSS 0x40

#ifndef __ASSEMBLER__

#include "sn_abi.h"

/*
 * Paging: guest virtual == guest physical, every page user-accessible (the
 * guest is one protection domain; the VM is the boundary). The helper's page
 * tables live in [SN_HVT_PAGE_TABLES, SN_MEM_UNMAPPED_END) and are not mapped
 * for the guest; nothing below SN_MEM_UNMAPPED_END is. Text is read+execute,
 * rodata read-only and never executable, everything else in
 * [SN_MEM_UNMAPPED_END, mem_size) read+write and never executable, and the
 * hypercall page read+write, never executable.
 */
#define SN_HVT_PAGE_TABLES 0x1000ULL

/*
 * Hypercalls: one 64-bit store to SN_HVT_HYPERCALL_SLOT(n), on a page
 * mapped in the guest's page tables but outside guest RAM, so that the
 * store exits to the helper as KVM_EXIT_MMIO. It works from ring 3 on every
 * KVM (port I/O from ring 3 does not, on PVM). The value stored is either
 * the argument itself (EXIT, SET_TLS) or the guest address of an argument
 * struct. The helper reads a struct once into a local copy, checks every
 * address and length in it against guest memory, and only then acts. A
 * hypercall the helper cannot make sense of (another offset, a load, a
 * store of another width, an argument outside guest memory) ends the guest
 * as an abort: a line containing ABORT on the console, exit status 255.
 *
 * The page is the last below 64 GiB: inside the 36-bit physical address
 * space every x86-64 CPU has, and above any guest memory the helper maps.
 */
#define SN_HVT_HYPERCALL_ADDR 0xffffff000ULL
#define SN_HVT_HYPERCALL_SLOT(n) (SN_HVT_HYPERCALL_ADDR + 8ULL * (n))

/* Write [addr, addr + len) to the console. Value: guest address of struct sn_hvt_puts. */
#define SN_HVT_PUTS 0U
/* End the guest; the value is the exit status (the host reports it & 0xff). */
#define SN_HVT_EXIT 1U
/* Sleep up to timeout_ns or until the tender rings the guest's doorbell. Value: struct sn_hvt_wait. */
#define SN_HVT_WAIT 2U
/* Ring the tender's doorbell (SN_DOORBELL_TO_TENDER). The value is ignored. */
#define SN_HVT_KICK 3U
/* Set the %fs base (the guest's thread pointer); the value is the base, canonical. */
#define SN_HVT_SET_TLS 4U
/*
 * A CPU exception or `syscall` reached the guest's trap handler, which makes
 * this call first. Value: guest address of its struct sn_hvt_trap_frame. The
 * default helper ignores it (the guest goes on to report and abort);
 * solo5-helper-debug keeps the frame for the core and, under gdb, stops the
 * guest there and resumes it from the frame (docs/debugging.md).
 */
#define SN_HVT_TRAP 5U
#define SN_HVT_CALLS 6U

struct sn_hvt_puts {
    uint64_t addr; /* guest address of the bytes */
    uint64_t len;
};
SN_STATIC_ASSERT(sizeof(struct sn_hvt_puts) == 16, "hvt puts layout");

/*
 * A relative timeout rather than a deadline: the guest's monotonic clock is
 * the host's extrapolated by the TSC, and the two drift apart by up to the
 * host clock's NTP slew, so a deadline converted back to host time could
 * wake the guest early forever after. The guest computes what is left by its
 * own clock and re-checks it on return.
 */
struct sn_hvt_wait {
    uint64_t timeout_ns; /* in */
    uint32_t woken;      /* out: 1 if the doorbell rang (and was drained), else 0 */
    uint32_t reserved;
};
SN_STATIC_ASSERT(sizeof(struct sn_hvt_wait) == 16, "hvt wait layout");

/* What the guest's trap stubs save, lowest address first (vector 256 is a `syscall`, error its number). */
struct sn_hvt_trap_frame {
    uint64_t cr2;
    uint64_t rax, rbx, rcx, rdx, rsi, rdi, rbp;
    uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
    uint64_t vector, error;
    uint64_t rip, cs, rflags, rsp, ss;
};
SN_STATIC_ASSERT(sizeof(struct sn_hvt_trap_frame) == 23 * 8, "hvt trap frame layout");

#endif /* __ASSEMBLER__ */

#endif /* SN_HVT_ABI_H */
