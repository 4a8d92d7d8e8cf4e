/* virtio_trap.c: the exception gates, and the one line a CPU exception ends the guest with. */
#include "virtio.h"

extern char virtio_trap_stubs[];
extern uint64_t virtio_idt[32 * 2];

/* One 16-byte interrupt gate per vector: present, ring 0, 64-bit interrupt gate, kernel code 0x08. */
void virtio_trap_init(void)
{
    for (uint64_t v = 0; v < 32; v++) {
        uint64_t at = (uint64_t)(uintptr_t)virtio_trap_stubs + v * 16;
        virtio_idt[2 * v] = (at & 0xffff) | (0x08ULL << 16) | (0x8eULL << 40) | ((at >> 16 & 0xffff) << 48);
        virtio_idt[2 * v + 1] = at >> 32;
    }
}

/* The stub's frame: vector, error code, then what the CPU pushed. */
struct trap_frame {
    uint64_t vector, error, rip, cs, rflags, rsp, ss;
};

void virtio_trap(const struct trap_frame *f) __attribute__((noreturn));

void virtio_trap(const struct trap_frame *f)
{
    uint64_t cr2;
    __asm__ volatile("mov %%cr2, %0" : "=r"(cr2));
    sn_log(SN_LOG_ERROR, "ABORT: trap: vector %lu, error 0x%lx, rip 0x%lx, rsp 0x%lx, cr2 0x%lx",
           (unsigned long)f->vector, (unsigned long)f->error, (unsigned long)f->rip, (unsigned long)f->rsp,
           (unsigned long)cr2);
    sn_platform_exit(SOLO5_EXIT_ABORT);
}
