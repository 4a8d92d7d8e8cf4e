// net_pcap.h: appends every frame of one net device to a classic pcap file.
#ifndef SN_NET_PCAP_H
#define SN_NET_PCAP_H

#include <cstdint>
#include <mutex>
#include <string>

namespace sn {

class Pcap {
 public:
  // Takes a file descriptor owned by the caller (never closed here).
  explicit Pcap(int fd) : fd_(fd) {}

  // Writes the 24-byte global header (LINKTYPE_ETHERNET, microseconds).
  bool WriteHeader(uint32_t snaplen, std::string *err);

  // Appends one record. Frames may come from several threads (a switch
  // delivers into a device's rx queue from other pumps), so records are
  // written whole under a lock. Returns false once, on the first failure;
  // later records are skipped silently (the caller reports the error).
  bool Record(const volatile uint8_t *frame, uint32_t len, std::string *err);

 private:
  int fd_;
  std::mutex mu_;
  bool failed_ = false;
};

}  // namespace sn

#endif  // SN_NET_PCAP_H
