/* virtio_platform.c: console on COM1, TLS through FS_BASE, and the end of the guest through QEMU's isa-debug-exit. */
#include "virtio.h"

#define COM1 0x3f8
#define COM_THR 0
#define COM_IER 1
#define COM_FCR 2
#define COM_LCR 3
#define COM_MCR 4
#define COM_LSR 5
#define LSR_THR_EMPTY 0x20
#define MSR_FS_BASE 0xc0000100

static int com1_ready;

/* 115200 8N1, FIFOs on, no interrupts; the first console write does it. */
static void com1_init(void)
{
    outb(COM1 + COM_IER, 0);
    outb(COM1 + COM_LCR, 0x80);
    outb(COM1 + COM_THR, 1);
    outb(COM1 + COM_IER, 0);
    outb(COM1 + COM_LCR, 0x03);
    outb(COM1 + COM_FCR, 0xc7);
    outb(COM1 + COM_MCR, 0x03);
    com1_ready = 1;
}

/*
 * Bytes go out as they are, with no \r added, so that a run's output is the
 * same bytes on every target. Without a UART the status register reads as
 * all ones, so the wait ends at once and nothing hangs.
 */
void solo5_console_write(const char *buf, size_t size)
{
    if (!com1_ready)
        com1_init();
    for (size_t i = 0; i < size; i++) {
        for (int spins = 0; spins < 100000 && !(inb(COM1 + COM_LSR) & LSR_THR_EMPTY); spins++)
            __asm__ volatile("pause");
        outb(COM1 + COM_THR, (uint8_t)buf[i]);
    }
}

solo5_result_t solo5_set_tls_base(uintptr_t base)
{
    /* A non-canonical base would fault in wrmsr: refuse it as the other targets do. */
    if ((uint64_t)((int64_t)(base << 16) >> 16) != base)
        return SOLO5_R_EINVAL;
    __asm__ volatile("wrmsr" : : "c"(MSR_FS_BASE), "a"((uint32_t)base), "d"((uint32_t)(base >> 32)));
    return SOLO5_R_OK;
}

/*
 * The status is on the console already (solo5_exit's line, which
 * solo5-virtio-run reads back); QEMU's isa-debug-exit then ends the VM with
 * 83, as with Solo5's own virtio bindings, so that either's runner reads
 * either's kernels alike. Without that device (another hypervisor), the
 * guest halts for good with interrupts off.
 */
void sn_platform_exit(int status)
{
    (void)status;
    outw(VIRTIO_DEBUG_EXIT_PORT, VIRTIO_DEBUG_EXIT_VALUE);
    for (;;)
        __asm__ volatile("cli; hlt");
}

void solo5_exit(int status)
{
    sn_log(SN_LOG_INFO, "solo5_exit(%d) called", status);
    sn_platform_exit(status);
}

void solo5_abort(void)
{
    sn_log(SN_LOG_ERROR, "ABORT: solo5_abort() called");
    sn_platform_exit(SOLO5_EXIT_ABORT);
}
