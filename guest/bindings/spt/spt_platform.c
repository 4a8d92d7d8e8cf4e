/* spt_platform.c: console, clocks, TLS and exit for spt (both ABIs), each one allowed system call. */
#include "bindings.h"
#include "spt_sys.h"

void solo5_console_write(const char *buf, size_t size)
{
    /*
     * A pipe may take less than asked; keep going. Any other failure (the
     * tender closed its end) leaves nowhere to report to, so the rest of
     * the output is dropped rather than retried forever.
     */
    while (size > 0) {
        long n = spt_syscall3(SPT_SYS_WRITE, spt_console_fd, (long)buf, (long)size);
        if (n == -SPT_EINTR)
            continue;
        if (n <= 0)
            return;
        buf += n;
        size -= (size_t)n;
    }
}

static solo5_time_t clock_ns(int clock)
{
    struct spt_timespec ts;

    /*
     * The only failures are a bad clock id or pointer, neither possible
     * here; a zero time is better than an abort should it happen anyway.
     */
    if (spt_syscall2(SPT_SYS_CLOCK_GETTIME, clock, (long)&ts) != 0)
        return 0;
    return (solo5_time_t)ts.tv_sec * 1000000000ULL + (solo5_time_t)ts.tv_nsec;
}

solo5_time_t solo5_clock_monotonic(void)
{
    return clock_ns(SPT_CLOCK_MONOTONIC);
}

solo5_time_t solo5_clock_wall(void)
{
    return clock_ns(SPT_CLOCK_REALTIME);
}

solo5_result_t solo5_set_tls_base(uintptr_t base)
{
    /* The kernel refuses non-canonical addresses with EPERM. */
    if (spt_syscall2(SPT_SYS_ARCH_PRCTL, SPT_ARCH_SET_FS, (long)base) != 0)
        return SOLO5_R_EINVAL;
    return SOLO5_R_OK;
}

void spt_bad_bootinfo(const char *why)
{
    /*
     * Nothing can be trusted yet, not even a console fd the boot info
     * names, and log levels are not set: this goes to the fixed console fd
     * (1 on both spt ABIs) and is always printed.
     */
    static const char head[] = "Solo5: ABORT: bad boot info: ";
    spt_syscall3(SPT_SYS_WRITE, SN_FD_CONSOLE, (long)head, sizeof head - 1);
    spt_syscall3(SPT_SYS_WRITE, SN_FD_CONSOLE, (long)why, (long)strlen(why));
    spt_syscall3(SPT_SYS_WRITE, SN_FD_CONSOLE, (long)"\n", 1);
    spt_exit_group(SOLO5_EXIT_ABORT);
}

void sn_platform_exit(int status)
{
    spt_exit_group(status);
}
