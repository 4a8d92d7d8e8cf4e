/* helper_hvt_solo5_blk.c: upstream Solo5 hvt hypercalls BLOCK_WRITE and BLOCK_READ on the image's host fd. */
#include "helper_hvt_solo5.h"

/* The largest length a single pread64/pwrite64 reports (SSIZE_MAX). */
#define SSIZE_MAX_U 0x7fffffffffffffffULL

/*
 * As upstream: a wrong handle or a range outside [0, capacity) is the
 * guest's own mistake (EINVAL, it runs on); a buffer outside its memory is a
 * broken protocol; a failed or short host transfer is the tender's own
 * error. Alignment and whole blocks are the bindings' business, as upstream.
 */
static enum hc_next blkio(struct hvt_solo5_vm *vm, sn_gpa arg, struct hc_out *out, int write)
{
    volatile struct sn_solo5_hvt_blkio *g = (volatile void *)gpa_range(&vm->mem, arg, sizeof *g);
    if (!g)
        return HC_BAD_ACCESS(out, arg, sizeof *g);
    struct sn_solo5_hvt_blkio a = {
        .handle = g->handle, .offset = g->offset, .data = g->data, .len = g->len
    };
    const struct hvt_solo5_dev *dev = hvt_solo5_device(vm, a.handle, SN_MFT_DEV_BLOCK_BASIC);
    if (!dev || a.len > SSIZE_MAX_U || a.offset >= dev->capacity || a.len > dev->capacity - a.offset) {
        g->ret = SN_SOLO5_R_EINVAL;
        return HC_CONTINUE;
    }
    uint8_t *buf = gpa_range(&vm->mem, sn_gpa_of(a.data), a.len);
    if (!buf)
        return HC_BAD_ACCESS(out, sn_gpa_of(a.data), a.len);
    uint64_t done = 0;
    while (done < a.len) {
        long n = write ? h_pwrite(dev->fd, buf + done, a.len - done, a.offset + done)
                       : h_pread(dev->fd, buf + done, a.len - done, (long)(a.offset + done));
        if (n == -H_EINTR)
            continue;
        if (n <= 0)
            return hc_host_error(out, write ? "writing" : "reading", n);
        done += (uint64_t)n;
    }
    g->ret = SN_SOLO5_R_OK;
    return HC_CONTINUE;
}

enum hc_next hc_block_write(struct hvt_solo5_vm *vm, sn_gpa arg, struct hc_out *out)
{
    return blkio(vm, arg, out, 1);
}

enum hc_next hc_block_read(struct hvt_solo5_vm *vm, sn_gpa arg, struct hc_out *out)
{
    return blkio(vm, arg, out, 0);
}
