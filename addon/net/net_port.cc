// net_port.cc: the backend side every net device shares: switch membership, tap writes, pcap and counters.
#include "net_port.h"

#include <fcntl.h>
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

}  // namespace

NetPort::NetPort(Guest *guest, const NetSpec &spec)
    : guest_(guest), name_(spec.name), mtu_(spec.mtu), tap_fd_(spec.tap_fd), sw_(spec.sw) {
  memcpy(mac_, spec.mac, sizeof mac_);
  if (spec.pcap_fd >= 0) pcap_.reset(new Pcap(spec.pcap_fd));
}

bool NetPort::InitPort(int extra_fd, std::string *err) {
  if (pcap_ && !pcap_->WriteHeader(mtu_ + 14, err)) {
    *err = "net device '" + name_ + "': " + *err;
    return false;
  }
  for (int fd : {tap_fd_, extra_fd}) {
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
  if (tap_fd_ >= 0) {
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
}

}  // namespace sn
