/* hello.c: the smallest useful unikernel: a greeting, its command line, then SUCCESS. */
#include "solo5.h"
#include "sn_printf.h"

/*
 * Only the public API is used for the output itself, so that this file also
 * shows what a Solo5 application needs at the very least; sn_puts is a
 * convenience wrapper over solo5_console_write.
 */
static void say(const char *s)
{
    size_t n = 0;

    while (s[n] != '\0')
        n++;
    solo5_console_write(s, n);
}

int solo5_app_main(const struct solo5_start_info *si)
{
    say("Hello, World\n");
    say("Command line is: '");
    say(si->cmdline);
    say("'\n");
    sn_puts("SUCCESS\n");
    return SOLO5_EXIT_SUCCESS;
}
