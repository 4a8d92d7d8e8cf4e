// broker_fakeguest.cc: TEST SUPPORT ONLY: guest-side queue operations with the suppression protocol, for benchmarks.
#include "broker_fakeguest.h"

#include <poll.h>
#include <unistd.h>

#include <cstring>

#include "broker_shm.h"

namespace sn {

namespace {

constexpr uint64_t kGuestSpinNs = 100000;

}  // namespace

void FakeGuestKick(int doorbell) {
  uint64_t one = 1;
  if (write(doorbell, &one, sizeof one) < 0) {
    // EAGAIN only: the counter is saturated, the tender is awake.
  }
}

// Waits like a guest: spin a little, then announce the wait with the flag,
// fence, re-check, and sleep once on the to-guest doorbell.
template <typename Ready>
void FakeGuestWait(volatile uint32_t *flag, int doorbell, Ready ready) {
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

uint8_t *FakeGuestDevice(Guest *g, uint32_t index) {
  if (!g->mapped() || index == 0 || index >= SN_MFT_MAX_ENTRIES) return nullptr;
  auto *hdr = reinterpret_cast<struct sn_rings_hdr *>(g->mem() + g->rings_addr());
  uint64_t off = hdr->dev_off[index];
  return off == 0 ? nullptr : g->mem() + g->rings_addr() + off;
}

FakeNet::FakeNet(Guest *g, uint32_t index) : g_(g) {
  uint8_t *d = FakeGuestDevice(g, index);
  if (!d) return;
  dev_ = reinterpret_cast<volatile struct sn_net_dev *>(d);
  tx_slots_ = reinterpret_cast<volatile struct sn_net_slot *>(d + dev_->tx_slots_off);
  tx_buf_ = d + dev_->tx_buf_off;
  stride_ = dev_->buf_stride;
  tx_prod_ = dev_->tx.prod;
  rx_cons_ = dev_->rx.cons;
}

void FakeNet::Send(const uint8_t *frame, uint32_t len) {
  while (tx_prod_ - ShmAcquire(&dev_->tx.cons) >= SN_NET_SLOTS)
    FakeGuestWait(&dev_->tx.prod_waiting, g_->doorbell_to_guest(),
                  [&] { return tx_prod_ - ShmAcquire(&dev_->tx.cons) < SN_NET_SLOTS; });
  uint32_t i = tx_prod_ & (SN_NET_SLOTS - 1);
  memcpy(tx_buf_ + static_cast<uint64_t>(i) * stride_, frame, len);
  tx_slots_[i].len = len;
  ShmRelease(&dev_->tx.prod, ++tx_prod_);
  ShmFullFence();
  if (ShmRead32(&dev_->tx.cons_waiting)) FakeGuestKick(g_->doorbell_to_tender());
}

uint32_t FakeNet::Drain() {
  uint32_t prod = ShmAcquire(&dev_->rx.prod);
  uint32_t got = prod - rx_cons_;
  if (got == 0) return 0;
  rx_cons_ = prod;
  ShmRelease(&dev_->rx.cons, rx_cons_);
  ShmFullFence();
  if (ShmRead32(&dev_->rx.prod_waiting)) FakeGuestKick(g_->doorbell_to_tender());
  return got;
}

bool FakeNet::WaitRx(uint64_t timeout_ns) {
  const uint64_t end = MonotonicNs() + timeout_ns;
  auto ready = [&] { return ShmAcquire(&dev_->rx.prod) != rx_cons_; };
  while (!ready() && MonotonicNs() < end) FakeGuestWait(&dev_->rx.cons_waiting, g_->doorbell_to_guest(), ready);
  return ready();
}

FakeBlk::FakeBlk(Guest *g, uint32_t index) : g_(g) {
  uint8_t *d = FakeGuestDevice(g, index);
  if (!d) return;
  dev_ = reinterpret_cast<volatile struct sn_blk_dev *>(d);
  reqs_ = reinterpret_cast<volatile struct sn_blk_req *>(d + dev_->req_off);
  cpls_ = reinterpret_cast<volatile struct sn_blk_cpl *>(d + dev_->cpl_off);
  prod_ = dev_->req.prod;
  cons_ = dev_->cpl.cons;
}

uint32_t FakeBlk::Run(uint32_t op, uint64_t offset, uint64_t addr, uint64_t len) {
  volatile struct sn_blk_req *r = &reqs_[prod_ & (SN_BLK_SLOTS - 1)];
  r->op = op;
  r->offset = offset;
  r->addr = addr;
  r->len = len;
  r->id = ++id_;
  ShmRelease(&dev_->req.prod, ++prod_);
  ShmFullFence();
  if (ShmRead32(&dev_->req.cons_waiting)) FakeGuestKick(g_->doorbell_to_tender());
  auto ready = [&] { return ShmAcquire(&dev_->cpl.prod) != cons_; };
  while (!ready()) FakeGuestWait(&dev_->cpl.cons_waiting, g_->doorbell_to_guest(), ready);
  uint32_t status = cpls_[cons_ & (SN_BLK_SLOTS - 1)].status;
  ShmRelease(&dev_->cpl.cons, ++cons_);
  ShmFullFence();
  if (ShmRead32(&dev_->cpl.prod_waiting)) FakeGuestKick(g_->doorbell_to_tender());
  return status;
}

}  // namespace sn
