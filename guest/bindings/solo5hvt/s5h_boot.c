/* s5h_boot.c: start-up of a Solo5-ABI hvt unikernel in ring 3: boot info, page-table trim, clocks, devices, solo5_app_main. */
#include "s5h.h"

uint64_t s5h_mem_size;

/* The TSS's I/O bitmap (s5h.h) opens exactly the ABI's ports, in whole bytes. */
_Static_assert(S5H_IOMAP_FIRST_PORT == SN_SOLO5_HVT_PORT_BASE, "the bitmap opens the hypercall ports");
_Static_assert(SN_SOLO5_HVT_PORT(SN_SOLO5_HVT_HC_MAX) <= S5H_IOMAP_KICK_PORT, "every hypercall port is open");
_Static_assert(S5H_IOMAP_KICK_PORT == SN_SOLO5_HVT_RING_KICK_PORT, "the bitmap opens the ring kick");
_Static_assert(S5H_IOMAP_FIRST_PORT % 8 == 0 && S5H_IOMAP_KICK_PORT % 8 == 0, "byte-aligned port ranges");

/* The read-only TLS template segment: [_stdata, _edata) in ABI 2, empty in ABI 1 (the linker scripts say). */
extern char __sn_ro_tdata_start[], __sn_ro_tdata_end[];
/* s5h_pagetables.S: the final tables (filled here), the shared first 2 MiB, what the gate loads into CR3. */
extern uint64_t s5h_pml4[512], s5h_pdpt[512], s5h_pd[2048], s5h_pt0[512];
extern uint64_t s5h_cr3;

static int overlaps(uintptr_t buf, size_t size, const char *start, const char *end)
{
    return buf < (uintptr_t)end && buf + size > (uintptr_t)start;
}

int s5h_buf_ok(uintptr_t buf, size_t size, int into)
{
    if (buf < SN_SOLO5_HVT_BOOT_INFO || buf >= s5h_mem_size || size >= s5h_mem_size - buf)
        return 0;
    if (into && (buf < SN_SOLO5_HVT_KERNEL_MIN || overlaps(buf, size, __sn_text_start, _erodata) ||
                 overlaps(buf, size, __sn_ro_tdata_start, __sn_ro_tdata_end)))
        return 0;
    return 1;
}

static void __attribute__((noreturn)) bad_bootinfo(const char *why)
{
    /* Nothing from the boot info can be trusted yet, so this ignores log levels. */
    static const char head[] = "Solo5: ABORT: bad boot info: ";
    solo5_console_write(head, sizeof head - 1);
    solo5_console_write(why, strlen(why));
    solo5_console_write("\n", 1);
    s5h_halt(SOLO5_EXIT_ABORT, NULL);
}

/* Upstream's bindings refuse to start with less free memory than this above the image (heap and stack share it). */
#define S5H_MIN_FREE 0x80000ULL

/* The command line only if it lies in the low area, after the boot info, and ends there; else NULL. */
static const char *checked_cmdline(uint64_t addr)
{
    uint64_t lo = SN_SOLO5_HVT_BOOT_INFO + SN_SOLO5_HVT_BOOT_INFO_V1_SIZE;
    if (addr < lo || addr >= SN_SOLO5_HVT_KERNEL_MIN)
        return NULL;
    size_t room = (size_t)(SN_SOLO5_HVT_KERNEL_MIN - addr);
    if (room > SN_SOLO5_HVT_CMDLINE_SIZE)
        room = SN_SOLO5_HVT_CMDLINE_SIZE;
    const char *s = (const char *)(uintptr_t)addr;
    return strnlen(s, room) == room ? NULL : s;
}

/*
 * Fills the final page tables (s5h_pagetables.S) up to `top` (2 MiB
 * aligned, at most 4 GiB) and switches to them: the FS-base gate loads CR3
 * from s5h_cr3 (and the FS base, 0: no TLS before solo5_set_tls_base).
 */
static void map_memory(uint64_t top)
{
    for (uint64_t i = 1; i < top >> 21; i++)
        s5h_pd[i] = (i << 21) | S5H_PTE_PAGE_2M;
    s5h_pd[0] = (uintptr_t)s5h_pt0 | S5H_PTE_TABLE;
    for (uint64_t i = 0; i < (top + (1ULL << 30) - 1) >> 30; i++)
        s5h_pdpt[i] = (uintptr_t)&s5h_pd[i * 512] | S5H_PTE_TABLE;
    s5h_pml4[0] = (uintptr_t)s5h_pdpt | S5H_PTE_TABLE;
    s5h_cr3 = (uintptr_t)s5h_pml4;
    s5h_set_fs_base(0);
}

