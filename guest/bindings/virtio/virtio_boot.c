/* virtio_boot.c: start-up of a virtio unikernel: Multiboot information, command line, devices from the image's manifest, heap and stack. */
#include "virtio.h"

/* The Multiboot information's fields these bindings read (flags bit 0: memory, bit 2: command line). */
#define MBI_FLAGS 0
#define MBI_MEM_UPPER 8
#define MBI_CMDLINE 16
#define MBI_F_MEM (1U << 0)
#define MBI_F_CMDLINE (1U << 2)

/* virtio_start.S maps the first 4 GiB; memory above it is not used. */
#define VIRTIO_MEM_MAX (4ULL << 30)
/* The least free memory above the image worth starting with (heap and stack share it). */
#define VIRTIO_MIN_FREE 0x80000ULL

/* The MFT1 note, kept by virtio.ld between these symbols. */
extern char __sn_mft_note_start[], __sn_mft_note_end[];

void virtio_run_on(uint64_t stack_top, void (*fn)(void)) __attribute__((noreturn));

static char cmdline[SN_SOLO5_CMDLINE_SIZE];
static uint64_t mem_size;
static uintptr_t free_next;

uint32_t virtio_ndevs;
struct virtio_dev virtio_devs[VIRTIO_MAX_DEVS];

static uintptr_t heap_base;

static int overlaps(uintptr_t buf, size_t size, uintptr_t start, uintptr_t end)
{
    return buf < end && buf + size > start;
}

/*
 * As on spt and hvt: a buffer lies in the image or above it, never in the
 * low megabyte (the BIOS's), and a device never writes into code,
 * read-only data or the queues and buffers of the bindings themselves.
 */
int s5_buf_ok(uintptr_t buf, size_t size, int into)
{
    if (buf < SN_SOLO5_GUEST_MIN_BASE || buf >= mem_size || size > mem_size - buf)
        return 0;
    if (into && (overlaps(buf, size, (uintptr_t)__sn_text_start, (uintptr_t)_erodata) ||
                 overlaps(buf, size, (uintptr_t)_end, heap_base)))
        return 0;
    return 1;
}

void *virtio_alloc(size_t size)
{
    uintptr_t p = SN_PAGE_ALIGN_UP(free_next);
    free_next = p + size;
    memset((void *)p, 0, size);
    return (void *)p;
}

/*
 * Loaders pass the kernel's own name first ("hello.virtio --solo5:debug a
 * b"); the application's command line is what follows it. The string may
 * lie in free memory that device set-up hands out, so it is copied first.
 */
static void copy_cmdline(uint32_t flags, uint32_t addr)
{
    cmdline[0] = '\0';
    if (!(flags & MBI_F_CMDLINE) || addr == 0)
        return;
    const char *s = (const char *)(uintptr_t)addr;
    size_t n = strnlen(s, sizeof cmdline - 1);
    size_t i = 0;
    while (i < n && s[i] != ' ')
        i++;
    while (i < n && s[i] == ' ')
        i++;
    memcpy(cmdline, s + i, n - i);
    cmdline[n - i] = '\0';
}

/*
 * Which virtio function serves manifest entry `entry` of `type`: with
 * `exact`, only the one in PCI slot entry + 2, where solo5-virtio-run puts
 * it; else (another runner, such as Solo5's, which lets QEMU number the
 * slots) the first function of that type not yet paired, in slot order.
 */
static int32_t pair_dev(uint8_t type, uint32_t entry, int exact)
{
    for (uint32_t i = 0; i < virtio_ndevs; i++) {
        struct virtio_dev *v = &virtio_devs[i];
        if (v->type != type || !v->ready || v->claimed || (exact && v->slot != entry + 2))
            continue;
        v->claimed = 1;
        return (int32_t)i;
    }
    return -1;
}

