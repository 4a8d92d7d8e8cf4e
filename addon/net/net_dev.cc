// net_dev.cc: tx consumption, rx production and tap I/O of a net device, every guest value checked once.
#include "net_dev.h"

#include <sys/epoll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "broker_index.h"
#include "broker_shm.h"

namespace sn {

namespace {

constexpr uint32_t kBatch = 64;

std::string Errno(const char *what, int err) { return std::string(what) + " failed: " + strerrorname_np(err); }

}  // namespace

NetDev::NetDev(Guest *guest, const NetSpec &spec, const DevPlacement &place, uint8_t *dev_block)
    : NetPort(guest, spec) {
  stride_ = place.stride;
  slots_ = place.slots;
  mask_ = place.slots - 1;
  fair_.Reset(place.slots);
  shm_ = reinterpret_cast<volatile struct sn_net_dev *>(dev_block);
  tx_slots_ = reinterpret_cast<volatile struct sn_net_slot *>(dev_block + place.tx_slots);
  rx_slots_ = reinterpret_cast<volatile struct sn_net_slot *>(dev_block + place.rx_slots);
  tx_buf_ = dev_block + place.tx_buf;
  rx_buf_ = dev_block + place.rx_buf;
}

NetDev::~NetDev() { Detach(); }

uint32_t NetDev::Poll(bool *kick) {
  uint32_t done = ServiceTx(kick);
  if (tap_fd_ >= 0 && tap_readable_ && !tap_dead_) done += TapReceive(kick);
  if (has_stream()) done += ServiceStream(&tap_readable_);  // epoll's readable flag, as for a tap
  return done;
}

uint32_t NetDev::ServiceTx(bool *kick) {
  uint32_t avail;
  std::string why;
  if (!CheckProducer("tx producer", ShmAcquire(&shm_->tx.prod), tx_cons_, &tx_prod_seen_, slots_, &avail, &why)) {
    guest_->Violation(name_, why);
    return 0;
  }
  if (avail == 0) return 0;
  const uint32_t n = std::min(avail, kBatch);
  Frame frames[kBatch];
  uint32_t nf = 0;
  for (uint32_t k = 0; k < n; k++) {
    const uint32_t idx = (tx_cons_ + k) & mask_;
    const uint32_t len = ShmRead32(&tx_slots_[idx].len);  // read once; the buffer address is ours
    if (len < 14 || len > mtu_ + 14) {
      tx_errors_.fetch_add(1, std::memory_order_relaxed);
      continue;
    }
    frames[nf].data = tx_buf_ + static_cast<uint64_t>(idx) * stride_;
    frames[nf].len = len;
    if (pcap_) Capture(frames[nf].data, len);
    tx_packets_.fetch_add(1, std::memory_order_relaxed);
    tx_bytes_.fetch_add(len, std::memory_order_relaxed);
    nf++;
  }
  Transmit(frames, nf);
  // The frames have been copied out (switch) or handed to the kernel (tap):
  // only now may the guest reuse the slots.
  tx_cons_ += n;
  ShmRelease(&shm_->tx.cons, tx_cons_);
  ShmFullFence();
  if (ShmRead32(&shm_->tx.prod_waiting)) *kick = true;
  return n;
}

bool NetDev::RxSpaceLocked(uint32_t *space) {
  std::string why;
  const uint32_t before = rx_cons_seen_;
  if (CheckConsumer("rx consumer", ShmAcquire(&shm_->rx.cons), rx_prod_, &rx_cons_seen_, slots_, space, &why)) {
    fair_.Freed(before, rx_cons_seen_);
    return true;
  }
  guest_->Violation(name_, why);
  return false;
}

uint32_t NetDev::Deliver(const Frame *frames, uint32_t n, uint32_t src_port) {
  if (guest_->violated()) {
    rx_dropped_.fetch_add(n, std::memory_order_relaxed);
    return 0;
  }
  uint32_t queued = 0;
  {
    std::lock_guard<std::mutex> lock(rx_mu_);
    uint32_t space = 0;
    if (!RxSpaceLocked(&space)) return 0;
    // Ports other than this one and the sender: only they could need room.
    const uint32_t ports = sw_ ? sw_->port_count() : 0;
    const uint32_t others = ports > 2 ? ports - 2 : 0;
    for (uint32_t i = 0; i < n; i++) {
      const uint32_t len = frames[i].len;
      // A full queue drops like Ethernet; a sender past its share of the
      // queue drops too, so that it cannot keep the others out.
      if (space == 0 || len < 14 || len > mtu_ + 14 || !fair_.Admit(src_port, space, others)) {
        rx_dropped_.fetch_add(1, std::memory_order_relaxed);
        continue;
      }
      memcpy(RxBufferLocked(), const_cast<const uint8_t *>(frames[i].data), len);
      fair_.Took(rx_prod_, src_port);
      FillRxSlotLocked(len);
      space--;
      queued++;
    }
    if (queued == 0) return 0;
    ShmRelease(&shm_->rx.prod, rx_prod_);
  }
  if (RxPublished(queued)) guest_->KickGuest();
  return queued;
}

uint8_t *NetDev::RxBufferLocked() { return rx_buf_ + static_cast<uint64_t>(rx_prod_ & mask_) * stride_; }

void NetDev::FillRxSlotLocked(uint32_t len) {
  const uint32_t idx = rx_prod_ & mask_;
  ShmWrite32(&rx_slots_[idx].len, len);
  ShmWrite32(&rx_slots_[idx].flags, 0);
  if (pcap_) Capture(RxBufferLocked(), len);
  rx_bytes_.fetch_add(len, std::memory_order_relaxed);
  rx_prod_++;
}

bool NetDev::RxPublished(uint32_t n) {
  rx_packets_.fetch_add(n, std::memory_order_relaxed);
  ShmFullFence();
  return ShmRead32(&shm_->rx.cons_waiting) != 0;
}

uint32_t NetDev::TapReceive(bool *kick) {
  uint32_t got = 0;
  {
    std::lock_guard<std::mutex> lock(rx_mu_);
    uint32_t space = 0;
    if (!RxSpaceLocked(&space)) return 0;
    while (space > 0 && got < kBatch) {
      // Straight into the guest's slot buffer; a frame that fills the whole
      // stride (one byte more than mtu + 14) was larger than the MTU.
      ssize_t r = read(tap_fd_, RxBufferLocked(), stride_);
      if (r < 0) {
        if (errno == EINTR) continue;
        tap_readable_ = false;
        if (errno != EAGAIN) {
          tap_dead_ = true;
          SetTapInterest(false);
          guest_->Error(name_, Errno("tap read", errno));
        }
        break;
      }
      if (r < 14 || r > static_cast<ssize_t>(mtu_ + 14)) {
        rx_dropped_.fetch_add(1, std::memory_order_relaxed);
        continue;
      }
      fair_.Took(rx_prod_, 0);
      FillRxSlotLocked(static_cast<uint32_t>(r));
      space--;
      got++;
    }
    if (got == 0) return 0;
    ShmRelease(&shm_->rx.prod, rx_prod_);
  }
  if (RxPublished(got)) *kick = true;
  return got;
}

void NetDev::SetTapInterest(bool on) {
  if (tap_fd_ < 0 || epoll_fd_ < 0 || tap_interest_ == on) return;
  struct epoll_event ev;
  memset(&ev, 0, sizeof ev);
  ev.events = on ? static_cast<uint32_t>(EPOLLIN) : 0u;
  ev.data.u64 = epoll_tag_;
  if (epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, tap_fd_, &ev) == 0) tap_interest_ = on;
}

