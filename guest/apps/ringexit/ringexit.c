/* ringexit.c: breaks its block ring's index protocol and exits at once, so only the tender's look after the exit can see it. */
#include "solo5.h"
#include "sn_printf.h"
#include "sn_abi.h"

/*
 * Needs block device "storage". Moves the request producer index 1000 slots
 * past the queue's size, rings no doorbell and calls solo5_exit(0) in the
 * next statement: the tender's pump, asleep until a doorbell, has no chance
 * to see the index while the guest runs. A correct tender still reports the
 * violation (it reads the rings once more after the exit) and the run ends
 * as a kill for it, never as status 0. Prints RINGEXIT before it writes.
 */
int solo5_app_main(const struct solo5_start_info *si)
{
    solo5_handle_t h;
    struct solo5_block_info bi;
    volatile const struct sn_bootinfo *boot = (volatile const struct sn_bootinfo *)SN_BOOTINFO_ADDR;

    (void)si;
    if (solo5_block_acquire("storage", &h, &bi) != SOLO5_R_OK || boot->rings == 0 ||
        h >= SN_MFT_MAX_ENTRIES) {
        sn_printf("usage: ringexit, with block 'storage' attached (ring ABI)\n");
        return SOLO5_EXIT_FAILURE;
    }
    volatile struct sn_rings_hdr *hdr = (volatile struct sn_rings_hdr *)(uintptr_t)boot->rings;
    volatile struct sn_blk_dev *blk =
        (volatile struct sn_blk_dev *)(uintptr_t)(boot->rings + hdr->dev_off[h]);
    uint32_t prod = blk->req.prod + blk->slots + 1000;
    sn_printf("RINGEXIT %u\n", prod);
    __atomic_store_n(&blk->req.prod, prod, __ATOMIC_RELEASE);
    solo5_exit(SOLO5_EXIT_SUCCESS);
}
