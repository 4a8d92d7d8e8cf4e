// net_port.h: what every brokered net device shares, ring or socket: name, MAC, switch port, pcap and counters.
#ifndef SN_NET_PORT_H
#define SN_NET_PORT_H

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "broker_guest.h"
#include "net_pcap.h"
#include "net_stream.h"
#include "net_switch.h"

namespace sn {

class NetPort : public SwitchPort {
 public:
  NetPort(Guest *guest, const NetSpec &spec);
  const std::string &name() const { return name_; }
  int tap_fd() const { return tap_fd_; }
  // Joins / leaves the switch (JS thread, at start and stop). A derived
  // class leaves in its own destructor, while Deliver still resolves to it.
  void Attach();
  void Detach();
  void AddCounters(std::vector<std::pair<std::string, double>> *out);

  // The stream backend (pump thread only). The stream fd is watched in the
  // pump's epoll under `tag`; EPOLLOUT is asked for only while bytes wait.
  bool has_stream() const { return stream_ != nullptr; }
  void SetStreamEpoll(int epoll_fd, uint64_t tag);
  // Flushes what waits for the peer and, when *readable, decodes up to a
  // batch of frames (at most `room`) into this device's Deliver. Clears
  // *readable once the socket is drained. Returns the frames received.
  uint32_t ServiceStream(bool *readable, uint32_t room = UINT32_MAX);
  // Whether epoll reports the stream readable: off while the guest's rx
  // ring is full, so frames wait in the socket (and in the peer's fair
  // queue) instead of being read only to be dropped.
  void SetStreamReadInterest(bool on);

 protected:
  // Writes the pcap header and makes the tap (and `extra_fd`) non-blocking.
  bool InitPort(int extra_fd, std::string *err);
  // Appends a frame to the pcap file; the first failure is reported once.
  void Capture(const volatile uint8_t *data, uint32_t len);
  // Hands frames to the tap or the switch; what neither takes is counted.
  void Transmit(const Frame *frames, uint32_t n);

  Guest *const guest_;
  const std::string name_;
  const uint32_t mtu_;
  uint8_t mac_[6];
  const int tap_fd_;
  std::shared_ptr<Switch> sw_;
  uint32_t port_ = 0;
  std::unique_ptr<Pcap> pcap_;
  std::atomic<bool> pcap_reported_{false}, tap_write_reported_{false};

 private:
  void StreamTransmit(const Frame *frames, uint32_t n);
  // After a failure of the link: one event, no more relaying, out of epoll.
  void StreamFailed();
  void StreamInterest();

  std::unique_ptr<StreamLink> stream_;
  int stream_epoll_ = -1;
  uint64_t stream_tag_ = 0;
  bool stream_out_ = false;  // EPOLLOUT asked for
  bool stream_in_ = true;    // EPOLLIN asked for
  std::atomic<bool> stream_down_{false};
  std::atomic<uint64_t> stream_queued_{0};  // bytes waiting for a slow peer, for the counters

 protected:
  std::atomic<uint64_t> rx_packets_{0}, rx_bytes_{0}, rx_dropped_{0};
  std::atomic<uint64_t> tx_packets_{0}, tx_bytes_{0}, tx_errors_{0}, tx_dropped_{0};
};

}  // namespace sn

#endif  // SN_NET_PORT_H
