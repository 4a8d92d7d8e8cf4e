/* hvt_ring3.h: the assembler macro that leaves ring 0 for ring 3, shared by the hvt entry code of both ABIs. */
#ifndef SN_HVT_RING3_H
#define SN_HVT_RING3_H

#include "sn_hvt_abi.h"

/* Ring 3 starts with IF set (no interrupt source exists) and IOPL 0. */
#define HVT_USER_RFLAGS 0x202

#ifdef __ASSEMBLER__
/* Assembler, not C: */
/* clang-format off */
/*
 * iretq to ring 3 at `target` on the current stack, 16-byte aligned (the
 * target calls into C); every register but %rsp and %rax is passed through.
 */
.macro HVT_TO_RING3 target
    andq    $-16, %rsp
    movq    %rsp, %rax
    pushq   $SN_HVT_SEL_UDATA
    pushq   %rax
    pushq   $HVT_USER_RFLAGS
    pushq   $SN_HVT_SEL_UCODE
    leaq    \target(%rip), %rax
    pushq   %rax
    iretq
.endm
/* clang-format on */
#endif

#endif /* SN_HVT_RING3_H */
