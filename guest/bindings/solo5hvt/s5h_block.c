/* s5h_block.c: block devices on the Solo5 hvt ABI: one BLOCK_READ or BLOCK_WRITE hypercall per block. */
#include "s5h.h"

/*
 * Upstream's bindings refuse, without a hypercall, an offset that is not a
 * multiple of the block size and any size but one block; the tender checks
 * only the capacity and the buffer (and ends on a bad buffer). These
 * bindings check all of that first, and take a request of several whole
 * blocks as one hypercall per block, as the project's Solo5 spt bindings
 * do, so that the same application runs on every ABI (docs/guest.md).
 */
static solo5_result_t block_io(solo5_handle_t handle, uint32_t nr, solo5_off_t offset, uintptr_t buf,
                               size_t size)
{
    const struct s5_dev *d = s5_dev(handle, SN_MFT_DEV_BLOCK_BASIC);

    if (d == NULL || !s5_block_request_ok(d, offset, size) ||
        !s5h_buf_ok(buf, size, nr == SN_SOLO5_HVT_HC_BLOCK_READ))
        return SOLO5_R_EINVAL;
    uint64_t bs = d->block_size;
    for (size_t done = 0; done < size; done += bs) {
        struct sn_solo5_hvt_blkio arg = {
            .handle = handle, .offset = offset + done, .data = buf + done, .len = bs, .ret = 0, .pad = 0
        };
        s5h_hypercall(nr, &arg);
        if (arg.ret != SOLO5_R_OK)
            return arg.ret == SOLO5_R_EINVAL ? SOLO5_R_EINVAL : SOLO5_R_EUNSPEC;
    }
    return SOLO5_R_OK;
}

solo5_result_t solo5_block_write(solo5_handle_t handle, solo5_off_t offset, const uint8_t *buf, size_t size)
{
    return block_io(handle, SN_SOLO5_HVT_HC_BLOCK_WRITE, offset, (uintptr_t)buf, size);
}

solo5_result_t solo5_block_read(solo5_handle_t handle, solo5_off_t offset, uint8_t *buf, size_t size)
{
    return block_io(handle, SN_SOLO5_HVT_HC_BLOCK_READ, offset, (uintptr_t)buf, size);
}
