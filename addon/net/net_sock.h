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
#include "net_port.h"
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
class SockNetDev : public NetPort {
 public:
  SockNetDev(Guest *guest, const NetSpec &spec);
  ~SockNetDev() override;

  // Makes both fds non-blocking and writes the pcap header.
  bool Init(std::string *err) { return InitPort(sock_fd_, err); }
  int sock_fd() const { return sock_fd_; }
  void SetEpoll(int epoll_fd) { epoll_fd_ = epoll_fd; }

  // Pump thread: the guest's socket (or the tap) has something for us.
  void OnSockEvent(uint32_t events);
  /*
   * After the guest exited (the pump joined): forward the frames it wrote
   * just before, still queued in its socket, up to the end of the stream.
   */
  void FlushAfterExit();
  // The tap (or the stream peer) is readable, or the stream writable.
  void OnTapReadable();

  // Any thread: frames from the switch for the guest.
  uint32_t Deliver(const Frame *frames, uint32_t n, uint32_t src_port) override;

  void AddCounters(std::vector<std::pair<std::string, double>> *out);

 private:
  // Queues one frame on the guest's socket; false (counted) when it is full or gone.
  bool SendToGuest(const volatile uint8_t *data, uint32_t len);
  // The guest closed its end: one event, then the device stays quiet.
  void Closed(const std::string &why);

  const int sock_fd_;
  int epoll_fd_ = -1;
  std::vector<uint8_t> buf_;  // pump-thread receive buffers, kBatch of them
  std::atomic<bool> closed_{false};
};

}  // namespace sn

#endif  // SN_NET_SOCK_H
