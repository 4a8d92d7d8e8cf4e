/* hvt_trap.c: a CPU exception in an hvt guest: its name, the registers, then ABORT with status 255. */
#include "hvt.h"

/*
 * On spt Linux turns these into signals and the tender reports 128+N; an
 * hvt guest runs in ring 0 of its own machine, so the exception comes here
 * instead. It is always fatal: the register dump is for the person reading
 * the console, and the exit status is solo5_abort()'s.
 */

static const char *const names[32] = {
    [0] = "divide error",
    [1] = "debug",
    [2] = "non-maskable interrupt",
    [3] = "breakpoint",
    [4] = "overflow",
    [5] = "bound range exceeded",
    [6] = "invalid opcode",
    [7] = "device not available",
    [8] = "double fault",
    [9] = "coprocessor segment overrun",
    [10] = "invalid TSS",
    [11] = "segment not present",
    [12] = "stack-segment fault",
    [13] = "general protection",
    [14] = "page fault",
    [16] = "x87 floating-point error",
    [17] = "alignment check",
    [18] = "machine check",
    [19] = "SIMD floating-point exception",
    [20] = "virtualization exception",
    [21] = "control protection",
    [28] = "hypervisor injection",
    [29] = "VMM communication",
    [30] = "security exception",
};

#define VECTOR_PF 14U
#define VECTOR_SYSCALL 256U

void hvt_trap(const struct hvt_trap_frame *f)
{
    /*
     * First the helper's look: solo5-helper-debug stops here for gdb (a
     * breakpoint, a step) and may resume the guest from the frame, never
     * returning; the default helper returns at once.
     */
    hvt_hypercall(SN_HVT_TRAP, (uint64_t)(uintptr_t)f);

    /*
     * A fault while reporting one (a clobbered console buffer, say) comes
     * back here through the same stubs and would loop forever: the second
     * time, leave at once.
     */
    static int reporting;
    if (reporting)
        sn_platform_exit(SOLO5_EXIT_ABORT);
    reporting = 1;

    unsigned long v = (unsigned long)f->vector;
    const char *name = v < 32 && names[v] != NULL ? names[v] : "reserved vector";
    if (v == VECTOR_SYSCALL)
        sn_log(SN_LOG_ERROR, "trap: system call %lu at rip 0x%lx: an hvt guest cannot make system calls",
               (unsigned long)f->error, (unsigned long)f->rip);
    else if (v == VECTOR_PF)
        sn_log(SN_LOG_ERROR, "trap: %s (#%lu) at rip 0x%lx, rsp 0x%lx, error 0x%lx, cr2 0x%lx", name, v,
               (unsigned long)f->rip, (unsigned long)f->rsp, (unsigned long)f->error, (unsigned long)f->cr2);
    else
        sn_log(SN_LOG_ERROR, "trap: %s (#%lu) at rip 0x%lx, rsp 0x%lx, error 0x%lx", name, v,
               (unsigned long)f->rip, (unsigned long)f->rsp, (unsigned long)f->error);
    sn_log(SN_LOG_ERROR, "  rax 0x%016lx rbx 0x%016lx rcx 0x%016lx rdx 0x%016lx", (unsigned long)f->rax,
           (unsigned long)f->rbx, (unsigned long)f->rcx, (unsigned long)f->rdx);
    sn_log(SN_LOG_ERROR, "  rsi 0x%016lx rdi 0x%016lx rbp 0x%016lx rsp 0x%016lx", (unsigned long)f->rsi,
           (unsigned long)f->rdi, (unsigned long)f->rbp, (unsigned long)f->rsp);
    sn_log(SN_LOG_ERROR, "  r8  0x%016lx r9  0x%016lx r10 0x%016lx r11 0x%016lx", (unsigned long)f->r8,
           (unsigned long)f->r9, (unsigned long)f->r10, (unsigned long)f->r11);
    sn_log(SN_LOG_ERROR, "  r12 0x%016lx r13 0x%016lx r14 0x%016lx r15 0x%016lx", (unsigned long)f->r12,
           (unsigned long)f->r13, (unsigned long)f->r14, (unsigned long)f->r15);
    sn_log(SN_LOG_ERROR, "  rip 0x%016lx rflags 0x%08lx cs 0x%lx ss 0x%lx", (unsigned long)f->rip,
           (unsigned long)f->rflags, (unsigned long)f->cs, (unsigned long)f->ss);
    if (v == VECTOR_SYSCALL)
        sn_log(SN_LOG_ERROR, "ABORT: system call from the guest");
    else
        sn_log(SN_LOG_ERROR, "ABORT: unhandled CPU exception: %s", name);
    sn_platform_exit(SOLO5_EXIT_ABORT);
}
