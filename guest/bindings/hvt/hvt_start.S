/* hvt_start.S: the ELF entry of an hvt unikernel: load the guest's tables in ring 0, then drop to ring 3. */

#include "hvt_ring3.h"

/*
 * The helper starts the vCPU here in ring 0, 64-bit mode (sn_hvt_abi.h):
 *   %rsp = top of guest memory, %rdi = address of struct sn_bootinfo,
 * with no GDT or IDT loaded. These few instructions are all the guest runs
 * in ring 0 (apart from the exception stubs): on a PVM host every one of
 * them is emulated, so there are as few as possible and no loops. The
 * tables themselves are static data (hvt_tables.S).
 */

#define MSR_STAR 0xc0000081
#define MSR_LSTAR 0xc0000082
#define MSR_FMASK 0xc0000084
/* Flags cleared on `syscall`: TF, IF, DF, IOPL, NT, AC. */
#define SYSCALL_FMASK 0x47700
/* STAR: the kernel CS (SS is CS + 8) at bits 32-47; sysret's base (0x23 gives 0x33/0x2b) at 48-63. */
#define STAR_HIGH ((0x23 << 16) | SN_HVT_SEL_KCODE)

    .text
    .globl _start
    .type _start, @function
_start:
    lgdt    hvt_gdtr(%rip)
    lidt    hvt_idtr(%rip)
    movw    $SN_HVT_SEL_TSS, %ax
    ltr     %ax
    /* `syscall` goes to a stub that reports it: a guest has no system calls (hvt_traps.S). */
    movl    $MSR_LSTAR, %ecx
    leaq    hvt_syscall_entry(%rip), %rax
    movq    %rax, %rdx
    shrq    $32, %rdx
    wrmsr
    movl    $MSR_STAR, %ecx
    xorl    %eax, %eax
    movl    $STAR_HIGH, %edx
    wrmsr
    movl    $MSR_FMASK, %ecx
    movl    $SYSCALL_FMASK, %eax
    xorl    %edx, %edx
    wrmsr
    /* iretq to ring 3 at hvt_user_start, same stack, %rdi untouched. */
    HVT_TO_RING3 hvt_user_start
    .size _start, . - _start

/* Ring 3 from here on. A call, so that hvt_boot finds the stack aligned as the ABI requires. */
    .type hvt_user_start, @function
hvt_user_start:
    xorl    %ebp, %ebp
    call    hvt_boot
    ud2
    .size hvt_user_start, . - hvt_user_start

    .section .note.GNU-stack, "", @progbits
