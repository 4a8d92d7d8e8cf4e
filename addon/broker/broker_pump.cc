// broker_pump.cc: the per-guest pump thread: services every ring, spins briefly when idle, then sleeps.
#include <pthread.h>
#include <sched.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <cerrno>

#include "block_dev.h"
#include "broker_guest.h"
#include "broker_shm.h"
#include "net_dev.h"

namespace sn {

namespace {

// While spinning, read the tap fds this often: they have no index in shared
// memory to watch. A read that finds a frame delivers it at once; asking
// epoll first cost one more syscall per frame (docs/decisions.md).
constexpr uint64_t kTapPeekNs = 2000;
constexpr uint64_t kYieldAfterNs = 5000;

}  // namespace

void *Guest::PumpMain(void *arg) {
  pthread_setname_np(pthread_self(), "sn-pump");
  Guest *g = static_cast<Guest *>(arg);
  if (g->solo5_)
    g->SockPump();
  else
    g->Pump();
  return nullptr;
}

bool Guest::ServiceAll(bool *kick) {
  uint32_t done = 0;
  for (auto &b : blks_) done += b->Poll();
  for (auto &n : nets_) done += n->Poll(kick);
  return done > 0;
}

void Guest::Dispatch(int timeout_ms) {
  struct epoll_event evs[16];
  int n = epoll_wait(epoll_fd_, evs, 16, timeout_ms);
  for (int i = 0; i < n; i++) {
    uint64_t tag = evs[i].data.u64;
    uint64_t count;
    if (tag == kTagDoorbell) {
      if (read(db_tender_, &count, sizeof count) < 0) {
        // EAGAIN: drained already; nothing else can fail on an eventfd.
      }
    } else if (tag == kTagWake) {
      if (read(wake_fd_, &count, sizeof count) < 0) {
        // as above
      }
    } else if (tag >= kTagTap && tag - kTagTap < nets_.size()) {
      nets_[tag - kTagTap]->OnTapReadable();
    }
  }
}

// The consumer half of the suppression protocol of docs/abi.md: announce
// the sleep, fence, look once more, and only then block in the kernel.
void Guest::Sleep() {
  for (auto &b : blks_) b->ArmWait();
  for (auto &n : nets_) n->ArmWait();
  ShmFullFence();
  bool work = violated_.load() || stopping_.load();
  for (auto &b : blks_) work = work || b->HasWork();
  for (auto &n : nets_) work = work || n->HasWork();
  if (!work) {
    sleeps_.fetch_add(1, std::memory_order_relaxed);
    Dispatch(-1);
  }
  for (auto &b : blks_) b->DisarmWait();
  for (auto &n : nets_) n->DisarmWait();
}

void Guest::Pump() {
  bool has_tap = false;
  for (auto &n : nets_) has_tap = has_tap || n->tap_fd() >= 0 || n->has_stream();
  uint64_t idle_since = 0, last_peek = 0;
  uint32_t idle_iter = 0;
  const bool shared_cpu = cpu_ >= 0;
  while (!stopping_.load(std::memory_order_relaxed) && !violated_.load(std::memory_order_relaxed)) {
    bool kick = false;
    const uint64_t kicks_before = kicks_.load(std::memory_order_relaxed);
    bool work = ServiceAll(&kick);
    if (kick) KickGuest();
    if (blk_kicked_) {
      blk_kicked_ = false;
      LeaveGuestCpu();  // a no-op for a pinned pump: it has no guest stat fd
    }
    // On a shared CPU the guest we just woke can run only once we stop:
    // sleep at once, and its doorbell brings us back when it has sent.
    if (shared_cpu && kicks_.load(std::memory_order_relaxed) != kicks_before) {
      Sleep();
      idle_iter = 0;
      continue;
    }
    if (work) {
      idle_iter = 0;
      continue;
    }
    // Reading the clock costs about as much as a look at every queue on a
    // VM, so the spin window is checked only every few rounds.
    if (idle_iter++ == 0) idle_since = last_peek = MonotonicNs();
    if ((idle_iter & 15) != 0) {
      CpuRelax();
      continue;
    }
    const uint64_t now = MonotonicNs();
    if (now - idle_since < spin_ns_) {
      if (has_tap && now - last_peek >= kTapPeekNs) {
        for (auto &n : nets_) n->OnTapReadable();
        last_peek = now;
      }
      // Past the first few microseconds, give the core away between looks:
      // on a busy machine the guest we wait for may need this very core.
      if (shared_cpu || now - idle_since >= kYieldAfterNs) sched_yield();
      continue;
    }
    Sleep();
    idle_iter = 0;
  }
}

}  // namespace sn