bool NetDev::Audit(std::string *why) {
  uint32_t avail = 0, space = 0;
  uint32_t seen = tx_prod_seen_;
  if (!CheckProducer("tx producer", ShmAcquire(&shm_->tx.prod), tx_cons_, &seen, slots_, &avail, why)) return false;
  std::lock_guard<std::mutex> lock(rx_mu_);
  uint32_t cseen = rx_cons_seen_;
  return CheckConsumer("rx consumer", ShmAcquire(&shm_->rx.cons), rx_prod_, &cseen, slots_, &space, why);
}

void NetDev::ArmWait() {
  ShmWrite32(&shm_->tx.cons_waiting, 1);
  if (tap_fd_ < 0 || tap_dead_) return;
  uint32_t space = 0;
  {
    std::lock_guard<std::mutex> lock(rx_mu_);
    if (!RxSpaceLocked(&space)) return;
  }
  if (space == 0) {
    // Leave frames in the tap's own queue until the guest makes room, and
    // stop epoll from reporting a readable tap we cannot read.
    ShmWrite32(&shm_->rx.prod_waiting, 1);
    rx_wait_armed_ = true;
    SetTapInterest(false);
  } else {
    SetTapInterest(true);
  }
}

bool NetDev::HasWork() {
  if (ShmAcquire(&shm_->tx.prod) != tx_cons_) return true;
  if (!rx_wait_armed_ || !tap_readable_) return false;
  std::lock_guard<std::mutex> lock(rx_mu_);
  uint32_t space = 0;
  return RxSpaceLocked(&space) && space > 0;
}

void NetDev::DisarmWait() {
  ShmWrite32(&shm_->tx.cons_waiting, 0);
  if (rx_wait_armed_) {
    ShmWrite32(&shm_->rx.prod_waiting, 0);
    rx_wait_armed_ = false;
    // Woken because the guest made room: frames may have queued in the tap
    // while epoll was not watching it, so look without waiting for epoll.
    tap_readable_ = true;
  }
}

}  // namespace sn
