/* log.c: the bindings' own console lines, prefixed "Solo5: " and filtered by --solo5:LEVEL. */
#include "bindings.h"

/*
 * Info is the default so that a plain run shows the banner and the exit
 * status, as users of Solo5 tenders expect; --solo5:quiet silences the
 * bindings entirely while leaving the application's output alone.
 */
int sn_log_level = SN_LOG_INFO;

void sn_log(int level, const char *fmt, ...)
{
    static const char prefix[] = "Solo5: ";
    char line[256];
    va_list ap;

    if (level > sn_log_level || level <= SN_LOG_QUIET)
        return;

    /*
     * One console write per line, so that the line reaches the tender in one
     * piece even when the application writes from elsewhere in between.
     */
    size_t plen = sizeof prefix - 1;
    memcpy(line, prefix, plen);
    va_start(ap, fmt);
    int n = sn_vsnprintf(line + plen, sizeof line - plen - 1, fmt, ap);
    va_end(ap);
    size_t len = plen + ((size_t)n < sizeof line - plen - 1 ? (size_t)n : sizeof line - plen - 2);
    line[len++] = '\n';
    solo5_console_write(line, len);
}

void sn_log_image(uint64_t mem_size)
{
    sn_log(SN_LOG_INFO, "memory map: %lu MB addressable", (unsigned long)(mem_size >> 20));
    sn_log(SN_LOG_INFO, "    text @ (0x%08lx - 0x%08lx)", (unsigned long)(uintptr_t)__sn_text_start,
           (unsigned long)(uintptr_t)_etext - 1);
    sn_log(SN_LOG_INFO, "  rodata @ (0x%08lx - 0x%08lx)", (unsigned long)(uintptr_t)__sn_rodata_start,
           (unsigned long)(uintptr_t)_erodata - 1);
    sn_log(SN_LOG_INFO, "    data @ (0x%08lx - 0x%08lx)", (unsigned long)(uintptr_t)__sn_data_start,
           (unsigned long)(uintptr_t)_end - 1);
}

static const struct {
    const char *name;
    int level;
} levels[] = {
    { "quiet", SN_LOG_QUIET }, { "error", SN_LOG_ERROR }, { "warn", SN_LOG_WARN },
    { "info", SN_LOG_INFO },   { "debug", SN_LOG_DEBUG },
};

static int is_space(char c)
{
    return c == ' ' || c == '\t';
}

/* Length of the word at `s` (up to the next space or the end). */
static size_t word_len(const char *s)
{
    size_t n = 0;

    while (s[n] != '\0' && !is_space(s[n]))
        n++;
    return n;
}

const char *sn_cmdline_parse(const char *cmdline)
{
    static const char opt[] = "--solo5:";
    const size_t optlen = sizeof opt - 1;
    const char *p = cmdline;

    /*
     * Options are consumed first and reported afterwards, so that a later
     * --solo5:quiet also silences the warning about an earlier bad option.
     */
    const char *unknown = NULL;
    size_t unknown_len = 0;

    for (;;) {
        while (is_space(*p))
            p++;
        if (strncmp(p, opt, optlen) != 0)
            break;
        size_t n = word_len(p);
        size_t i;
        for (i = 0; i < sizeof levels / sizeof levels[0]; i++) {
            if (n - optlen == strlen(levels[i].name) && strncmp(p + optlen, levels[i].name, n - optlen) == 0)
                break;
        }
        if (i < sizeof levels / sizeof levels[0]) {
            sn_log_level = levels[i].level;
        } else if (unknown == NULL) {
            unknown = p;
            unknown_len = n;
        }
        p += n;
    }
    if (unknown != NULL)
        sn_log(SN_LOG_WARN, "ignoring unknown option %.*s", (int)unknown_len, unknown);
    return p;
}
