/* spt_start.S: the ELF entry point of an spt unikernel; hands the boot info to C on an aligned stack. */

/*
 * The helper jumps here as its last act (see include/sn_abi.h):
 *   %rsp = top of guest memory, 16-byte aligned
 *   %rdi = address of struct sn_bootinfo
 * Nothing else is set up. The stack is aligned again anyway, so that a
 * tender bug shows up as a bad boot info rather than as SSE instructions
 * faulting on a misaligned stack, and %rbp is zeroed to end any stack walk.
 * %rdi passes straight through as spt_boot's first argument.
 */

    .text
    .globl _start
    .type _start, @function
_start:
    xorl    %ebp, %ebp
    andq    $-16, %rsp
    call    spt_boot
    /* spt_boot never returns; if it somehow did, fault rather than run on. */
    ud2
    .size _start, . - _start

/* This object needs no executable stack; say so, or ld assumes one. */
    .section .note.GNU-stack, "", @progbits
