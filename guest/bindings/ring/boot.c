/* boot.c: the target-independent start-up: command line, memory map and banner, then solo5_app_main. */
#include "rings.h"

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

/*
 * Guest memory, as the tender lays it out (include/sn_abi.h):
 *
 *   0x0      .. 0x10000    never mapped
 *   0x10000  .. 0x100000   boot info, command line, manifest copy
 *   0x100000 .. _end       the ELF image: text, rodata, data+bss
 *   rings                  the device ring area, when there are devices
 *   heap_start .. stack    the heap handed to the application
 *   .. mem_size            the stack (grows down): SN_STACK_SIZE, or half
 *                          of the free memory when that is smaller
 *
 * The heap starts at the page after the image, or after the ring area when
 * the tender placed one there. The tender's kernel_end and the linker's _end
 * should agree; the larger one is used so that a disagreement can never put
 * the heap over the image.
 */
static void memmap_init(const struct sn_bootinfo *bi, struct solo5_start_info *si)
{
    uint64_t image_end = SN_PAGE_ALIGN_UP((uint64_t)(uintptr_t)_end);
    if (bi->kernel_end > image_end && bi->kernel_end < bi->mem_size)
        image_end = SN_PAGE_ALIGN_UP(bi->kernel_end);
    uint64_t rings_end = sn_rings_init(bi, image_end);
    uint64_t heap_start = rings_end > image_end ? rings_end : image_end;
    uint64_t mem_top = bi->mem_size & ~(SN_PAGE_SIZE - 1);
    uint64_t free = mem_top > heap_start ? mem_top - heap_start : 0;
    /* Half of what is left when that is less than twice SN_STACK_SIZE (--mem=2 and the like). */
    uint64_t stack = free / 2 < SN_STACK_SIZE ? (free / 2) & ~(SN_PAGE_SIZE - 1) : SN_STACK_SIZE;
    uint64_t rings, rings_size;

    si->heap_start = (uintptr_t)heap_start;
    si->heap_size = (size_t)(free - stack);

    sn_log_image(mem_top);
    sn_rings_area(&rings, &rings_size);
    if (rings_size != 0)
        sn_log(SN_LOG_INFO, "   rings @ (0x%08lx - 0x%08lx)", (unsigned long)rings,
               (unsigned long)(rings + rings_size - 1));
    sn_log(SN_LOG_INFO, "    heap >= 0x%08lx < stack < 0x%08lx", (unsigned long)heap_start,
           (unsigned long)mem_top);
    if (si->heap_size == 0)
        sn_log(SN_LOG_WARN, "no heap: %lu MB of guest memory leaves no room above the image",
               (unsigned long)(mem_top >> 20));
    sn_log(SN_LOG_DEBUG, "heap %lu bytes, stack %lu bytes", (unsigned long)si->heap_size,
           (unsigned long)stack);
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
    memmap_init(bi, &si);
    sn_mft_init(bi);
    sn_log(SN_LOG_DEBUG, "command line: '%s'", si.cmdline);

    solo5_exit(solo5_app_main(&si));
}

const char *sn_bootinfo_problem(const struct sn_bootinfo *bi, uint32_t target)
{
    if ((uintptr_t)bi < SN_MEM_UNMAPPED_END || (uintptr_t)bi % 8 != 0)
        return "pointer is not in guest memory";
    if (bi->magic != SN_BOOTINFO_MAGIC)
        return "wrong magic (not started by a solo5-node tender?)";
    if (bi->abi_version != SN_ABI_VERSION)
        return "ABI version mismatch between tender and bindings";
    if (bi->target != target)
        return target == SN_ABI_TARGET_SPT ? "target is not spt" : "target is not hvt";
    return NULL;
}
