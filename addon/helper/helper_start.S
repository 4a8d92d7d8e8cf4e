/* helper_start.S: the helper's process entry and its final jump into the guest. */

    .text
    .globl _start
    .type _start, @function
/*
 * The kernel enters with %rsp pointing at argc, argv[] after it, and 16-byte
 * aligned; helper_main gets that pointer (argv says whether the helper was
 * exec'd in place of the tender; the environment is never read). Clear the
 * frame pointer so that backtraces end here, and call helper_main (which
 * never returns).
 */
_start:
    xor %ebp, %ebp
    mov %rsp, %rdi
    and $-16, %rsp
    call helper_main
    ud2
    .size _start, . - _start

/*
 * void helper_jump(uint64_t entry, uint64_t stack_top, uint64_t bootinfo)
 *
 * Enter the guest with %rsp = stack_top (16-byte aligned, no return address
 * pushed, as for an ELF process entry), %rdi = bootinfo and every other
 * general register zero, so that nothing of the helper's state reaches the
 * guest. The target address is kept in memory for the same reason.
 */
    .globl helper_jump
    .type helper_jump, @function
helper_jump:
    mov %rdi, jump_target(%rip)
    mov %rsi, %rsp
    mov %rdx, %rdi
    xor %eax, %eax
    xor %ebx, %ebx
    xor %ecx, %ecx
    xor %edx, %edx
    xor %esi, %esi
    xor %ebp, %ebp
    xor %r8d, %r8d
    xor %r9d, %r9d
    xor %r10d, %r10d
    xor %r11d, %r11d
    xor %r12d, %r12d
    xor %r13d, %r13d
    xor %r14d, %r14d
    xor %r15d, %r15d
    jmp *jump_target(%rip)
    .size helper_jump, . - helper_jump

    .bss
    .balign 8
jump_target:
    .quad 0

    .section .note.GNU-stack, "", @progbits
