// broker_fakeguest.h: TEST SUPPORT ONLY: the guest's half of the ring protocol, run inside the tender for benchmarks.
#ifndef SN_BROKER_FAKEGUEST_H
#define SN_BROKER_FAKEGUEST_H

#include <cstdint>

#include "broker_guest.h"
#include "sn_abi.h"

namespace sn {

// Rings the tender's doorbell (the guest's fd 5).
void FakeGuestKick(int doorbell);

class FakeNet {
 public:
  FakeNet(Guest *g, uint32_t index);
  bool ok() const { return dev_ != nullptr; }
  // Blocks (guest style) while tx is full, then queues one frame.
  void Send(const uint8_t *frame, uint32_t len);
  // Takes every frame waiting in rx; returns how many. Never blocks.
  uint32_t Drain();
  // Blocks (guest style) until rx has a frame or timeout_ns passed.
  bool WaitRx(uint64_t timeout_ns);

 private:
  Guest *g_;
  volatile struct sn_net_dev *dev_ = nullptr;
  volatile struct sn_net_slot *tx_slots_ = nullptr;
  uint8_t *tx_buf_ = nullptr;
  uint32_t stride_ = 0, tx_prod_ = 0, rx_cons_ = 0;
};

class FakeBlk {
 public:
  FakeBlk(Guest *g, uint32_t index);
  bool ok() const { return dev_ != nullptr; }
  // One synchronous request, as solo5_block_read/write do; returns the status.
  uint32_t Run(uint32_t op, uint64_t offset, uint64_t addr, uint64_t len);

 private:
  Guest *g_;
  volatile struct sn_blk_dev *dev_ = nullptr;
  volatile struct sn_blk_req *reqs_ = nullptr;
  volatile struct sn_blk_cpl *cpls_ = nullptr;
  uint32_t prod_ = 0, cons_ = 0;
  uint64_t id_ = 0;
};

// The device block of manifest entry `index`, read from guest memory (the
// fake guest trusts it, as a real guest trusts its own memory), or null.
uint8_t *FakeGuestDevice(Guest *g, uint32_t index);

}  // namespace sn

#endif  // SN_BROKER_FAKEGUEST_H
