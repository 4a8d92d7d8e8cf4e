/* blk.c: writes and reads back patterns over the whole block device "storage" and checks invalid requests fail. */
#include "solo5.h"
#include "sn_printf.h"

/* Provided by the bindings (the guest has no libc headers). */
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
int strcmp(const char *a, const char *b);

/*
 * Command line:
 *   (empty)   two passes over every block, each with its own pattern,
 *             written and read back in requests of 1, 2, 7 and 16 blocks,
 *             then every kind of invalid request; prints SUCCESS.
 *   durable   writes one pattern over the first 16 blocks, prints WRITTEN
 *             once the writes completed, then sleeps until killed: the
 *             durability test SIGKILLs it and reads the image file.
 */
#define MAX_BLOCKS_PER_REQ 16
#define MAX_BLOCK_SIZE 65536

/*
 * The two request buffers come from the heap, sized for the device's block
 * size, so that the image stays small and the test runs with --mem=2.
 */
static uint8_t *wbuf, *rbuf;
static const size_t chunks[] = { 1, 2, 7, 16 };

static solo5_handle_t h;
static struct solo5_block_info info;
static int failures;

static void fail(const char *what, solo5_off_t off, int r)
{
    if (failures++ < 10)
        sn_printf("blk: %s at offset %lu: result %d\n", what, (unsigned long)off, r);
}

/* The byte at device offset `off` in pass `pass`: differs between passes, blocks and positions. */
static uint8_t pattern(uint64_t off, unsigned pass)
{
    uint64_t x = (off / 8) * 0x9e3779b97f4a7c15ULL + pass * 0xd1b54a32d192ed03ULL;
    x ^= x >> 29;
    return (uint8_t)(x >> (8 * (off % 8)));
}

static void fill(uint8_t *buf, uint64_t off, size_t len, unsigned pass)
{
    for (size_t i = 0; i < len; i++)
        buf[i] = pattern(off + i, pass);
}

/* One pass: write the whole device, then read it back with the chunk sizes in the other order. */
static void pass_over_device(unsigned pass)
{
    uint64_t bs = info.block_size;
    uint64_t off = 0;
    for (unsigned k = 0; off < info.capacity; k++) {
        uint64_t len = chunks[k % 4] * bs;
        if (len > info.capacity - off)
            len = info.capacity - off;
        fill(wbuf, off, len, pass);
        solo5_result_t r = solo5_block_write(h, off, wbuf, len);
        if (r != SOLO5_R_OK)
            fail("write", off, r);
        off += len;
    }
    off = 0;
    for (unsigned k = 0; off < info.capacity; k++) {
        uint64_t len = chunks[3 - k % 4] * bs;
        if (len > info.capacity - off)
            len = info.capacity - off;
        memset(rbuf, 0xa5, len);
        solo5_result_t r = solo5_block_read(h, off, rbuf, len);
        if (r != SOLO5_R_OK)
            fail("read", off, r);
        fill(wbuf, off, len, pass);
        if (memcmp(rbuf, wbuf, len) != 0)
            fail("read back different data", off, 0);
        off += len;
    }
}

static void expect_einval(solo5_result_t r, const char *what, solo5_off_t off)
{
    if (r != SOLO5_R_EINVAL)
        fail(what, off, r);
}

static void invalid_requests(void)
{
    uint64_t bs = info.block_size, cap = info.capacity;
    struct {
        solo5_off_t off;
        size_t len;
        const char *what;
    } bad[] = {
        { cap, bs, "request at the capacity" },
        { cap - bs, 2 * bs, "request across the end" },
        { ~(uint64_t)0 - bs + 1, bs, "offset that wraps around" },
        { 0, cap + bs, "request larger than the device" },
        { 1, bs, "misaligned offset" },
        { bs / 2, bs, "offset of half a block" },
        { 0, bs + 1, "misaligned size" },
        { 0, bs / 2, "size of half a block" },
        { 0, 0, "zero size" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        memset(wbuf, 0xff, 2 * bs + 1);
        expect_einval(solo5_block_write(h, bad[i].off, wbuf, bad[i].len), bad[i].what, bad[i].off);
        expect_einval(solo5_block_read(h, bad[i].off, rbuf, bad[i].len), bad[i].what, bad[i].off);
    }
    /* The tender refuses buffers outside guest memory (here: the never-mapped first page). */
    expect_einval(solo5_block_read(h, 0, (uint8_t *)(uintptr_t)0x1000, bs), "buffer outside memory", 0);
    expect_einval(solo5_block_write(h, 0, (uint8_t *)(uintptr_t)0x1000, bs), "buffer outside memory", 0);
    /* A handle that was never acquired. */
    expect_einval(solo5_block_read(h + 1, 0, rbuf, bs), "unacquired handle", 0);

    /* None of those may have touched the device: the first and last blocks still hold pass 2. */
    static const solo5_off_t check[2] = { 0, 1 };
    for (int i = 0; i < 2; i++) {
        solo5_off_t off = check[i] ? cap - bs : 0;
        if (solo5_block_read(h, off, rbuf, bs) != SOLO5_R_OK)
            fail("read after invalid requests", off, 0);
        fill(wbuf, off, bs, 2);
        if (memcmp(rbuf, wbuf, bs) != 0)
            fail("an invalid request changed the device", off, 0);
    }
}

static int durable(void)
{
    uint64_t len = MAX_BLOCKS_PER_REQ * info.block_size;
    if (len > info.capacity)
        len = info.capacity;
    fill(wbuf, 0, len, 7);
    solo5_result_t r = solo5_block_write(h, 0, wbuf, len);
    if (r != SOLO5_R_OK) {
        sn_printf("blk: durable write: result %d\n", (int)r);
        return SOLO5_EXIT_FAILURE;
    }
    sn_printf("WRITTEN %lu\n", (unsigned long)len);
    for (;;)
        solo5_yield(solo5_clock_monotonic() + 1000000000ULL, NULL);
}

int solo5_app_main(const struct solo5_start_info *si)
{
    solo5_result_t r = solo5_block_acquire("storage", &h, &info);
    if (r != SOLO5_R_OK) {
        sn_printf("blk: acquire storage: result %d\n", (int)r);
        return SOLO5_EXIT_FAILURE;
    }
    sn_printf("blk: capacity %lu, block size %lu\n", (unsigned long)info.capacity,
              (unsigned long)info.block_size);
    if (info.block_size > MAX_BLOCK_SIZE || info.capacity < 2 * info.block_size) {
        sn_printf("blk: geometry out of range for this test\n");
        return SOLO5_EXIT_FAILURE;
    }
    size_t buf_len = MAX_BLOCKS_PER_REQ * (size_t)info.block_size;
    if (si->heap_size < 2 * buf_len) {
        sn_printf("blk: the heap (%lu bytes) is smaller than the test's buffers (%lu bytes)\n",
                  (unsigned long)si->heap_size, (unsigned long)(2 * buf_len));
        return SOLO5_EXIT_FAILURE;
    }
    wbuf = (uint8_t *)si->heap_start;
    rbuf = wbuf + buf_len;
    if (strcmp(si->cmdline, "durable") == 0)
        return durable();

    pass_over_device(1);
    pass_over_device(2);
    invalid_requests();
    if (failures != 0) {
        sn_printf("FAILURE (%d errors)\n", failures);
        return SOLO5_EXIT_FAILURE;
    }
    sn_puts("SUCCESS\n");
    return SOLO5_EXIT_SUCCESS;
}
