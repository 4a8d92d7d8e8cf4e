/* hvt_solo5_decode.h: TEST ONLY: a C entry into the helper's Solo5 hvt hypercall decode, for the test addon. */
#ifndef HVT_SOLO5_DECODE_H
#define HVT_SOLO5_DECODE_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct sn_test_hvt_io {
  uint32_t port;
  uint8_t direction; /* KVM_EXIT_IO_IN 0, KVM_EXIT_IO_OUT 1 */
  uint8_t size;
  uint32_t count;
  uint64_t data_offset; /* 0: where KVM puts it (the run area's second page) */
  uint32_t value;
};

struct sn_test_hvt_dev {
  uint32_t index; /* manifest index: the guest's handle */
  uint32_t type;  /* SN_MFT_DEV_* */
  int fd;
  uint64_t capacity;
};

/* 0 continue, 1 exit (*status), 2 fatal (why); -1 a bad device list. */
int sn_test_hvt_solo5_io(uint8_t *mem, uint64_t mem_size, const struct sn_test_hvt_io *io,
                         const struct sn_test_hvt_dev *devs, unsigned ndevs, int *status, char *why, unsigned why_size);

#ifdef __cplusplus
}
#endif

#endif /* HVT_SOLO5_DECODE_H */