/* Reads the image's own manifest and pairs each device with a virtio function, in order. */
static void mft_init(void)
{
    s5_entries = 0;
    size_t size = (size_t)(__sn_mft_note_end - __sn_mft_note_start);
    const uint32_t *h = (const uint32_t *)__sn_mft_note_start;
    if (size < 24 + SN_MFT_SIZE(1) || h[2] != SN_NOTE_TYPE_MFT) {
        sn_log(SN_LOG_WARN, "no MFT1 note in the image; no devices available");
        return;
    }
    const struct sn_mft *m = (const struct sn_mft *)(__sn_mft_note_start + 24);
    uint32_t entries = m->entries;
    if (m->version != SN_MFT_VERSION || entries < 1 || entries > SN_MFT_MAX_ENTRIES ||
        24 + SN_MFT_SIZE(entries) > size) {
        sn_log(SN_LOG_WARN, "the image's manifest is malformed; no devices available");
        return;
    }
    for (uint32_t i = 1; i < entries; i++) {
        s5_devs[i].type = m->e[i].type;
        s5_devs[i].hostfd = -1;
    }
    /* Exact slots first for every entry, so that a fallback pairing never takes another entry's device. */
    for (int pass = 0; pass < 2; pass++) {
        for (uint32_t i = 1; i < entries; i++) {
            struct s5_dev *d = &s5_devs[i];
            if (d->hostfd >= 0 || (d->type != SN_MFT_DEV_NET_BASIC && d->type != SN_MFT_DEV_BLOCK_BASIC))
                continue;
            uint8_t t = d->type == SN_MFT_DEV_NET_BASIC ? VIRTIO_TYPE_NET : VIRTIO_TYPE_BLOCK;
            d->hostfd = pair_dev(t, i, pass == 0);
        }
    }
    for (uint32_t i = 1; i < entries; i++) {
        struct s5_dev *d = &s5_devs[i];
        memcpy(d->name, m->e[i].name, SN_MFT_NAME_SIZE);
        d->name[SN_MFT_NAME_SIZE - 1] = '\0';
        d->acquired = 0;
        d->attached = d->hostfd >= 0;
        if (d->attached) {
            const struct virtio_dev *v = &virtio_devs[d->hostfd];
            memcpy(d->mac, v->mac, SOLO5_NET_ALEN);
            d->mtu = 1500;
            d->block_size = 512;
            d->capacity = v->capacity;
        }
        sn_log(SN_LOG_DEBUG, "manifest: device %u \"%s\" type %u %s", i, d->name, d->type,
               d->attached ? "attached" : "not attached");
    }
    s5_entries = entries;
}

static void virtio_main(void) __attribute__((noreturn));

static void virtio_main(void)
{
    struct solo5_start_info si;

    si.cmdline = sn_cmdline_parse(cmdline);
    sn_log(SN_LOG_INFO, "solo5-node bindings " SN_BINDINGS_VERSION " (virtio, Solo5 ABI)");
    virtio_clock_init();
    virtio_pci_scan();
    mft_init();
    uint64_t heap_start = SN_PAGE_ALIGN_UP((uint64_t)free_next);
    if (heap_start >= mem_size || mem_size - heap_start < VIRTIO_MIN_FREE) {
        sn_log(SN_LOG_ERROR, "ABORT: not enough memory above the image (heap and stack need 512 KiB)");
        sn_platform_exit(SOLO5_EXIT_ABORT);
    }
    sn_log_image(mem_size);
    sn_log(SN_LOG_INFO, "    heap >= 0x%08lx < stack < 0x%08lx", (unsigned long)heap_start,
           (unsigned long)mem_size);
    sn_log(SN_LOG_DEBUG, "command line: '%s'", si.cmdline);
    heap_base = (uintptr_t)heap_start;
    si.heap_start = (uintptr_t)heap_start;
    si.heap_size = (size_t)(mem_size - heap_start);
    solo5_exit(solo5_app_main(&si));
}

/* Called from virtio_start.S on the boot stack with the Multiboot information's address. */
void virtio_boot(uint32_t mbi) __attribute__((noreturn, no_stack_protector));

void virtio_boot(uint32_t mbi)
{
    uint64_t t0 = virtio_rdtsc();
    sn_ssp_init(t0 ^ (virtio_rdtsc() * 0x9e3779b97f4a7c15ULL) ^ (t0 << 32));
    virtio_trap_init();

    const volatile uint32_t *info = (const volatile uint32_t *)(uintptr_t)mbi;
    uint32_t flags = info[MBI_FLAGS / 4], upper = info[MBI_MEM_UPPER / 4];
    uint32_t line = info[MBI_CMDLINE / 4];
    copy_cmdline(flags, line);
    /* QEMU leaves its information and command line just past the image: free memory starts after them. */
    uintptr_t end = (uintptr_t)_end, near = end + 0x100000;
    if (mbi >= end && mbi < near)
        end = (uintptr_t)mbi + 0x1000;
    if ((flags & MBI_F_CMDLINE) && line >= end && line < near)
        end = (uintptr_t)line + sizeof cmdline;
    free_next = SN_PAGE_ALIGN_UP(end);
    if (!(flags & MBI_F_MEM)) {
        sn_log(SN_LOG_ERROR, "ABORT: the boot loader gave no memory size");
        sn_platform_exit(SOLO5_EXIT_ABORT);
    }
    mem_size = 0x100000ULL + (uint64_t)upper * 1024;
    if (mem_size > VIRTIO_MEM_MAX)
        mem_size = VIRTIO_MEM_MAX;
    virtio_run_on(mem_size, virtio_main);
}
