/* s5h_start.S: the entry of a Solo5-ABI hvt unikernel (ring-0 set-up, then ring 3) and the ring-0 gate to the ports. */

#include "hvt_ring3.h"
#include "s5h.h"

/*
 * Upstream's tender starts the vCPU here (include/sn_solo5_hvt.h): ring 0,
 * 64-bit mode, its own GDT and page tables (no user bit), no IDT,
 * %rsp = mem_size - 8, %rdi = the boot info. Every instruction here is
 * emulated on a PVM host, so this is straight-line code over static
 * tables: the GDT and TSS of the ring-ABI hvt bindings (hvt/hvt_tables.S),
 * an IDT of their trap stubs (hvt/hvt_traps.S) but for #GP, the gate below, this
 * bindings' boot page tables (s5h_pagetables.S: all of the first 4 GiB with
 * the user bit; s5h_boot.c replaces them from ring 3), then iretq
 * to ring 3. EFER.SCE stays clear, as upstream leaves it: an application's
 * `syscall` is #UD, reported as a trap, as under upstream's bindings. PVM
 * hosts ignore SCE and jump to LSTAR in ring 3, so LSTAR names the ring-ABI
 * bindings' report of a system call (hvt/hvt_traps.S), which runs there.
 */

#define MSR_LSTAR 0xc0000082
#define MSR_FS_BASE 0xc0000100
/* Present, DPL 0, 64-bit interrupt gates on IST 1 (the trap stack). */
#define GATE_TRAP 0x8e
#define GATE_IST 1
#define VECTOR_GP 13

    .text
    .globl _start
    .type _start, @function
_start:
    lgdt    hvt_gdtr(%rip)
    lidt    s5h_idtr(%rip)
    movw    $SN_HVT_SEL_TSS, %ax
    ltr     %ax
    leaq    s5h_boot_pml4(%rip), %rax
    movq    %rax, %cr3
    /* See above: where a PVM host sends an application's `syscall` despite EFER.SCE. */
    movl    $MSR_LSTAR, %ecx
    leaq    hvt_syscall_entry(%rip), %rax
    movq    %rax, %rdx
    shrq    $32, %rdx
    wrmsr
    /* iretq to ring 3 at s5h_user_start, on the tender's stack, %rdi untouched; IOPL 0: port I/O is what the TSS's bitmap opens. */
    HVT_TO_RING3 s5h_user_start
    .size _start, . - _start

    .type s5h_user_start, @function
s5h_user_start:
    xorl    %ebp, %ebp
    call    s5h_boot
    ud2
    .size s5h_user_start, . - s5h_user_start

/*
 * The gate: #GP lands here in ring 0 on the trap stack (IST 1), with the
 * error code, RIP, CS, RFLAGS, RSP and SS pushed. Ring 3 executes `outl`
 * and `wrmsr` itself (s5h.h); `wrmsr`, and `outl` to a port the TSS's I/O
 * bitmap does not open, #GP there (IOPL 0, CPL 3), and this redoes them
 * in ring 0 and returns past them: `outl %eax, (%dx)` (0xef)
 * to any port, as upstream's ring-0 guest could (counted in s5h_gp_outs), and `wrmsr` (0x0f 0x30)
 * of IA32_FS_BASE only, followed by a load of CR3 from s5h_cr3 (how
 * s5h_boot.c switches to its final page tables; a TLB flush otherwise). Every other #GP goes to the trap stub,
 * which reports it. (Neither `syscall` nor `int $n` can be the gate: on PVM
 * hosts the first enters its target in ring 3 and the second raises #UD.)
 * The outl path is ten instructions, each emulated on PVM hosts.
 */
    .globl s5h_gp
    .type s5h_gp, @function
    .balign 16
s5h_gp:
    pushq   %rcx
    movq    16(%rsp), %rcx
    cmpb    $0xef, (%rcx)
    jne     1f
    outl    %eax, %dx
    incq    s5h_gp_outs(%rip)
    incq    16(%rsp)
2:  popq    %rcx
    addq    $8, %rsp
    iretq
1:  cmpw    $0x300f, (%rcx)
    jne     3f
    movq    (%rsp), %rcx
    cmpl    $MSR_FS_BASE, %ecx
    jne     3f
    wrmsr
    movq    s5h_cr3(%rip), %rcx
    movq    %rcx, %cr3
    addq    $2, 16(%rsp)
    jmp     2b
3:  popq    %rcx
    jmp     hvt_trap_stubs + 16 * VECTOR_GP
    .size s5h_gp, . - s5h_gp

/* Gates 0-31 point at the trap stubs but #GP's at s5h_gp; the address pieces come from the linker scripts. */
    .data
    .balign 8
    .globl s5h_gp_outs
s5h_gp_outs:
    .quad   0

    .section .rodata
    .balign 16
s5h_idt:
    .set vec, 0
    .rept 32
    .if vec == VECTOR_GP
    .word   S5H_GP_0_15
    .word   SN_HVT_SEL_KCODE
    .byte   GATE_IST
    .byte   GATE_TRAP
    .word   S5H_GP_16_31
    .long   S5H_GP_32_63
    .else
    .word   HVT_TRAP_STUBS_0_15 + 16 * vec
    .word   SN_HVT_SEL_KCODE
    .byte   GATE_IST
    .byte   GATE_TRAP
    .word   HVT_TRAP_STUBS_16_31
    .long   HVT_TRAP_STUBS_32_63
    .endif
    .long   0
    .set vec, vec + 1
    .endr
s5h_idt_end:

    .balign 8
s5h_idtr:
    .word   s5h_idt_end - s5h_idt - 1
    .quad   s5h_idt

    .section .note.GNU-stack, "", @progbits
