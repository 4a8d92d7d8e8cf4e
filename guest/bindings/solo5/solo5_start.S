/* solo5_start.S: the ELF entry point of a Solo5-ABI spt unikernel; hands the boot info to C on an aligned stack. */

/*
 * Upstream's tender jumps here with (include/sn_solo5.h):
 *   %rsp = mem_size - 8 (as at a function's entry: %rsp + 8 is 16-aligned)
 *   %rdi = SN_SOLO5_BOOT_INFO_BASE, the boot info
 * and nothing else set up (%fs still holds the tender's TLS). The stack is
 * aligned for a call here rather than trusted, and %rbp is zeroed to end
 * any stack walk; %rdi passes straight through to solo5_boot.
 */

    .text
    .globl _start
    .type _start, @function
_start:
    xorl    %ebp, %ebp
    andq    $-16, %rsp
    call    solo5_boot
    /* solo5_boot never returns; if it somehow did, fault rather than run on. */
    ud2
    .size _start, . - _start

/* This object needs no executable stack; say so, or ld assumes one. */
    .section .note.GNU-stack, "", @progbits
