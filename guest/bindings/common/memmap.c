/* memmap.c: splits guest memory into image, heap and stack, and prints the memory map banner. */
#include "bindings.h"

/*
 * Guest memory, as the tender lays it out (include/sn_abi.h):
 *
 *   0x0      .. 0x10000    never mapped
 *   0x10000  .. 0x100000   boot info, command line, manifest copy, rings
 *   0x100000 .. _end       the ELF image: text, rodata, data+bss
 *   heap_start .. stack    the heap handed to the application
 *   mem_size - SN_STACK_SIZE .. mem_size   the stack (grows down)
 *
 * The heap starts at the page after the image. The tender's kernel_end and
 * the linker's _end should agree; the larger one is used so that a
 * disagreement can never put the heap over the image.
 */
void sn_memmap_init(const struct sn_bootinfo *bi, struct solo5_start_info *si)
{
    uint64_t image_end = SN_PAGE_ALIGN_UP((uint64_t)(uintptr_t)_end);
    uint64_t heap_start = bi->kernel_end > image_end ? SN_PAGE_ALIGN_UP(bi->kernel_end) : image_end;
    uint64_t mem_top = bi->mem_size & ~(SN_PAGE_SIZE - 1);
    uint64_t stack_bottom = mem_top > SN_STACK_SIZE ? mem_top - SN_STACK_SIZE : 0;

    si->heap_start = (uintptr_t)heap_start;
    si->heap_size = stack_bottom > heap_start ? (size_t)(stack_bottom - heap_start) : 0;

    sn_log(SN_LOG_INFO, "memory map: %lu MB addressable", (unsigned long)(mem_top >> 20));
    sn_log(SN_LOG_INFO, "    text @ (0x%08lx - 0x%08lx)", (unsigned long)(uintptr_t)__sn_text_start,
           (unsigned long)(uintptr_t)_etext - 1);
    sn_log(SN_LOG_INFO, "  rodata @ (0x%08lx - 0x%08lx)", (unsigned long)(uintptr_t)__sn_rodata_start,
           (unsigned long)(uintptr_t)_erodata - 1);
    sn_log(SN_LOG_INFO, "    data @ (0x%08lx - 0x%08lx)", (unsigned long)(uintptr_t)__sn_data_start,
           (unsigned long)(uintptr_t)_end - 1);
    sn_log(SN_LOG_INFO, "    heap >= 0x%08lx < stack < 0x%08lx", (unsigned long)heap_start,
           (unsigned long)mem_top);
    if (si->heap_size == 0)
        sn_log(SN_LOG_WARN, "no heap: %lu MB of guest memory leaves no room above the image",
               (unsigned long)(mem_top >> 20));
    sn_log(SN_LOG_DEBUG, "heap %lu bytes, stack %lu bytes", (unsigned long)si->heap_size,
           (unsigned long)SN_STACK_SIZE);
}
