/* solo5_block.c: block devices on the Solo5 spt ABI: one pread64/pwrite64 per block on the device's host fd. */
#include "solo5_bindings.h"

/*
 * The tender's seccomp rule allows pread64/pwrite64 on this fd only for
 * exactly one block (size == block_size) at an offset no higher than
 * capacity - block_size; anything else kills the guest. So the checks here
 * are that rule's and the API's (aligned, inside the capacity), and a
 * request of several blocks, which the ring ABI takes in one go, becomes one
 * call per block: the same source then runs on both ABIs.
 */
static solo5_result_t block_io(solo5_handle_t handle, long sys, solo5_off_t offset, uintptr_t buf,
                               size_t size)
{
    const struct s5_dev *d = s5_dev(handle, SN_MFT_DEV_BLOCK_BASIC);

    if (d == NULL || !s5_block_request_ok(d, offset, size) || !s5_buf_ok(buf, size, sys == S5_SYS_PREAD64))
        return SOLO5_R_EINVAL;
    uint64_t bs = d->block_size;
    for (size_t done = 0; done < size; done += bs) {
        long n;
        do
            n = spt_syscall6(sys, d->hostfd, (long)(buf + done), (long)bs, (long)(offset + done), 0, 0);
        while (n == -SPT_EINTR);
        if (n != (long)bs)
            return SOLO5_R_EUNSPEC;
    }
    return SOLO5_R_OK;
}

solo5_result_t solo5_block_write(solo5_handle_t handle, solo5_off_t offset, const uint8_t *buf, size_t size)
{
    return block_io(handle, S5_SYS_PWRITE64, offset, (uintptr_t)buf, size);
}

solo5_result_t solo5_block_read(solo5_handle_t handle, solo5_off_t offset, uint8_t *buf, size_t size)
{
    return block_io(handle, S5_SYS_PREAD64, offset, (uintptr_t)buf, size);
}
