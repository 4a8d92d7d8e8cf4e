// broker_hvtring.cc: serves a Solo5-ABI hvt guest's 0.11+ net ring from the pump: entries in, frames out, commits back.
#include "broker_hvtring.h"

#include <sched.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstring>

#include "broker_guest.h"
#include "broker_shm.h"

namespace sn {

namespace {

constexpr uint32_t kSlots = SN_SOLO5_HVT_RING_SLOTS;
constexpr uint32_t kMask = kSlots - 1;
// The smallest buffer that holds an Ethernet header: a read into less could
// only truncate (and, on a seqpacket socket, lose) the frame.
constexpr uint32_t kMinFrame = 14;
constexpr uint64_t kYieldAfterNs = 5000;
const char kDevice[] = "net ring";

std::string Hex(uint64_t v) {
  char b[24];
  snprintf(b, sizeof b, "0x%" PRIx64, v);
  return b;
}

}  // namespace

HvtRing::HvtRing(Guest *guest, uint8_t *mem, const HvtRingSpec &spec)
    : guest_(guest),
      mem_(mem),
      visible_(spec.addr),
      ring_(reinterpret_cast<volatile struct sn_solo5_hvt_ring *>(mem + spec.addr)),
      by_handle_(SN_MFT_MAX_ENTRIES, nullptr) {
  for (const HvtRingNet &n : spec.nets) {
    nets_.emplace_back(new Net());
    Net *d = nets_.back().get();
    d->name = n.name;
    d->mtu = n.mtu;
    d->fd = n.fd;
    if (n.index < by_handle_.size()) by_handle_[n.index] = d;
  }
  // The tender zeroes the area; the pump starts asleep as far as the guest
  // knows, so that entries queued before it first looks still ring the kick.
  ShmWrite32(&ring_->needs_kick, 1);
}

HvtRing::Net *HvtRing::Device(uint32_t handle) { return handle < by_handle_.size() ? by_handle_[handle] : nullptr; }

bool HvtRing::InGuest(const char *op, uint64_t data, uint32_t len) {
  if (len <= visible_ && data <= visible_ - len) return true;
  // Upstream's tender ends itself with these words; here the guest ends.
  guest_->Violation(kDevice, std::string(op) + ": Invalid guest access: gpa=" + Hex(data) +
                                 ", sz=" + std::to_string(len) + " (guest memory ends at " + Hex(visible_) + ")");
  return false;
}

void HvtRing::Commit(uint32_t id, int32_t ret, uint32_t len) {
  volatile struct sn_solo5_hvt_ring_commit *c = &ring_->com[com_tail_ & kMask];
  ShmWrite32(&c->id, id);
  ShmWrite32(reinterpret_cast<volatile uint32_t *>(&c->ret), static_cast<uint32_t>(ret));
  ShmWrite32(&c->len, len);
  ShmWrite32(&c->reserved, 0);
  ShmRelease(&ring_->com_tail, ++com_tail_);
}

void HvtRing::Write(const Entry &e) {
  Net *n = Device(e.handle);
  if (n == nullptr) {
    bad_handles_.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  if (!InGuest("NET_WRITE", e.data, e.len)) return;
  if (e.len < kMinFrame || e.len > n->mtu + kMinFrame) {
    n->tx_dropped.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  // The guest may rewrite the frame while the kernel copies it: only what
  // it sends is garbled, the bounds were checked on the local copies.
  ssize_t w;
  do {
    w = write(n->fd, mem_ + e.data, e.len);
  } while (w < 0 && errno == EINTR);
  if (w == static_cast<ssize_t>(e.len)) {
    n->tx.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  n->tx_dropped.fetch_add(1, std::memory_order_relaxed);
  // A full queue drops the frame, as a NIC does; anything else is said once.
  if (w < 0 && (errno == EAGAIN || errno == ENOBUFS)) return;
  if (!n->reported) {
    n->reported = true;
    guest_->Error(n->name,
                  w < 0 ? std::string("ring write failed: ") + strerrorname_np(errno) : "ring write was short");
  }
}

bool HvtRing::Read(const Entry &e) {
  const uint32_t com_head = ShmAcquire(&ring_->com_head);
  const uint32_t used = com_tail_ - com_head;
  if (used > kSlots) {
    guest_->Violation(kDevice, "com_head " + std::to_string(com_head) + " is more than " + std::to_string(kSlots) +
                                   " commits behind com_tail " + std::to_string(com_tail_));
    return false;
  }
  if (used == kSlots) {
    // The guest has not taken its commits: wait (asleep) until it does.
    stalled_ = true;
    stalled_com_head_ = com_head;
    stalls_.fetch_add(1, std::memory_order_relaxed);
    return false;
  }
  Net *n = Device(e.handle);
  if (n == nullptr) {
    bad_handles_.fetch_add(1, std::memory_order_relaxed);
    Commit(e.id, SN_SOLO5_R_EINVAL, 0);
    return true;
  }
  if (!InGuest("NET_READ", e.data, e.len)) return false;
  if (e.len < kMinFrame || guest_->TouchesReadOnly(e.data, e.len)) {
    if (e.len >= kMinFrame) read_only_.fetch_add(1, std::memory_order_relaxed);
    n->rx_einval.fetch_add(1, std::memory_order_relaxed);
    Commit(e.id, SN_SOLO5_R_EINVAL, 0);
    return true;
  }
  ssize_t r;
  do {
    r = read(n->fd, mem_ + e.data, e.len);
  } while (r < 0 && errno == EINTR);
  if (r > 0) {
    n->rx.fetch_add(1, std::memory_order_relaxed);
    Commit(e.id, SN_SOLO5_R_OK, static_cast<uint32_t>(r));
  } else if (r == 0 || errno == EAGAIN) {
    n->rx_again.fetch_add(1, std::memory_order_relaxed);
    found_nothing_ = true;
    Commit(e.id, SN_SOLO5_R_AGAIN, 0);
  } else {
    n->rx_einval.fetch_add(1, std::memory_order_relaxed);
    if (!n->reported) {
      n->reported = true;
      guest_->Error(n->name, std::string("ring read failed: ") + strerrorname_np(errno));
    }
    Commit(e.id, SN_SOLO5_R_EINVAL, 0);
  }
  return true;
}

bool HvtRing::Take(const Entry &e) {
  switch (e.op) {
    case SN_SOLO5_HVT_RING_OP_NET_WRITE:
      Write(e);
      return !guest_->violated();
    case SN_SOLO5_HVT_RING_OP_NET_READ:
      return Read(e);
    default:
      bad_ops_.fetch_add(1, std::memory_order_relaxed);
      return true;
  }
}

bool HvtRing::Service() {
  const uint32_t tail = ShmAcquire(&ring_->ent_tail);
  const uint32_t pending = tail - ent_head_;
  if (pending == 0) return false;
  if (pending > kSlots) {
    guest_->Violation(kDevice, "ent_tail " + std::to_string(tail) + " is more than " + std::to_string(kSlots) +
                                   " entries ahead of ent_head " + std::to_string(ent_head_));
    return false;
  }
  if (stalled_) {
    if (ShmAcquire(&ring_->com_head) == stalled_com_head_) return false;
    stalled_ = false;
  }
  bool took = false;
  while (ent_head_ != tail) {
    volatile struct sn_solo5_hvt_ring_entry *s = &ring_->ent[ent_head_ & kMask];
    Entry e;
    e.op = ShmRead32(&s->operation);
    e.handle = ShmRead32(&s->handle);
    e.data = ShmRead64(&s->data);
    e.len = ShmRead32(&s->len);
    e.id = ShmRead32(&s->id);
    if (!Take(e)) break;
    ent_head_++;
    took = true;
  }
  // Writes are fire-and-forget: one release of ent_head frees their slots.
  if (took) ShmRelease(&ring_->ent_head, ent_head_);
  return took;
}

bool HvtRing::HasWork() {
  if (ShmAcquire(&ring_->ent_tail) == ent_head_) return false;
  return !stalled_ || ShmAcquire(&ring_->com_head) != stalled_com_head_;
}

void HvtRing::ArmKick() { ShmWrite32(&ring_->needs_kick, 1); }

void HvtRing::DisarmKick() { ShmWrite32(&ring_->needs_kick, 0); }

void HvtRing::AddCounters(std::vector<std::pair<std::string, double>> *out) {
  for (auto &n : nets_) {
    auto put = [&](const char *key, const std::atomic<uint64_t> &v) {
      out->emplace_back(n->name + "." + key, static_cast<double>(v.load(std::memory_order_relaxed)));
    };
    put("ringTxPackets", n->tx);
    put("ringTxDropped", n->tx_dropped);
    put("ringRxPackets", n->rx);
    put("ringRxAgain", n->rx_again);
    put("ringRxEinval", n->rx_einval);
  }
  out->emplace_back("ring.badHandles", static_cast<double>(bad_handles_.load(std::memory_order_relaxed)));
  out->emplace_back("ring.badOps", static_cast<double>(bad_ops_.load(std::memory_order_relaxed)));
  out->emplace_back("ring.readOnly", static_cast<double>(read_only_.load(std::memory_order_relaxed)));
  out->emplace_back("ring.stalls", static_cast<double>(stalls_.load(std::memory_order_relaxed)));
}

// Maps guest memory, takes the ring's device fds and makes the kick eventfd
// (the helper registers its duplicate on port 0x600 as a KVM ioeventfd).
bool Guest::CreateHvtRing(GuestSpec &spec, std::string *err) {
  if (!MapMemory(spec, err)) return false;
  for (HvtRingNet &n : spec.hvt.nets)
    if (!Own(&n.fd, n.name, err)) return false;
  hvt_kick_fd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (hvt_kick_fd_ < 0) {
    *err = std::string("eventfd failed: ") + strerrorname_np(errno);
    return false;
  }
  struct epoll_event ev;
  memset(&ev, 0, sizeof ev);
  ev.events = EPOLLIN;
  ev.data.u64 = kTagHvtKick;
  if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, hvt_kick_fd_, &ev) < 0) {
    *err = std::string("epoll_ctl failed: ") + strerrorname_np(errno);
    return false;
  }
  hvt_.reset(new HvtRing(this, mem_, spec.hvt));
  return true;
}

/*
 * The ring's consumer loop, beside the guest's sockets: serve entries while
 * there are any, spin a little (the guest's reads are synchronous, so its
 * next entry is usually microseconds away), then announce the sleep with
 * needs_kick, fence, look once more and only then block in epoll, where the
 * kick, the stop wake-up and the device sockets all end the wait.
 */
void Guest::HvtPump() {
  uint64_t idle_since = 0;
  uint32_t idle_iter = 0;
  const bool socks = !socks_.empty();
  while (!stopping_.load(std::memory_order_relaxed) && !violated_.load(std::memory_order_relaxed)) {
    bool work = hvt_->Service();
    // A read that found nothing: the guest waits for input (its bindings
    // may be looking ahead through the ring), and whoever sends it may be
    // waiting for this CPU. Give it away once; nothing else runnable, and
    // this costs a system call.
    if (work && hvt_->FoundNothing()) sched_yield();
    // Frames for a brokered backend wait in the tender's socket ends: look
    // at them between ring rounds too, without blocking.
    if (socks && (work || (idle_iter & 15) == 15)) work = SockDispatch(0) || work;
    if (work) {
      idle_iter = 0;
      continue;
    }
    if (idle_iter++ == 0) idle_since = MonotonicNs();
    if ((idle_iter & 15) != 0) {
      CpuRelax();
      continue;
    }
    const uint64_t now = MonotonicNs();
    if (now - idle_since < spin_ns_) {
      if (now - idle_since >= kYieldAfterNs) sched_yield();
      continue;
    }
    hvt_->ArmKick();
    ShmFullFence();
    if (!hvt_->HasWork() && !stopping_.load() && !violated_.load()) {
      sleeps_.fetch_add(1, std::memory_order_relaxed);
      SockDispatch(-1);
    }
    hvt_->DisarmKick();
    idle_iter = 0;
  }
}

}  // namespace sn
