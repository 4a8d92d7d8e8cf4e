// broker_solo5.cc: the broker of a Solo5-ABI guest: socket net devices only, served from one epoll loop.
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "broker_guest.h"
#include "net_sock.h"

namespace sn {

namespace {

std::string Errno(const std::string &what, int err) { return what + " failed: " + strerrorname_np(err); }

}  // namespace

/*
 * Such a guest does its own system calls on host fds: there is no ring area,
 * no mapping of its memory and no doorbell. The pump only waits in epoll for
 * the guest's sockets, the taps behind them and the stop/wake eventfd. On
 * hvt, a guest of Solo5 0.11+ may use upstream's net ring as well: then its
 * memory is mapped and the pump serves the ring (broker_hvtring.cc).
 */
bool Guest::CreateSockDevices(GuestSpec &spec, std::string *err) {
  solo5_ = true;
  wake_fd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (wake_fd_ < 0) {
    *err = Errno("eventfd", errno);
    return false;
  }
  epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
  if (epoll_fd_ < 0) {
    *err = Errno("epoll_create1", errno);
    return false;
  }
  auto watch = [&](int fd, uint32_t events, uint64_t tag) {
    struct epoll_event ev;
    memset(&ev, 0, sizeof ev);
    ev.events = events;
    ev.data.u64 = tag;
    return epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev) == 0;
  };
  if (!watch(wake_fd_, EPOLLIN, kTagWake)) {
    *err = Errno("epoll_ctl", errno);
    return false;
  }
  for (NetSpec &n : spec.nets) {
    if (!Own(&n.guest_sock_fd, n.name, err) || !Own(&n.tap_fd, n.name, err) || !Own(&n.stream_fd, n.name, err) ||
        !Own(&n.pcap_fd, n.name, err))
      return false;
    socks_.emplace_back(new SockNetDev(this, n));
    SockNetDev *dev = socks_.back().get();
    if (!dev->Init(err)) return false;
    const uint64_t tag = kTagSock + 2 * (socks_.size() - 1);
    const int backend_fd = n.tap_fd >= 0 ? n.tap_fd : n.stream_fd;
    if (!watch(n.guest_sock_fd, EPOLLIN | EPOLLRDHUP, tag) ||
        (backend_fd >= 0 && !watch(backend_fd, EPOLLIN, tag + 1))) {
      *err = "net device '" + n.name + "': " + Errno("epoll_ctl", errno);
      return false;
    }
    dev->SetEpoll(epoll_fd_);
    if (n.stream_fd >= 0) dev->SetStreamEpoll(epoll_fd_, tag + 1);
  }
  return !spec.has_hvt || CreateHvtRing(spec, err);
}

void Guest::SockPump() {
  if (hvt_) {
    HvtPump();
    return;
  }
  while (!stopping_.load(std::memory_order_relaxed)) SockDispatch(-1);
}

bool Guest::SockDispatch(int timeout_ms) {
  struct epoll_event evs[32];
  int n = epoll_wait(epoll_fd_, evs, 32, timeout_ms);
  for (int i = 0; i < n; i++) {
    const uint64_t tag = evs[i].data.u64;
    if (tag == kTagWake || tag == kTagHvtKick) {
      uint64_t count;
      if (read(tag == kTagWake ? wake_fd_ : hvt_kick_fd_, &count, sizeof count) < 0) {
        // EAGAIN: another wake-up drained it already.
      }
      continue;
    }
    if (tag < kTagSock || (tag - kTagSock) / 2 >= socks_.size()) continue;
    SockNetDev *dev = socks_[(tag - kTagSock) / 2].get();
    if ((tag - kTagSock) % 2 == 0)
      dev->OnSockEvent(evs[i].events);
    else
      dev->OnTapReadable();
  }
  return n > 0;
}

}  // namespace sn
