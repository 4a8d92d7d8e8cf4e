// net_sock.cc: moves frames between a Solo5-ABI guest's seqpacket socket and its tap or switch backend.
#include "net_sock.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace sn {

namespace {

// Frames taken from one fd per wake-up, so that one busy device cannot keep
// the pump from the others (epoll is level-triggered: the rest comes next).
constexpr uint32_t kBatch = 32;

std::string Errno(const char *what, int err) { return std::string(what) + " failed: " + strerrorname_np(err); }

}  // namespace

SockNetDev::SockNetDev(Guest *guest, const NetSpec &spec) : NetPort(guest, spec), sock_fd_(spec.guest_sock_fd) {
  // One byte more than the largest frame: a message that fills it was too big
  // (a seqpacket recv truncates and returns the buffer size).
  buf_.resize(static_cast<size_t>(kBatch) * (mtu_ + 15));
}

SockNetDev::~SockNetDev() { Detach(); }

void SockNetDev::Closed(const std::string &why) {
  if (closed_.exchange(true)) return;
  if (epoll_fd_ >= 0) epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, sock_fd_, nullptr);
  guest_->Closed(name_, why);
}

void SockNetDev::OnSockEvent(uint32_t events) {
  if (closed_.load()) return;
  const uint32_t size = mtu_ + 15;
  Frame frames[kBatch];
  uint32_t nf = 0;
  bool hung_up = false;
  for (uint32_t k = 0; k < kBatch; k++) {
    uint8_t *b = buf_.data() + static_cast<size_t>(nf) * size;
    ssize_t r = recv(sock_fd_, b, size, MSG_DONTWAIT);
    if (r < 0) {
      if (errno == EINTR) continue;
      if (errno != EAGAIN) Closed(Errno("recv from the guest's socket", errno));
      break;
    }
    if (r == 0) {
      // Zero bytes is either an empty message (garbage) or the end of the
      // stream; only a peer that hung up makes it the end.
      struct pollfd p = {sock_fd_, POLLRDHUP, 0};
      if ((events & (EPOLLHUP | EPOLLRDHUP)) != 0 || (poll(&p, 1, 0) == 1 && (p.revents & (POLLRDHUP | POLLHUP)))) {
        hung_up = true;
        break;
      }
      tx_errors_.fetch_add(1, std::memory_order_relaxed);
      continue;
    }
    const uint32_t len = static_cast<uint32_t>(r);
    if (len < 14 || len > mtu_ + 14) {
      tx_errors_.fetch_add(1, std::memory_order_relaxed);
      continue;
    }
    if (pcap_) Capture(b, len);
    tx_packets_.fetch_add(1, std::memory_order_relaxed);
    tx_bytes_.fetch_add(len, std::memory_order_relaxed);
    frames[nf++] = Frame{b, len};
  }
  // The frames read before the end of the stream still go out: closing first would drop them with the port.
  Transmit(frames, nf);
  if (hung_up) Closed("the guest closed its end of the socket");
}

void SockNetDev::FlushAfterExit() {
  // Each round takes up to a batch; a guest end held open elsewhere would
  // never reach the end of the stream, so the rounds are bounded too.
  for (int round = 0; round < 1024 && !closed_.load(); round++) {
    const uint64_t before = tx_packets_.load() + tx_errors_.load();
    OnSockEvent(EPOLLRDHUP);
    if (tx_packets_.load() + tx_errors_.load() == before) break;
  }
}

void SockNetDev::OnTapReadable() {
  if (has_stream()) {
    bool readable = true;
    ServiceStream(&readable);
    return;
  }
  uint8_t *b = buf_.data();
  const uint32_t size = mtu_ + 15;
  for (uint32_t k = 0; k < kBatch; k++) {
    ssize_t r = read(tap_fd_, b, size);
    if (r < 0) {
      if (errno == EINTR) continue;
      if (errno != EAGAIN) {
        if (epoll_fd_ >= 0) epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, tap_fd_, nullptr);
        guest_->Error(name_, Errno("tap read", errno));
      }
      return;
    }
    if (r < 14 || r > static_cast<ssize_t>(mtu_ + 14)) {
      rx_dropped_.fetch_add(1, std::memory_order_relaxed);
      continue;
    }
    SendToGuest(b, static_cast<uint32_t>(r));
  }
}

bool SockNetDev::SendToGuest(const volatile uint8_t *data, uint32_t len) {
  if (closed_.load(std::memory_order_relaxed) || len < 14 || len > mtu_ + 14) {
    rx_dropped_.fetch_add(1, std::memory_order_relaxed);
    return false;
  }
  // A frame from another guest's tx buffer is copied by the kernel once;
  // that guest rewriting it meanwhile changes only what this guest reads.
  ssize_t w;
  do {
    w = send(sock_fd_, const_cast<const uint8_t *>(data), len, MSG_DONTWAIT | MSG_NOSIGNAL);
  } while (w < 0 && errno == EINTR);
  if (w < 0) {
    rx_dropped_.fetch_add(1, std::memory_order_relaxed);
    // A guest that stopped reading fills its socket: that frame is lost, as
    // on a full NIC queue. A guest that is gone ends the device.
    if (errno != EAGAIN && errno != ENOBUFS) Closed(Errno("send to the guest's socket", errno));
    return false;
  }
  if (pcap_) Capture(data, len);
  rx_packets_.fetch_add(1, std::memory_order_relaxed);
  rx_bytes_.fetch_add(len, std::memory_order_relaxed);
  return true;
}

uint32_t SockNetDev::Deliver(const Frame *frames, uint32_t n, uint32_t /*src_port*/) {
  uint32_t queued = 0;
  for (uint32_t i = 0; i < n; i++)
    if (SendToGuest(frames[i].data, frames[i].len)) queued++;
  return queued;
}

void SockNetDev::AddCounters(std::vector<std::pair<std::string, double>> *out) {
  NetPort::AddCounters(out);
  out->emplace_back(name_ + ".closed", closed_.load() ? 1 : 0);
}

}  // namespace sn