/*
 * Called from s5h_start.S in ring 3 with the tender's %rdi. Built without a
 * stack canary: it seeds the canary (spt_boot.c explains why).
 */
void s5h_boot(const struct sn_solo5_hvt_boot_info *bi) __attribute__((noreturn, no_stack_protector));

void s5h_boot(const struct sn_solo5_hvt_boot_info *bi)
{
    /* No entropy from this ABI's tender: two TSC reads, the second one scrambled. */
    uint64_t t0 = s5h_rdtsc();
    sn_ssp_init(t0 ^ (s5h_rdtsc() * 0x9e3779b97f4a7c15ULL) ^ (t0 << 32));

    if ((uintptr_t)bi != SN_SOLO5_HVT_BOOT_INFO)
        bad_bootinfo("not at the published address");
    const volatile struct sn_solo5_hvt_boot_info *vbi = bi;
    uint64_t mem_size = vbi->mem_size, freq = vbi->cpu_cycle_freq, cmdline = vbi->cmdline, mft = vbi->mft;
    /*
     * The 0.11 fields, only where a 56-byte boot info can be: an ABI 1
     * guest never looks, and a manifest copy starting right after 40 bytes
     * means a tender that wrote none of them.
     */
    uint32_t features = 0;
    uint64_t ring = 0;
    if (s5h_abi_version >= SN_SOLO5_HVT_ABI_V2 && mft >= SN_SOLO5_HVT_MFT_ADDR) {
        features = vbi->host_features;
        ring = vbi->net_ring;
    }

    uint64_t heap_start = SN_PAGE_ALIGN_UP((uint64_t)(uintptr_t)_end);
    if (mem_size > SN_SOLO5_HVT_MEM_MAX || mem_size % SN_SOLO5_HVT_PAGE_2M != 0 || mem_size < heap_start ||
        mem_size - heap_start < S5H_MIN_FREE)
        bad_bootinfo(
            "memory size not a multiple of 2 MiB, above 4 GiB or leaving under 512 KiB above the image");
    if (freq == 0)
        bad_bootinfo("no TSC frequency");
    s5h_mem_size = mem_size;
    int ring_ok = (features & SN_SOLO5_HVT_FEATURE_RING_IO) != 0 && ring == mem_size &&
                  mem_size + SN_SOLO5_HVT_RING_AREA <= SN_SOLO5_HVT_MEM_MAX;
    map_memory(mem_size + (ring_ok ? SN_SOLO5_HVT_RING_AREA : 0));
    s5h_clock_init(freq);

    const char *raw = checked_cmdline(cmdline);
    struct solo5_start_info si;
    si.cmdline = sn_cmdline_parse(raw != NULL ? raw : "");

    sn_log(SN_LOG_INFO, "solo5-node bindings " SN_BINDINGS_VERSION " (hvt, Solo5 ABI %u)", s5h_abi_version);
    if (raw == NULL)
        sn_log(SN_LOG_WARN, "command line at 0x%lx is out of place; using an empty one",
               (unsigned long)cmdline);
    sn_log_image(mem_size);

    s5_mft_init(mft, SN_SOLO5_HVT_BOOT_INFO + SN_SOLO5_HVT_BOOT_INFO_V1_SIZE, SN_SOLO5_HVT_KERNEL_MIN, 0);
    if (ring_ok)
        heap_start = s5h_ring_init(ring, heap_start, mem_size);
    else if (features & SN_SOLO5_HVT_FEATURE_RING_IO)
        sn_log(SN_LOG_WARN, "net ring offered at 0x%lx, not at the top of memory; using hypercalls",
               (unsigned long)ring);
    /* The stack grows down from the top of guest memory into the heap, as upstream's bindings have it. */
    si.heap_start = (uintptr_t)heap_start;
    si.heap_size = (size_t)(mem_size - heap_start);
    sn_log(SN_LOG_INFO, "    heap >= 0x%08lx < stack < 0x%08lx", (unsigned long)heap_start,
           (unsigned long)mem_size);
    sn_log(SN_LOG_DEBUG, "command line: '%s'", si.cmdline);
    solo5_exit(solo5_app_main(&si));
}
