// fake_guest.cc: TEST ONLY: guest-side queue operations with the suppression protocol, for tests and benchmarks.
#include "fake_guest.h"

#include <poll.h>
#include <unistd.h>

#include <cmath>
#include <cstring>

#include "broker_shm.h"

namespace sntest {

using sn::CpuRelax;
using sn::MonotonicNs;
using sn::ShmAcquire;
using sn::ShmFullFence;
using sn::ShmRead32;
using sn::ShmRelease;
using sn::ShmWrite32;

namespace {

constexpr uint64_t kGuestSpinNs = 100000;

// Waits like a guest: spin a little, then announce the wait with the flag,
// fence, re-check, and sleep once on the to-guest doorbell.
template <typename Ready>
void Wait(volatile uint32_t *flag, int doorbell, Ready ready) {
  const uint64_t start = MonotonicNs();
  uint32_t iter = 0;
  while (!ready()) {
    if ((++iter & 15) != 0 || MonotonicNs() - start < kGuestSpinNs) {
      CpuRelax();
      continue;
    }
    ShmWrite32(flag, 1);
    ShmFullFence();
    if (!ready()) {
      struct pollfd p = {doorbell, POLLIN, 0};
      poll(&p, 1, 10);
      uint64_t v;
      if (read(doorbell, &v, sizeof v) < 0) {
        // EAGAIN: woken by the timeout, not the doorbell.
      }
    }
    ShmWrite32(flag, 0);
    return;
  }
}

}  // namespace

bool IsUint(const Napi::Value &v, uint64_t lo, uint64_t hi, uint64_t *out) {
  if (!v.IsNumber()) return false;
  double d = v.As<Napi::Number>().DoubleValue();
  if (!(d >= static_cast<double>(lo)) || !(d <= static_cast<double>(hi)) || std::floor(d) != d) return false;
  *out = static_cast<uint64_t>(d);
  return true;
}

void Kick(int doorbell) {
  uint64_t one = 1;
  if (write(doorbell, &one, sizeof one) < 0) {
    // EAGAIN only: the counter is saturated, the tender is awake.
  }
}

uint8_t *DeviceBlock(const GuestMem &g, uint32_t index) {
  if (g.mem == nullptr || index == 0 || index >= SN_MFT_MAX_ENTRIES) return nullptr;
  auto *hdr = reinterpret_cast<struct sn_rings_hdr *>(g.mem + g.rings);
  uint64_t off = hdr->dev_off[index];
  return off == 0 ? nullptr : g.mem + g.rings + off;
}

FakeNet::FakeNet(const GuestMem &g, uint32_t index) : g_(g) {
  uint8_t *d = DeviceBlock(g, index);
  if (!d) return;
  dev_ = reinterpret_cast<volatile struct sn_net_dev *>(d);
  tx_slots_ = reinterpret_cast<volatile struct sn_net_slot *>(d + dev_->tx_slots_off);
  tx_buf_ = d + dev_->tx_buf_off;
  stride_ = dev_->buf_stride;
  slots_ = dev_->slots;
  tx_prod_ = dev_->tx.prod;
  rx_cons_ = dev_->rx.cons;
}

void FakeNet::Send(const uint8_t *frame, uint32_t len) {
  while (tx_prod_ - ShmAcquire(&dev_->tx.cons) >= slots_)
    Wait(&dev_->tx.prod_waiting, g_.db_guest, [&] { return tx_prod_ - ShmAcquire(&dev_->tx.cons) < slots_; });
  uint32_t i = tx_prod_ & (slots_ - 1);
  memcpy(tx_buf_ + static_cast<uint64_t>(i) * stride_, frame, len);
  tx_slots_[i].len = len;
  ShmRelease(&dev_->tx.prod, ++tx_prod_);
  ShmFullFence();
  if (ShmRead32(&dev_->tx.cons_waiting)) Kick(g_.db_tender);
}

uint32_t FakeNet::Drain() {
  uint32_t prod = ShmAcquire(&dev_->rx.prod);
  uint32_t got = prod - rx_cons_;
  if (got == 0) return 0;
  rx_cons_ = prod;
  ShmRelease(&dev_->rx.cons, rx_cons_);
  ShmFullFence();
  if (ShmRead32(&dev_->rx.prod_waiting)) Kick(g_.db_tender);
  return got;
}

bool FakeNet::WaitRx(uint64_t timeout_ns) {
  const uint64_t end = MonotonicNs() + timeout_ns;
  auto ready = [&] { return ShmAcquire(&dev_->rx.prod) != rx_cons_; };
  while (!ready() && MonotonicNs() < end) Wait(&dev_->rx.cons_waiting, g_.db_guest, ready);
  return ready();
}

FakeBlk::FakeBlk(const GuestMem &g, uint32_t index) : g_(g) {
  uint8_t *d = DeviceBlock(g, index);
  if (!d) return;
  dev_ = reinterpret_cast<volatile struct sn_blk_dev *>(d);
  reqs_ = reinterpret_cast<volatile struct sn_blk_req *>(d + dev_->req_off);
  cpls_ = reinterpret_cast<volatile struct sn_blk_cpl *>(d + dev_->cpl_off);
  slots_ = dev_->slots;
  prod_ = dev_->req.prod;
  cons_ = dev_->cpl.cons;
}

uint32_t FakeBlk::Run(uint32_t op, uint64_t offset, uint64_t addr, uint64_t len) {
  volatile struct sn_blk_req *r = &reqs_[prod_ & (slots_ - 1)];
  r->op = op;
  r->offset = offset;
  r->addr = addr;
  r->len = len;
  r->id = ++id_;
  ShmRelease(&dev_->req.prod, ++prod_);
  ShmFullFence();
  if (ShmRead32(&dev_->req.cons_waiting)) Kick(g_.db_tender);
  auto ready = [&] { return ShmAcquire(&dev_->cpl.prod) != cons_; };
  while (!ready()) Wait(&dev_->cpl.cons_waiting, g_.db_guest, ready);
  uint32_t status = cpls_[cons_ & (slots_ - 1)].status;
  ShmRelease(&dev_->cpl.cons, ++cons_);
  ShmFullFence();
  if (ShmRead32(&dev_->cpl.prod_waiting)) Kick(g_.db_tender);
  return status;
}

}  // namespace sntest
