/* solo5_boot.c: start-up of a Solo5-ABI spt unikernel: canary, %fs, boot info, command line, heap, then solo5_app_main. */
#include "solo5_bindings.h"

int s5_epollfd = -1;
int s5_timerfd = -1;
static uint64_t s5_mem_size;

/* The read-only TLS template segment: [_stdata, _edata) in ABI 2, empty in ABI 1 (the linker scripts say). */
extern char __sn_ro_tdata_start[], __sn_ro_tdata_end[];

static int overlaps(uintptr_t buf, size_t size, const char *start, const char *end)
{
    return buf < (uintptr_t)end && buf + size > (uintptr_t)start;
}

int s5_buf_ok(uintptr_t buf, size_t size, int into)
{
    if (buf < SN_SOLO5_HOST_MEM_BASE || buf >= s5_mem_size || size > s5_mem_size - buf)
        return 0;
    if (into && (overlaps(buf, size, __sn_text_start, _erodata) ||
                 overlaps(buf, size, __sn_ro_tdata_start, __sn_ro_tdata_end)))
        return 0;
    return 1;
}

/*
 * Upstream's bindings need this much free memory above the image (heap and
 * stack share it); less is refused at boot rather than failing later.
 */
#define S5_MIN_FREE 0x80000ULL

/*
 * The tender owes us nothing but the ABI, and the manifest copy and command
 * line sit in memory the application can overwrite later: each pointer is
 * checked to lie in the low area (above the boot info, below the image)
 * and the command line must end there, else it is taken as empty.
 */
static const char *checked_cmdline(uint64_t addr)
{
    if (addr < SN_SOLO5_MFT_ADDR || addr >= SN_SOLO5_GUEST_MIN_BASE)
        return NULL;
    size_t room = (size_t)(SN_SOLO5_GUEST_MIN_BASE - addr);
    if (room > SN_SOLO5_CMDLINE_SIZE)
        room = SN_SOLO5_CMDLINE_SIZE;
    const char *s = (const char *)(uintptr_t)addr;
    if (strnlen(s, room) == room)
        return NULL;
    return s;
}

static uint64_t rdtsc(void)
{
    uint32_t lo, hi;

    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return ((uint64_t)hi << 32) | lo;
}

/*
 * Called from _start with the tender's %rdi. Built without a stack canary:
 * it seeds the canary, and a check on its way out would compare against a
 * different value from the one stored on the way in.
 */
void solo5_boot(const struct sn_solo5_boot_info *bi) __attribute__((noreturn, no_stack_protector));

void solo5_boot(const struct sn_solo5_boot_info *bi)
{
    /* No entropy from this ABI's tender: two TSC reads, the second one scrambled. */
    uint64_t t0 = rdtsc();
    sn_ssp_init(t0 ^ (rdtsc() * 0x9e3779b97f4a7c15ULL) ^ (t0 << 32));

    /*
     * Upstream's tender leaves its own TLS in %fs. Start with none, so that
     * an application touching TLS before solo5_set_tls_base() faults
     * instead of using the tender's memory.
     */
    spt_syscall2(SPT_SYS_ARCH_PRCTL, SPT_ARCH_SET_FS, 0);

    if ((uintptr_t)bi != SN_SOLO5_BOOT_INFO_BASE)
        spt_bad_bootinfo("not at the published address");
    uint64_t mem_size = bi->mem_size, cmdline = bi->cmdline, mft = bi->mft;
    s5_epollfd = bi->epollfd;
    s5_timerfd = bi->timerfd;
    s5_mem_size = mem_size;

    uint64_t heap_start = SN_PAGE_ALIGN_UP((uint64_t)(uintptr_t)_end);
    if (mem_size < heap_start || mem_size - heap_start < S5_MIN_FREE || mem_size > (1ULL << 47))
        spt_bad_bootinfo("not enough memory above the image (heap and stack need 512 KiB)");

    const char *raw = checked_cmdline(cmdline);
    struct solo5_start_info si;
    si.cmdline = sn_cmdline_parse(raw != NULL ? raw : "");
    /* The stack grows down from the top of guest memory into the heap, as the API says. */
    si.heap_start = (uintptr_t)heap_start;
    si.heap_size = (size_t)(mem_size - heap_start);

    sn_log(SN_LOG_INFO, "solo5-node bindings " SN_BINDINGS_VERSION " (spt, Solo5 ABI)");
    if (raw == NULL)
        sn_log(SN_LOG_WARN, "command line at 0x%lx is out of place; using an empty one",
               (unsigned long)cmdline);
    sn_log_image(mem_size);
    sn_log(SN_LOG_INFO, "    heap >= 0x%08lx < stack < 0x%08lx", (unsigned long)heap_start,
           (unsigned long)mem_size);

    s5_mft_init(mft, SN_SOLO5_MFT_ADDR, SN_SOLO5_GUEST_MIN_BASE, 1);
    sn_log(SN_LOG_DEBUG, "command line: '%s'", si.cmdline);
    solo5_exit(solo5_app_main(&si));
}
