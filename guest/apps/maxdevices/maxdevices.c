/* maxdevices.c: acquires the 63 block devices storage0..storage62 and writes and reads one block on each. */
#include "solo5.h"
#include "sn_printf.h"

/* Provided by the bindings (the guest has no libc headers). */
int memcmp(const void *a, const void *b, size_t n);

/*
 * 63 is the most a manifest can declare (64 entries, the first reserved).
 * Every device gets its own pattern in its last block, all written before
 * any is read back, so two handles that reached the same backing file or
 * the same ring would show up as a mismatch.
 */
#define NDEV 63
#define MAX_BLOCK_SIZE 65536

static solo5_handle_t handles[NDEV];
static struct solo5_block_info infos[NDEV];
static uint8_t buf[MAX_BLOCK_SIZE], expect[MAX_BLOCK_SIZE];

static void fill(uint8_t *b, size_t len, unsigned dev)
{
    for (size_t i = 0; i < len; i++)
        b[i] = (uint8_t)(dev * 37 + i * 11 + (i >> 8));
}

int solo5_app_main(const struct solo5_start_info *si)
{
    (void)si;
    int failures = 0;
    solo5_handle_set_t seen = 0;

    for (unsigned d = 0; d < NDEV; d++) {
        char name[16];
        sn_snprintf(name, sizeof name, "storage%u", d);
        solo5_result_t r = solo5_block_acquire(name, &handles[d], &infos[d]);
        if (r != SOLO5_R_OK || handles[d] >= 64 || (seen & (1ULL << handles[d])) ||
            infos[d].block_size > MAX_BLOCK_SIZE || infos[d].capacity < infos[d].block_size) {
            sn_printf("maxdevices: %s: result %d, handle %lu\n", name, (int)r, (unsigned long)handles[d]);
            return SOLO5_EXIT_FAILURE;
        }
        seen |= 1ULL << handles[d];
    }
    for (unsigned d = 0; d < NDEV; d++) {
        size_t bs = infos[d].block_size;
        fill(buf, bs, d);
        if (solo5_block_write(handles[d], infos[d].capacity - bs, buf, bs) != SOLO5_R_OK) {
            sn_printf("maxdevices: write storage%u failed\n", d);
            failures++;
        }
    }
    for (unsigned d = 0; d < NDEV; d++) {
        size_t bs = infos[d].block_size;
        fill(expect, bs, d);
        if (solo5_block_read(handles[d], infos[d].capacity - bs, buf, bs) != SOLO5_R_OK ||
            memcmp(buf, expect, bs) != 0) {
            sn_printf("maxdevices: storage%u did not read back what was written\n", d);
            failures++;
        }
    }
    if (failures != 0)
        return SOLO5_EXIT_FAILURE;
    sn_printf("maxdevices: %u devices\n", NDEV);
    sn_puts("SUCCESS\n");
    return SOLO5_EXIT_SUCCESS;
}
