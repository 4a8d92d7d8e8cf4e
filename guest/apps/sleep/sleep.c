/* sleep.c: prints READY, sleeps for the milliseconds on its command line, prints SUCCESS (for isolation tests). */
#include "solo5.h"
#include "sn_printf.h"

static unsigned long parse_ms(const char *s)
{
    unsigned long v = 0;
    while (*s >= '0' && *s <= '9')
        v = v * 10 + (unsigned long)(*s++ - '0');
    return v ? v : 1000;
}

int solo5_app_main(const struct solo5_start_info *si)
{
    unsigned long ms = parse_ms(si->cmdline);
    sn_printf("READY\n");
    solo5_time_t deadline = solo5_clock_monotonic() + (solo5_time_t)ms * 1000000ULL;
    while (solo5_clock_monotonic() < deadline)
        solo5_yield(deadline, NULL);
    sn_printf("SUCCESS\n");
    return SOLO5_EXIT_SUCCESS;
}
