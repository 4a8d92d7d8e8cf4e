/* blkbench.c: sequential block reads or writes of a given request size over "storage", timed. */
#include "solo5.h"
#include "sn_printf.h"

/* Provided by the bindings (the guest has no libc headers). */
void *memset(void *dst, int c, size_t n);
int strncmp(const char *a, const char *b, size_t n);

/*
 * Command line: read|write SIZE TOTAL_MB. Moves TOTAL_MB MiB in requests of
 * SIZE bytes (a multiple of the block size), sequentially from offset 0 and
 * wrapping at the end of the device, then prints bytes=N ns=T. The buffer
 * is taken from the heap, so SIZE may be large.
 */
static const char *parse_u64(const char *p, uint64_t *v)
{
    while (*p == ' ')
        p++;
    if (*p < '0' || *p > '9')
        return NULL;
    for (*v = 0; *p >= '0' && *p <= '9' && *v < (1ULL << 50); p++)
        *v = *v * 10 + (uint64_t)(*p - '0');
    return p;
}

int solo5_app_main(const struct solo5_start_info *si)
{
    const char *p = si->cmdline;
    uint64_t size = 0, total_mb = 0;
    solo5_handle_t h;
    struct solo5_block_info info;

    int writing = strncmp(p, "write ", 6) == 0;
    if (!writing && strncmp(p, "read ", 5) != 0) {
        sn_printf("usage: blkbench read|write SIZE TOTAL_MB\n");
        return SOLO5_EXIT_FAILURE;
    }
    p += writing ? 6 : 5;
    if ((p = parse_u64(p, &size)) == NULL || parse_u64(p, &total_mb) == NULL) {
        sn_printf("usage: blkbench read|write SIZE TOTAL_MB\n");
        return SOLO5_EXIT_FAILURE;
    }
    if (solo5_block_acquire("storage", &h, &info) != SOLO5_R_OK) {
        sn_printf("blkbench: cannot acquire storage\n");
        return SOLO5_EXIT_FAILURE;
    }
    if (size == 0 || size % info.block_size != 0 || size > info.capacity || size > si->heap_size) {
        sn_printf("blkbench: SIZE must be a multiple of %lu, at most the capacity and the heap\n",
                  (unsigned long)info.block_size);
        return SOLO5_EXIT_FAILURE;
    }
    uint8_t *buf = (uint8_t *)si->heap_start;
    memset(buf, 0x3c, size);
    uint64_t total = total_mb << 20, done = 0, off = 0;

    solo5_time_t start = solo5_clock_monotonic();
    while (done < total) {
        if (off > info.capacity - size)
            off = 0;
        solo5_result_t r =
            writing ? solo5_block_write(h, off, buf, size) : solo5_block_read(h, off, buf, size);
        if (r != SOLO5_R_OK) {
            sn_printf("blkbench: %s at %lu: result %d\n", writing ? "write" : "read", (unsigned long)off,
                      (int)r);
            return SOLO5_EXIT_FAILURE;
        }
        off += size;
        done += size;
    }
    solo5_time_t ns = solo5_clock_monotonic() - start;
    sn_printf("bytes=%lu ns=%lu\n", (unsigned long)done, (unsigned long)ns);
    return SOLO5_EXIT_SUCCESS;
}
