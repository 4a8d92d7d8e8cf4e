// net_pcap.cc: classic pcap writer (global header once, then one record per frame).
#include "net_pcap.h"

#include <cerrno>
#include <cstring>
#include <ctime>
#include <sys/uio.h>
#include <unistd.h>

namespace sn {

namespace {

constexpr uint32_t kPcapMagicMicro = 0xa1b2c3d4;
constexpr uint32_t kLinktypeEthernet = 1;

// Writes all of iov, retrying short writes; errno is kept on failure.
bool WriteAll(int fd, struct iovec *iov, int cnt) {
  while (cnt > 0) {
    ssize_t n = writev(fd, iov, cnt);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    size_t done = static_cast<size_t>(n);
    while (cnt > 0 && done >= iov->iov_len) {
      done -= iov->iov_len;
      iov++;
      cnt--;
    }
    if (cnt > 0) {
      iov->iov_base = static_cast<uint8_t *>(iov->iov_base) + done;
      iov->iov_len -= done;
    }
  }
  return true;
}

std::string Errno(const char *what, int err) { return std::string(what) + " failed: " + strerrorname_np(err); }

}  // namespace

bool Pcap::WriteHeader(uint32_t snaplen, std::string *err) {
  uint32_t hdr[6];
  hdr[0] = kPcapMagicMicro;
  hdr[1] = 2 | (4u << 16);  // version 2.4, little-endian u16 pair
  hdr[2] = 0;               // thiszone
  hdr[3] = 0;               // sigfigs
  hdr[4] = snaplen;
  hdr[5] = kLinktypeEthernet;
  struct iovec iov = {hdr, sizeof hdr};
  std::lock_guard<std::mutex> lock(mu_);
  if (!WriteAll(fd_, &iov, 1)) {
    *err = Errno("pcap header write", errno);
    failed_ = true;
    return false;
  }
  return true;
}

bool Pcap::Record(const volatile uint8_t *frame, uint32_t len, std::string *err) {
  std::lock_guard<std::mutex> lock(mu_);
  if (failed_) return true;
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  uint32_t rec[4];
  rec[0] = static_cast<uint32_t>(ts.tv_sec);
  rec[1] = static_cast<uint32_t>(ts.tv_nsec / 1000);
  rec[2] = len;  // captured
  rec[3] = len;  // on the wire
  // The kernel copies the frame out of guest memory once; what the guest
  // does to it meanwhile only changes the captured bytes, not the record size.
  struct iovec iov[2] = {{rec, sizeof rec}, {const_cast<uint8_t *>(frame), len}};
  if (!WriteAll(fd_, iov, 2)) {
    *err = Errno("pcap write", errno);
    failed_ = true;
    return false;
  }
  return true;
}

}  // namespace sn
