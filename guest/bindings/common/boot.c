/* boot.c: the target-independent start-up sequence, from checked boot info to solo5_app_main. */
#include "bindings.h"

/*
 * Where the tender placed the command line is checked like the manifest copy:
 * inside its reserved window and NUL-terminated there. Anything else is
 * treated as an empty command line rather than read past its end.
 */
static const char *checked_cmdline(const struct sn_bootinfo *bi)
{
    uint64_t addr = bi->cmdline;

    if (addr < SN_CMDLINE_ADDR || addr >= SN_CMDLINE_ADDR + SN_CMDLINE_MAX)
        return NULL;
    const char *s = (const char *)(uintptr_t)addr;
    size_t room = (size_t)(SN_CMDLINE_ADDR + SN_CMDLINE_MAX - addr);
    if (strnlen(s, room) == room)
        return NULL;
    return s;
}

void sn_boot(const struct sn_bootinfo *bi, const char *target_name)
{
    struct solo5_start_info si;
    const char *raw = checked_cmdline(bi);

    /* Options first: they decide whether the banner is printed at all. */
    si.cmdline = sn_cmdline_parse(raw != NULL ? raw : "");

    sn_log(SN_LOG_INFO, "solo5-node bindings " SN_BINDINGS_VERSION " (%s)", target_name);
    if (raw == NULL)
        sn_log(SN_LOG_WARN, "command line at 0x%lx is out of place; using an empty one",
               (unsigned long)bi->cmdline);
    sn_memmap_init(bi, &si);
    sn_mft_init(bi);
    sn_log(SN_LOG_DEBUG, "command line: '%s'", si.cmdline);

    solo5_exit(solo5_app_main(&si));
}
