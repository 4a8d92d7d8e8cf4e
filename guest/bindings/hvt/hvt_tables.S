/* hvt_tables.S: the hvt guest's descriptor tables as static data: GDT, TSS, a 32-gate IDT, and their stacks. */

#include "sn_hvt_abi.h"

/*
 * Static, so that ring 0 only has to load them (hvt_start.S): no loops run
 * in ring 0 at boot. The fields that hold addresses split across several
 * parts (IDT gate offsets, the TSS base) come from symbols hvt.ld computes
 * at link time. Encodings: Intel SDM vol. 3A, 3.4.5 (segment descriptors),
 * 8.2.3 (64-bit TSS and its descriptor), 6.14.1 (64-bit IDT gates).
 *
 * The selectors are Linux's (sn_hvt_abi.h): PVM hosts run ring 3 on the
 * host's own user segments and expect them.
 */

#define TRAP_STACK_SIZE 4096
#define REPORT_STACK_SIZE 16384
#define TSS_SIZE 104
#ifdef S5H_IO_BITMAP
/* The Solo5-ABI hvt bindings' ring 3 reaches the tender's ports through an I/O permission bitmap (solo5hvt/s5h.h). */
#include "s5h.h"
#define TSS_LIMIT (TSS_SIZE + S5H_IOMAP_SIZE - 1)
#else
#define TSS_LIMIT (TSS_SIZE - 1)
#endif
/* Present, DPL 0, 64-bit interrupt gate; IST 1. */
#define GATE_TYPE 0x8e
#define GATE_IST 1

    /* Writable: ltr marks the TSS descriptor busy in the GDT. */
    .data
    .balign 16
hvt_gdt:
    .quad 0                     /* 0x00 null */
    .quad 0                     /* 0x08 unused (Linux: 32-bit kernel code) */
    .quad 0x00af9b000000ffff    /* 0x10 kernel code: present, DPL 0, 64-bit, accessed */
    .quad 0x00cf93000000ffff    /* 0x18 kernel data: present, DPL 0, writable, accessed */
    .quad 0                     /* 0x20 unused (Linux: 32-bit user code) */
    .quad 0x00cff3000000ffff    /* 0x28 user data: present, DPL 3, writable, accessed */
    .quad 0x00affb000000ffff    /* 0x30 user code: present, DPL 3, 64-bit, accessed */
    .quad 0                     /* 0x38 unused */
    /* 0x40: available 64-bit TSS, limit TSS_LIMIT (the TSS and its I/O bitmap, if any), base hvt_tss. */
    .word   TSS_LIMIT
    .word   HVT_TSS_BASE_0_15
    .byte   HVT_TSS_BASE_16_23
    .byte   0x89
    .byte   0
    .byte   HVT_TSS_BASE_24_31
    .long   HVT_TSS_BASE_32_63
    .long   0
hvt_gdt_end:

    .balign 16
    .globl hvt_tss
hvt_tss:
    .long   0
    .quad   hvt_trap_stack_top  /* rsp0 (unused: every gate has an IST) */
    .quad   0, 0                /* rsp1, rsp2 */
    .quad   0
    .quad   hvt_trap_stack_top  /* ist1 */
    .quad   0, 0, 0, 0, 0, 0    /* ist2-7 */
    .quad   0
    .word   0
    .word   TSS_SIZE            /* the I/O permission bitmap's offset: right after (past the limit: none) */
    .if . - hvt_tss != TSS_SIZE
    .error "64-bit TSS size"
    .endif
#ifdef S5H_IO_BITMAP
    .fill   S5H_IOMAP_CLOSED_BYTES, 1, 0xff
    .fill   S5H_IOMAP_OPEN_BYTES, 1, 0
    .byte   S5H_IOMAP_KICK_BYTE
    .byte   0xff
    .if . - hvt_tss != TSS_LIMIT + 1
    .error "I/O permission bitmap size"
    .endif
#endif

    .balign 8
    .globl hvt_gdtr
hvt_gdtr:
    .word   hvt_gdt_end - hvt_gdt - 1
    .quad   hvt_gdt
    .balign 8
    .globl hvt_idtr
hvt_idtr:
    .word   hvt_idt_end - hvt_idt - 1
    .quad   hvt_idt

    .section .rodata
    .balign 16
hvt_idt:
    .set vec, 0
    .rept 32
    .word   HVT_TRAP_STUBS_0_15 + 16 * vec
    .word   SN_HVT_SEL_KCODE
    .byte   GATE_IST
    .byte   GATE_TYPE
    .word   HVT_TRAP_STUBS_16_31
    .long   HVT_TRAP_STUBS_32_63
    .long   0
    .set vec, vec + 1
    .endr
hvt_idt_end:

    .bss
    .balign 16
    .globl hvt_trap_stack_top, hvt_report_stack_top
    .skip   TRAP_STACK_SIZE
hvt_trap_stack_top:
    .skip   REPORT_STACK_SIZE
hvt_report_stack_top:

    .section .note.GNU-stack, "", @progbits
