// net_sock.h: a Solo5-ABI guest's net device: frames over the tender's end of a SOCK_SEQPACKET pair.
#ifndef SN_NET_SOCK_H
#define SN_NET_SOCK_H

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "broker_guest.h"
#include "net_pcap.h"
#include "net_switch.h"

namespace sn {

/*
 * A Solo5-ABI guest does its own read(2)/write(2) on the host fd the tender
 * names in its manifest. For a brokered backend that fd is one end of a
 * SOCK_SEQPACKET socketpair (one message = one frame); this device holds the
 * other end and moves frames between it and the backend (tap or switch) on
 * the pump thread, so no JavaScript runs per frame. Everything the guest
 * sends is untrusted: its size is checked against the MTU before use.
 */
class SockNetDev : public SwitchPort {
 public:
  SockNetDev(Guest *guest, const NetSpec &spec);
  ~SockNetDev() override;

  // Makes both fds non-blocking and writes the pcap header.
  bool Init(std::string *err);
  const std::string &name() const { return name_; }
  int sock_fd() const { return sock_fd_; }
  int tap_fd() const { return tap_fd_; }
  void SetEpoll(int epoll_fd) { epoll_fd_ = epoll_fd; }
  void Attach();  // JS thread, at start
  void Detach();  // JS thread, at stop

  // Pump thread: the guest's socket (or the tap) has something for us.
  void OnSockEvent(uint32_t events);
  void OnTapReadable();

  // Any thread: frames from the switch for the guest.
  uint32_t Deliver(const Frame *frames, uint32_t n, uint32_t src_port) override;

  void AddCounters(std::vector<std::pair<std::string, double>> *out);

 private:
  // Queues one frame on the guest's socket; false (counted) when it is full or gone.
  bool SendToGuest(const volatile uint8_t *data, uint32_t len);
  // The guest closed its end: one event, then the device stays quiet.
  void Closed(const std::string &why);
  void Capture(const volatile uint8_t *data, uint32_t len);

  Guest *const guest_;
  const std::string name_;
  const uint32_t mtu_;
  uint8_t mac_[6];
  const int sock_fd_;
  const int tap_fd_;
  int epoll_fd_ = -1;
  std::vector<uint8_t> buf_;  // pump-thread receive buffers, kBatch of them
  std::shared_ptr<Switch> sw_;
  uint32_t port_ = 0;
  std::unique_ptr<Pcap> pcap_;
  std::atomic<bool> pcap_reported_{false}, closed_{false}, tap_reported_{false};

  std::atomic<uint64_t> rx_packets_{0}, rx_bytes_{0}, rx_dropped_{0};
  std::atomic<uint64_t> tx_packets_{0}, tx_bytes_{0}, tx_errors_{0}, tx_dropped_{0};
};

}  // namespace sn

#endif  // SN_NET_SOCK_H
