/* exitcode.c: exits with the status given on its command line, to test how the tender reports it. */
#include "solo5.h"
#include "sn_printf.h"

/* Parses an optionally negative decimal integer; anything else yields `fallback`. */
static int parse_int(const char *s, int fallback)
{
    int neg = 0;
    long v = 0;

    while (*s == ' ')
        s++;
    if (*s == '-') {
        neg = 1;
        s++;
    }
    if (*s < '0' || *s > '9')
        return fallback;
    for (; *s >= '0' && *s <= '9'; s++) {
        v = v * 10 + (*s - '0');
        if (v > 0x7fffffffL)
            return fallback;
    }
    while (*s == ' ')
        s++;
    if (*s != '\0')
        return fallback;
    return (int)(neg ? -v : v);
}

int solo5_app_main(const struct solo5_start_info *si)
{
    /* 2 for a command line that is not a number: distinct from any likely test value. */
    int status = parse_int(si->cmdline, 2);

    sn_printf("exitcode: exiting with %d\n", status);
    solo5_exit(status);
}
