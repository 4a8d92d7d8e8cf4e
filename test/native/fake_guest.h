// fake_guest.h: TEST ONLY: the guest's half of the ring protocol, played from the test process on its own mapping.
#ifndef SN_TEST_FAKE_GUEST_H
#define SN_TEST_FAKE_GUEST_H

#include <napi.h>

#include <cstdint>

#include "napi_uint.h"
#include "sn_abi.h"

namespace sntest {

// A test's own view of one guest: its memory (mapped here from the memfd, not
// borrowed from the broker) and duplicates of the guest's two doorbells.
struct GuestMem {
  uint8_t *mem = nullptr;
  uint64_t size = 0;
  uint64_t rings = 0;
  int db_tender = -1;  // the guest writes it to wake the tender (fd 5 in a guest)
  int db_guest = -1;   // the tender writes it to wake the guest
};

// The GuestMem behind a mapGuest() object, or null.
GuestMem *GuestMemOf(const Napi::Value &v);
using sn::IsUint;
void Kick(int doorbell);

// The device block of manifest entry `index` as the ring header names it, or
// null. A fake guest trusts its own memory, as a real one does.
uint8_t *DeviceBlock(const GuestMem &g, uint32_t index);

class FakeNet {
 public:
  FakeNet(const GuestMem &g, uint32_t index);
  bool ok() const { return dev_ != nullptr; }
  // Blocks (guest style) while tx is full, then queues one frame.
  void Send(const uint8_t *frame, uint32_t len);
  // Takes every frame waiting in rx; returns how many. Never blocks.
  uint32_t Drain();
  // Blocks (guest style) until rx has a frame or timeout_ns passed.
  bool WaitRx(uint64_t timeout_ns);

 private:
  const GuestMem &g_;
  volatile struct sn_net_dev *dev_ = nullptr;
  volatile struct sn_net_slot *tx_slots_ = nullptr;
  uint8_t *tx_buf_ = nullptr;
  uint32_t stride_ = 0, slots_ = 0, tx_prod_ = 0, rx_cons_ = 0;
};

class FakeBlk {
 public:
  FakeBlk(const GuestMem &g, uint32_t index);
  bool ok() const { return dev_ != nullptr; }
  // One synchronous request, as solo5_block_read/write do; returns the status.
  uint32_t Run(uint32_t op, uint64_t offset, uint64_t addr, uint64_t len);

 private:
  const GuestMem &g_;
  volatile struct sn_blk_dev *dev_ = nullptr;
  volatile struct sn_blk_req *reqs_ = nullptr;
  volatile struct sn_blk_cpl *cpls_ = nullptr;
  uint32_t slots_ = 0, prod_ = 0, cons_ = 0;
  uint64_t id_ = 0;
};

void RegisterHostile(Napi::Env env, Napi::Object exports);
void RegisterBench(Napi::Env env, Napi::Object exports);
void RegisterStream(Napi::Env env, Napi::Object exports);
void RegisterHvtRing(Napi::Env env, Napi::Object exports);
void RegisterHvtSolo5(Napi::Env env, Napi::Object exports);

}  // namespace sntest

#endif  // SN_TEST_FAKE_GUEST_H
