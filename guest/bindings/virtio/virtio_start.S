/* virtio_start.S: the Multiboot entry of a virtio unikernel: header, 32-bit start, identity paging, long mode, exception stubs. */

/*
 * A Multiboot (version 0.6.96) loader -- QEMU's -kernel, GRUB, syslinux's
 * mboot.c32 -- finds the header below in the first 8 KiB of the file. The
 * image is ELF64, which Multiboot loaders do not parse, so the header sets
 * the "address fields valid" flag (bit 16) and says itself where the image
 * goes: the file from the header's offset minus (header_addr - load_addr)
 * is copied to load_addr up to load_end_addr, and zeroed up to
 * bss_end_addr. virtio.ld keeps file offsets and addresses in step for
 * that. The loader enters at entry_addr in 32-bit protected mode, paging
 * off, %eax = 0x2badb002 and %ebx = the Multiboot information.
 */

#define MB_MAGIC 0x1badb002
/* Bit 0: modules page-aligned; bit 1: memory information wanted; bit 16: the address fields. */
#define MB_FLAGS 0x00010003
#define MB_BOOT_MAGIC 0x2badb002

#define CR0_MP (1 << 1)
#define CR0_EM (1 << 2)
#define CR0_PE (1 << 0)
#define CR0_PG (1 << 31)
#define CR4_PAE (1 << 5)
#define CR4_OSFXSR (1 << 9)
#define CR4_OSXMMEXCPT (1 << 10)
#define MSR_EFER 0xc0000080
#define EFER_LME (1 << 8)
/* Page-table entries: present, writable, and (in a page directory) a 2 MiB page. */
#define PTE_PW 0x3
#define PDE_2M 0x83

    .section .text.boot, "ax"
    .code32
    .align 4
    .globl virtio_multiboot_header
virtio_multiboot_header:
    .long MB_MAGIC
    .long MB_FLAGS
    .long -(MB_MAGIC + MB_FLAGS)
    .long virtio_multiboot_header /* header_addr */
    .long __sn_text_start          /* load_addr */
    .long _edata                   /* load_end_addr */
    .long _end                     /* bss_end_addr */
    .long _start                   /* entry_addr */

    .globl _start
    .type _start, @function
_start:
    cli
    cld
    /* Not started by a Multiboot loader: there is nowhere to say so; stop. */
    cmpl    $MB_BOOT_MAGIC, %eax
    jne     1f
    movl    %ebx, %esi
    lgdt    virtio_gdtr32
    movl    %cr4, %eax
    orl     $(CR4_PAE | CR4_OSFXSR | CR4_OSXMMEXCPT), %eax
    movl    %eax, %cr4
    movl    $virtio_pml4, %eax
    movl    %eax, %cr3
    movl    $MSR_EFER, %ecx
    rdmsr
    orl     $EFER_LME, %eax
    wrmsr
    /* Paging on, with the FPU and SSE usable (the compiler emits SSE in ordinary code). */
    movl    %cr0, %eax
    andl    $~CR0_EM, %eax
    orl     $(CR0_PG | CR0_PE | CR0_MP), %eax
    movl    %eax, %cr0
    ljmp    $0x08, $virtio_long
1:  hlt
    jmp     1b
    .size _start, . - _start

    .code64
    .type virtio_long, @function
virtio_long:
    movl    $0x10, %eax
    movl    %eax, %ds
    movl    %eax, %es
    movl    %eax, %ss
    xorl    %eax, %eax
    movl    %eax, %fs
    movl    %eax, %gs
    lidt    virtio_idtr(%rip)
    fninit
    leaq    virtio_boot_stack_top(%rip), %rsp
    xorl    %ebp, %ebp
    /* The upper half of a register is undefined after the switch: the Multiboot pointer is 32 bits. */
    movl    %esi, %edi
    call    virtio_boot
    ud2
    .size virtio_long, . - virtio_long

/* virtio_run_on(stack_top, fn): calls fn() on the given stack; fn never returns. */
    .text
    .globl virtio_run_on
    .type virtio_run_on, @function
virtio_run_on:
    movq    %rdi, %rsp
    andq    $-16, %rsp
    xorl    %ebp, %ebp
    call    *%rsi
    ud2
    .size virtio_run_on, . - virtio_run_on

/*
 * Exception stubs: each pushes a zero where the CPU pushes no error code,
 * then its vector, and joins virtio_trap_common, which passes the saved
 * frame to virtio_trap() (virtio_trap.c; it never returns). Interrupts stay
 * disabled for the guest's whole life, so only the 32 exceptions have gates.
 */
.macro TRAP vec, err
    .align 16
    .if \err == 0
    pushq   $0
    .endif
    pushq   $\vec
    jmp     virtio_trap_common
.endm

    .align 16
    .globl virtio_trap_stubs
virtio_trap_stubs:
    TRAP 0, 0
    TRAP 1, 0
    TRAP 2, 0
    TRAP 3, 0
    TRAP 4, 0
    TRAP 5, 0
    TRAP 6, 0
    TRAP 7, 0
    TRAP 8, 1
    TRAP 9, 0
    TRAP 10, 1
    TRAP 11, 1
    TRAP 12, 1
    TRAP 13, 1
    TRAP 14, 1
    TRAP 15, 0
    TRAP 16, 0
    TRAP 17, 1
    TRAP 18, 0
    TRAP 19, 0
    TRAP 20, 0
    TRAP 21, 1
    TRAP 22, 0
    TRAP 23, 0
    TRAP 24, 0
    TRAP 25, 0
    TRAP 26, 0
    TRAP 27, 0
    TRAP 28, 0
    TRAP 29, 1
    TRAP 30, 1
    TRAP 31, 0

virtio_trap_common:
    /* The frame: vector, error code, then the CPU's rip, cs, rflags, rsp, ss. */
    movq    %rsp, %rdi
    andq    $-16, %rsp
    call    virtio_trap
    ud2

    .data
    .align 16
/* Null, 64-bit code (0x08), data (0x10). */
virtio_gdt:
    .quad 0
    .quad 0x00af9a000000ffff
    .quad 0x00cf92000000ffff
virtio_gdt_end:
virtio_gdtr32:
    .word virtio_gdt_end - virtio_gdt - 1
    .long virtio_gdt

    .align 16
virtio_idtr:
    .word 32 * 16 - 1
    .quad virtio_idt

/*
 * The first 4 GiB identity-mapped with 2 MiB pages: what a Multiboot loader
 * can have put the image, its information and the memory it reports in.
 */
    .align 4096
virtio_pml4:
    .quad virtio_pdpt + PTE_PW
    .fill 511, 8, 0
virtio_pdpt:
    .quad virtio_pd + PTE_PW
    .quad virtio_pd + 0x1000 + PTE_PW
    .quad virtio_pd + 0x2000 + PTE_PW
    .quad virtio_pd + 0x3000 + PTE_PW
    .fill 508, 8, 0
virtio_pd:
    .set page, 0
    .rept 2048
    .quad (page << 21) + PDE_2M
    .set page, page + 1
    .endr

    .bss
    .align 16
    .globl virtio_idt
virtio_idt:
    .skip 32 * 16
    .align 16
virtio_boot_stack:
    .skip 16384
virtio_boot_stack_top:

    .section .note.GNU-stack, "", @progbits
