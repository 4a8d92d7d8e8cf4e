// switchd.h: the solo5-switch daemon: a learning switch whose ports are the connections to one UNIX stream socket.
#ifndef SN_SWITCHD_H
#define SN_SWITCHD_H

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "net_pcap.h"
#include "net_switch.h"
#include "switchd_port.h"

namespace sn {

// Connections a daemon serves at once unless told otherwise, and the most it can be told.
constexpr uint32_t kSwitchdDefaultMaxPorts = 1024;
constexpr uint32_t kSwitchdMaxPortsLimit = 1u << 20;

struct SwitchdOptions {
  uint32_t mtu = 1500;
  uint64_t aging_ns = 300ull * 1000000000ull;
  int pcap_fd = -1;  // owned by the caller; -1: no capture
  // Connections served at once; one more is accepted, closed and reported
  // ("refused"), so a flood of peers cannot grow the daemon without bound.
  uint32_t max_ports = kSwitchdDefaultMaxPorts;
};

// Something worth one log line: a port came or went, the capture failed.
struct SwitchdEvent {
  std::string type;  // "connected", "closed", "refused", "warning"
  uint32_t port;     // 0 when about no port
  int32_t pid;       // the peer's, from SO_PEERCRED (-1 unknown)
  uint32_t uid;
  std::string message;
};

/*
 * One thread runs the whole data path: epoll over the listening socket, every
 * connection and a wake-up eventfd. Each readable connection is read once
 * per round (a bounded batch of frames), so a port with much to send cannot
 * keep the others waiting, and frames for a port are queued (bounded, fairly
 * shared) or dropped, never waited for. No JavaScript runs per frame: events
 * go to the callback, counters are read with Stats().
 */
class SwitchDaemon {
 public:
  using EventFn = std::function<void(const SwitchdEvent &)>;
  // Takes ownership of listen_fd (listening, non-blocking).
  SwitchDaemon(int listen_fd, const SwitchdOptions &opts, EventFn on_event);
  ~SwitchDaemon();

  bool Start(std::string *err);
  // Wakes the loop, joins it and closes every connection and the listening
  // socket. Idempotent; any thread but the loop's.
  void Stop();

  // Any thread: every port, open ones first, then the ones that closed
  // (the most recent kMaxClosed of them), in order of their ids.
  std::vector<SwitchdPortStats> Stats();
  SwitchStats switch_stats() { return sw_.Stats(); }

 private:
  static constexpr uint32_t kReadBatch = 256;  // frames per port per round
  static constexpr size_t kMaxClosed = 1024;

  void Loop();
  void Accept();
  void Emit(const std::string &type, const SwitchdPort *p, const std::string &msg);
  // Re-arms EPOLLOUT when the port's queue needs it; closes dead ports.
  void Settle(SwitchdPort *p);
  void Remove(SwitchdPort *p, const std::string &why);
  // Hands freed heap pages back to the kernel once enough ports have gone.
  void TrimAfterRemovals();

  int listen_fd_;
  const SwitchdOptions opts_;
  EventFn on_event_;
  Switch sw_;
  std::unique_ptr<Pcap> pcap_;
  bool pcap_failed_ = false;
  int epoll_fd_ = -1, wake_fd_ = -1;
  bool listening_ = true;  // false while accept(2) has no fd to spare
  uint32_t removed_since_trim_ = 0;
  std::thread thread_;
  bool started_ = false, stopped_ = false;

  std::mutex mu_;  // ports_ membership and closed_, for Stats()
  std::unordered_map<uint32_t, std::unique_ptr<SwitchdPort>> ports_;
  std::vector<SwitchdPortStats> closed_;
};

// Binds and listens on a UNIX stream socket at path, created with `mode`
// (owner-only unless widened) and, when gid >= 0, that group. An existing
// socket nobody listens on is replaced; any other file, or a socket with a
// listener, is refused. Returns the fd (non-blocking, close-on-exec), its
// inode in *dev / *ino for SwitchdUnlink, or -1 with *err.
int SwitchdListen(const std::string &path, uint32_t mode, int64_t gid, dev_t *dev, ino_t *ino, std::string *err);
// Removes path if it is still the socket SwitchdListen made.
bool SwitchdUnlink(const std::string &path, dev_t dev, ino_t ino);

}  // namespace sn

#endif  // SN_SWITCHD_H
