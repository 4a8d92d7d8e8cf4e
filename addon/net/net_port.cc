// net_port.cc: the backend side every net device shares: switch membership, tap writes, pcap and counters.
#include "net_port.h"

#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace sn {

namespace {

std::string Errno(const char *what, int err) { return std::string(what) + " failed: " + strerrorname_np(err); }

bool SetNonBlocking(int fd) {
  int fl = fcntl(fd, F_GETFL);
  return fl >= 0 && fcntl(fd, F_SETFL, fl | O_NONBLOCK) == 0;
}

// Frames decoded from a stream per wake-up, so that a busy peer cannot keep
// the pump from the guest's own queues (epoll is level-triggered).
constexpr uint32_t kStreamBatch = 64;

}  // namespace

NetPort::NetPort(Guest *guest, const NetSpec &spec)
    : guest_(guest), name_(spec.name), mtu_(spec.mtu), tap_fd_(spec.tap_fd), sw_(spec.sw) {
  memcpy(mac_, spec.mac, sizeof mac_);
  if (spec.pcap_fd >= 0) pcap_.reset(new Pcap(spec.pcap_fd));
  if (spec.stream_fd >= 0) stream_.reset(new StreamLink(spec.stream_fd, mtu_));
}

bool NetPort::InitPort(int extra_fd, std::string *err) {
  if (pcap_ && !pcap_->WriteHeader(mtu_ + 14, err)) {
    *err = "net device '" + name_ + "': " + *err;
    return false;
  }
  int type = 0;
  socklen_t tlen = sizeof type;
  if (stream_ && (getsockopt(stream_->fd(), SOL_SOCKET, SO_TYPE, &type, &tlen) < 0 || type != SOCK_STREAM)) {
    *err = "net device '" + name_ + "': the stream backend's fd is not a SOCK_STREAM socket";
    return false;
  }
  for (int fd : {tap_fd_, extra_fd, stream_ ? stream_->fd() : -1}) {
    if (fd >= 0 && !SetNonBlocking(fd)) {
      *err = "net device '" + name_ + "': " + Errno("fcntl O_NONBLOCK", errno);
      return false;
    }
  }
  return true;
}

void NetPort::Attach() {
  if (sw_ && port_ == 0) port_ = sw_->AddPort(this, mac_);
}

void NetPort::Detach() {
  if (sw_ && port_ != 0) {
    sw_->RemovePort(port_);
    port_ = 0;
  }
}

void NetPort::Capture(const volatile uint8_t *data, uint32_t len) {
  std::string err;
  if (!pcap_->Record(data, len, &err) && !pcap_reported_.exchange(true)) guest_->Error(name_, err);
}

void NetPort::Transmit(const Frame *frames, uint32_t n) {
  if (n == 0) return;
  if (stream_) {
    StreamTransmit(frames, n);
  } else if (tap_fd_ >= 0) {
    for (uint32_t i = 0; i < n; i++) {
      ssize_t w;
      do {
        w = write(tap_fd_, const_cast<const uint8_t *>(frames[i].data), frames[i].len);
      } while (w < 0 && errno == EINTR);
      if (w != static_cast<ssize_t>(frames[i].len)) {
        tx_dropped_.fetch_add(1, std::memory_order_relaxed);
        // A tap that is down answers EIO to every frame: say it once.
        if (!tap_write_reported_.exchange(true))
          guest_->Error(name_, w < 0 ? Errno("tap write", errno) : "tap write was short");
      }
    }
  } else if (sw_ && port_ != 0) {
    uint32_t queued = sw_->Forward(port_, frames, n);
    if (queued < n) tx_dropped_.fetch_add(n - queued, std::memory_order_relaxed);
  } else {
    tx_dropped_.fetch_add(n, std::memory_order_relaxed);
  }
}

void NetPort::AddCounters(std::vector<std::pair<std::string, double>> *out) {
  auto put = [&](const char *key, const std::atomic<uint64_t> &v) {
    out->emplace_back(name_ + "." + key, static_cast<double>(v.load(std::memory_order_relaxed)));
  };
  put("rxPackets", rx_packets_);
  put("rxBytes", rx_bytes_);
  put("rxDropped", rx_dropped_);
  put("txPackets", tx_packets_);
  put("txBytes", tx_bytes_);
  put("txErrors", tx_errors_);
  put("txDropped", tx_dropped_);
  if (stream_) {
    out->emplace_back(name_ + ".linkDown", stream_down_.load() ? 1 : 0);
    out->emplace_back(name_ + ".linkQueuedBytes", static_cast<double>(stream_queued_.load(std::memory_order_relaxed)));
  }
}

void NetPort::SetStreamEpoll(int epoll_fd, uint64_t tag) {
  stream_epoll_ = epoll_fd;
  stream_tag_ = tag;
}

void NetPort::StreamInterest() {
  stream_queued_.store(stream_->queued(), std::memory_order_relaxed);
  const bool want = stream_->wants_write();
  if (stream_epoll_ < 0 || want == stream_out_) return;
  struct epoll_event ev;
  memset(&ev, 0, sizeof ev);
  ev.events = EPOLLIN | (want ? static_cast<uint32_t>(EPOLLOUT) : 0u);
  ev.data.u64 = stream_tag_;
  if (epoll_ctl(stream_epoll_, EPOLL_CTL_MOD, stream_->fd(), &ev) == 0) stream_out_ = want;
}

void NetPort::StreamFailed() {
  if (stream_down_.exchange(true)) return;
  // A closed or garbled peer stays readable forever: stop watching it.
  if (stream_epoll_ >= 0) epoll_ctl(stream_epoll_, EPOLL_CTL_DEL, stream_->fd(), nullptr);
  guest_->Error(name_, "stream link closed: " + stream_->why());
}

void NetPort::StreamTransmit(const Frame *frames, uint32_t n) {
  for (uint32_t i = 0; i < n; i++) {
    // A peer that stops reading fills the socket, then the link's bounded
    // queue; past that the frame is dropped here, never waited for.
    StreamWriter::SendResult r = stream_->Send(frames[i].data, frames[i].len);
    if (r == StreamWriter::SendResult::kDropped || r == StreamWriter::SendResult::kFailed)
      tx_dropped_.fetch_add(1, std::memory_order_relaxed);
  }
  if (stream_->closed())
    StreamFailed();
  else
    StreamInterest();
}

uint32_t NetPort::ServiceStream(bool *readable) {
  if (!stream_ || stream_->closed()) {
    *readable = false;
    return 0;
  }
  if (stream_->wants_write()) {
    stream_->OnWritable();
    if (!stream_->closed()) StreamInterest();
  }
  uint32_t got = 0;
  if (*readable && !stream_->closed()) {
    StreamDecoder::ReadResult r = stream_->Receive(kStreamBatch, [&](const Frame *frames, uint32_t k) {
      got += k;
      Deliver(frames, k, 0);
    });
    if (r != StreamDecoder::ReadResult::kMore) *readable = false;
  }
  if (stream_->closed()) StreamFailed();
  return got;
}

}  // namespace sn
