/* hvt_solo5_decode.c: TEST ONLY: the helper's hypercall decode and handlers for upstream Solo5 hvt guests, fed a hand-made kvm_run (no KVM). */
#include "hvt_solo5_decode.h"

#include "helper_hvt_solo5.h"

/*
 * The very code the helper runs (helper_hvt_solo5_core.c, _blk.c, _net.c),
 * linked into the test addon, Firecracker style: each call builds a
 * KVM_EXIT_IO record as KVM would (the value in the run area's second page)
 * and asks hvt_solo5_io() for its verdict. Nothing here ends the process,
 * which is the point of handlers that return.
 */

#define RUN_SIZE 8192
#define DATA_OFFSET 4096

static union {
  struct kvm_run run;
  uint8_t bytes[RUN_SIZE];
} area __attribute__((aligned(4096)));

int sn_test_hvt_solo5_io(uint8_t *mem, uint64_t mem_size, const struct sn_test_hvt_io *io,
                         const struct sn_test_hvt_dev *devs, unsigned ndevs, int *status, char *why,
                         unsigned why_size) {
  static struct hvt_solo5_vm vm;
  uint8_t *clear = (uint8_t *)&vm;
  for (unsigned i = 0; i < sizeof vm; i++) clear[i] = 0;
  vm.mem.base = mem;
  vm.mem.size = mem_size;
  vm.alloc = mem_size;
  vm.run = &area.run;
  vm.run_size = RUN_SIZE;
  vm.vcpu_fd = -1;
  for (unsigned i = 0; i < ndevs; i++) {
    if (devs[i].index == 0 || devs[i].index >= SN_MFT_MAX_ENTRIES) return -1;
    vm.dev[devs[i].index].type = devs[i].type;
    vm.dev[devs[i].index].fd = devs[i].fd;
    vm.dev[devs[i].index].capacity = devs[i].capacity;
    if (devs[i].type == SN_MFT_DEV_BLOCK_BASIC)
      vm.nblock++;
    else
      vm.nnet++;
  }
  for (unsigned i = 0; i < RUN_SIZE; i++) area.bytes[i] = 0;
  area.run.exit_reason = KVM_EXIT_IO;
  area.run.io.direction = io->direction;
  area.run.io.size = io->size;
  area.run.io.port = io->port;
  area.run.io.count = io->count;
  area.run.io.data_offset = io->data_offset ? io->data_offset : DATA_OFFSET;
  if (area.run.io.data_offset <= RUN_SIZE - 4)
    for (unsigned i = 0; i < 4; i++) area.bytes[area.run.io.data_offset + i] = (uint8_t)(io->value >> (8 * i));
  struct hc_out out;
  out.status = 0;
  out.why.len = 0;
  enum hc_next next = hvt_solo5_io(&vm, &out);
  *status = out.status;
  unsigned n = out.why.len < why_size - 1 ? out.why.len : why_size - 1;
  for (unsigned i = 0; i < n; i++) why[i] = out.why.buf[i];
  why[n] = 0;
  return next == HC_CONTINUE ? 0 : next == HC_EXIT ? 1 : 2;
}
