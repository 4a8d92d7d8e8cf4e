/* hvt_traps.S: ring-0 entry stubs for CPU exceptions and `syscall`, which hand the state to hvt_trap() in ring 3. */

#include "hvt_ring3.h"

/*
 * Stub N sits at hvt_trap_stubs + 16 * N (IDT gate N, hvt_tables.S, points
 * there). The CPU pushes an error code for some vectors only; the others
 * push a zero so that every frame has one shape (struct hvt_trap_frame in
 * hvt.h). Every gate uses IST 1, so the stub runs on the trap stack whatever
 * %rsp was. The common path saves the registers and CR2 there and returns,
 * with iretq, to ring 3: to hvt_trap(frame) on a stack of its own. The
 * report is formatted in ring 3 because ring-0 code may be emulated one
 * instruction at a time (and without SSE) on PVM hosts; here in ring 0 only
 * moves, pushes and one iretq run.
 */

/* hvt_trap's vector for a `syscall`: not a CPU vector. */
#define VECTOR_SYSCALL 256

    .text
    .globl hvt_trap_stubs
    .type hvt_trap_stubs, @function
    /* 512-aligned: hvt.ld splits the address into the IDT's fields assuming no carry across stubs. */
    .balign 512
hvt_trap_stubs:
    .set vec, 0
    .rept 32
    .balign 16
    /* Vectors with a CPU-pushed error code: #DF, #TS, #NP, #SS, #GP, #PF, #AC, #CP, #VC, #SX. */
    .if (vec == 8) || ((vec >= 10) && (vec <= 14)) || (vec == 17) || (vec == 21) || (vec == 29) || (vec == 30)
    .else
    pushq   $0
    .endif
    pushq   $vec
    jmp     hvt_trap_common
    .set vec, vec + 1
    .endr
    .size hvt_trap_stubs, . - hvt_trap_stubs

/* Save the general registers in struct hvt_trap_frame order, below the vector. */
    .macro SAVE_REGISTERS
    pushq   %r15
    pushq   %r14
    pushq   %r13
    pushq   %r12
    pushq   %r11
    pushq   %r10
    pushq   %r9
    pushq   %r8
    pushq   %rbp
    pushq   %rdi
    pushq   %rsi
    pushq   %rdx
    pushq   %rcx
    pushq   %rbx
    pushq   %rax
    .endm

/*
 * An exception: the registers, then CR2 (the frame's lowest field). One
 * raised in ring 0 (the CS the CPU pushed, 24 bytes above the vector, has
 * RPL 0) is one in this stub's own path: the guest has rewritten its GDT or
 * TSS (writable data, docs/hvt.md), so the iretq to ring 3 faults. Going to
 * ring 3 again would fault again, for ever; end the guest from here
 * instead, with one line and status 255.
 */
hvt_trap_common:
    testb   $3, 24(%rsp)
    jz      ring0_fault
from_ring3:
    SAVE_REGISTERS
    movq    %cr2, %rax
    pushq   %rax
    jmp     to_ring3

/*
 * `syscall` from ring 3 (MSR_LSTAR, set in hvt_start.S): %rcx is the
 * caller's %rip, %r11 its flags, %rsp still its stack. Make the frame an
 * exception would (error code = the system call number in %rax) on the trap
 * stack; only %rsp has to be parked in memory to free a register. No
 * privileged instruction here: PVM hosts may run this entry in ring 3.
 */
    .globl hvt_syscall_entry
    .type hvt_syscall_entry, @function
hvt_syscall_entry:
    movq    %rsp, syscall_rsp(%rip)
    leaq    hvt_trap_stack_top(%rip), %rsp
    pushq   $SN_HVT_SEL_UDATA
    pushq   syscall_rsp(%rip)
    pushq   %r11
    pushq   $SN_HVT_SEL_UCODE
    pushq   %rcx
    pushq   %rax
    pushq   $VECTOR_SYSCALL
    SAVE_REGISTERS
    pushq   $0
    .size hvt_syscall_entry, . - hvt_syscall_entry
    /* Falls through. */

/* iretq to ring 3: hvt_trap(frame) on the report stack. */
to_ring3:
    movq    %rsp, %rdi
    leaq    hvt_report_stack_top(%rip), %rax
    pushq   $SN_HVT_SEL_UDATA
    pushq   %rax
    pushq   $HVT_USER_RFLAGS
    pushq   $SN_HVT_SEL_UCODE
    leaq    hvt_trap_user(%rip), %rax
    pushq   %rax
    iretq

/* Two stores to the hypercall page (slots and line from hvt_platform.c), which exit to the helper from any ring. */
    /* Weak: the Solo5-ABI hvt bindings (solo5hvt), which share this file, have no hypercall page and keep the old path. */
    .weak hvt_ring0_fault_puts
    .weak hvt_ring0_fault_slots
ring0_fault:
    leaq    hvt_ring0_fault_slots(%rip), %rcx
    testq   %rcx, %rcx
    jz      from_ring3
    leaq    hvt_ring0_fault_puts(%rip), %rax
    movq    hvt_ring0_fault_slots(%rip), %rcx
    movq    %rax, (%rcx)
    movq    $255, %rax
    movq    hvt_ring0_fault_slots + 8(%rip), %rcx
    movq    %rax, (%rcx)
1:  hlt
    jmp     1b

/* Ring 3, %rdi = the frame on the trap stack, %rsp = the report stack's 16-aligned top. */
hvt_trap_user:
    call    hvt_trap
    ud2

    .bss
    .balign 16
syscall_rsp:
    .quad 0

    .section .note.GNU-stack, "", @progbits
