// switchd_port.h: one connection of the solo5-switch daemon: a framed stream link as a learning-switch port.
#ifndef SN_SWITCHD_PORT_H
#define SN_SWITCHD_PORT_H

#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <deque>
#include <string>
#include <utility>

#include "net_fair.h"
#include "net_pcap.h"
#include "net_stream.h"
#include "net_switch.h"

namespace sn {

// A port's counters as the switch sees them (rx: from the peer, tx: to it).
struct SwitchdPortStats {
  uint32_t id;
  int32_t pid;
  uint32_t uid, gid;
  bool open;
  uint64_t rx_packets, rx_bytes, rx_dropped, tx_packets, tx_bytes, tx_dropped;
  std::string closed_why;
};

/*
 * Everything here runs on the daemon's loop thread except Stats(), which any
 * thread may call: the counters are atomics with that single writer, so an
 * update is a plain store and a reader sees a recent value.
 *
 * The peer is untrusted: the link's decoder checks every length against the
 * MTU, and a bad one ends this port alone. Frames for a peer that reads
 * slowly wait in the link's bounded queue, shared fairly between the ports
 * that send them (FairShare over fixed-size units of the queue's bytes), so
 * one flooding port cannot crowd out another's few frames.
 */
class SwitchdPort : public SwitchPort {
 public:
  SwitchdPort(int fd, uint32_t mtu, pid_t pid, uid_t uid, gid_t gid);
  ~SwitchdPort() override;

  int fd() const { return link_.fd(); }
  uint32_t id() const { return id_; }
  // Joins the switch as a learning port (no fixed MAC); Leave undoes it.
  void Join(Switch *sw);
  void Leave();

  // The fd is readable: up to max_frames frames are read, captured (when
  // pcap is set; its first failure lands in *pcap_err) and switched.
  // kMore: frames may wait in the decoder although the fd is drained, so
  // the loop must come back without waiting for epoll.
  StreamDecoder::ReadResult OnReadable(uint32_t max_frames, Pcap *pcap, std::string *pcap_err);
  // The fd is writable: the queue drains. False when the link closed.
  bool OnWritable();
  bool wants_write() const { return link_.wants_write(); }
  bool closed() const { return link_.closed(); }
  const std::string &why() const { return link_.why(); }
  // Closes the link with a reason (the daemon stopping); true the first time.
  bool Close(const std::string &why) { return link_.Close(why); }

  // Whether epoll has EPOLLOUT armed for us (the loop's bookkeeping).
  bool out_armed = false;

  // Loop thread, from the switch: frames for this peer.
  uint32_t Deliver(const Frame *frames, uint32_t n, uint32_t src_port) override;

  // Any thread; `open` true and no reason (the loop records those at close).
  SwitchdPortStats Stats() const;

 private:
  // Frees the fair-share units of frames the link has written since.
  void Reclaim();
  static void Add(std::atomic<uint64_t> &c, uint64_t n) {
    c.store(c.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }

  StreamLink link_;
  Switch *sw_ = nullptr;
  uint32_t id_ = 0;
  const pid_t pid_;
  const uid_t uid_;
  const gid_t gid_;

  FairShare fair_;
  uint32_t taken_ = 0, freed_ = 0;  // free-running unit indices
  uint64_t enq_bytes_ = 0;          // bytes ever put in the link's queue
  // Queued frames in order: (enq_bytes_ at its end, taken_ after it).
  std::deque<std::pair<uint64_t, uint32_t>> inflight_;

  std::atomic<uint64_t> rx_packets_{0}, rx_bytes_{0}, rx_dropped_{0};
  std::atomic<uint64_t> tx_packets_{0}, tx_bytes_{0}, tx_dropped_{0};
};

}  // namespace sn

#endif  // SN_SWITCHD_PORT_H
