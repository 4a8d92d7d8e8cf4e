/* bigwrite.c: one 16 KiB solo5_console_write (more than a pipe takes at once on some paths), then SUCCESS. */
#include "solo5.h"
#include "sn_printf.h"

#define LINES 256
#define LINE_LEN 64

/* In .bss rather than on the stack: the guest's stack is small and this app is about the console. */
static char text[LINES * LINE_LEN];

static void put_line(char *line, unsigned n)
{
    static const char head[] = "line ";
    unsigned i = 0;

    for (; head[i] != '\0'; i++)
        line[i] = head[i];
    line[i++] = (char)('0' + n / 100);
    line[i++] = (char)('0' + n / 10 % 10);
    line[i++] = (char)('0' + n % 10);
    line[i++] = ':';
    /* The padding makes each line the same length, so a lost or repeated chunk shows in the count. */
    while (i < LINE_LEN - 1)
        line[i++] = (char)('a' + (n + i) % 26);
    line[i] = '\n';
}

int solo5_app_main(const struct solo5_start_info *si)
{
    (void)si;
    for (unsigned n = 0; n < LINES; n++)
        put_line(&text[n * LINE_LEN], n);
    solo5_console_write(text, sizeof text);
    sn_puts("SUCCESS\n");
    return SOLO5_EXIT_SUCCESS;
}
