// net_switch.h: the userspace learning Ethernet switch that joins guest net devices and TypeScript endpoints.
#ifndef SN_NET_SWITCH_H
#define SN_NET_SWITCH_H

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <unordered_map>
#include <vector>

namespace sn {

// A frame somewhere in memory: a guest's tx buffer (which the guest may
// rewrite at any time, so it is read through volatile) or a JS buffer.
struct Frame {
  const volatile uint8_t *data;
  uint32_t len;
};

class SwitchPort {
 public:
  virtual ~SwitchPort() = default;
  // Takes frames that all go to this port, all from switch port src_port
  // (0: not from a switch port); returns how many it queued (the rest it
  // dropped and counted: a full queue drops, like Ethernet).
  virtual uint32_t Deliver(const Frame *frames, uint32_t n, uint32_t src_port) = 0;
};

struct SwitchStats {
  uint64_t forwarded, flooded, dropped_mtu, dropped_filtered, aged, ports, macs;
};

class Switch {
 public:
  Switch(uint32_t id, uint32_t mtu) : id_(id), mtu_(mtu) {}
  uint32_t id() const { return id_; }
  uint32_t mtu() const { return mtu_; }

  // Adds a port whose own MAC is a fixed table entry (learning never moves
  // it, so a guest cannot steal another port's address). A port whose peer
  // is not known in advance (a switch daemon's connection) passes nullptr
  // and is found by learning alone. Returns the port id.
  uint32_t AddPort(SwitchPort *port, const uint8_t *mac);
  // Removes a port; returns once no delivery into it is in flight.
  void RemovePort(uint32_t port_id);
  bool HasPort(uint32_t port_id);
  // Any thread, no lock: how many ports are attached now.
  uint32_t port_count() const { return port_count_.load(std::memory_order_relaxed); }

  // Switches frames that entered on src_port. Returns how many were queued
  // on at least one destination port.
  uint32_t Forward(uint32_t src_port, const Frame *frames, uint32_t n);

  SwitchStats Stats();

  // Learned entries not refreshed for this long are forgotten, so a peer
  // that moved to another port is found again by flooding (0: never; the
  // in-process switch's ports have fixed entries and need no aging).
  void SetAging(uint64_t ns) { aging_ns_.store(ns, std::memory_order_relaxed); }

 private:
  struct MacEntry {
    uint32_t port;
    bool fixed;
    uint64_t seen_ns;  // CLOCK_MONOTONIC of the last frame from it (learned entries)
  };
  static constexpr uint32_t kFlood = UINT32_MAX;
  static constexpr uint32_t kDrop = UINT32_MAX - 1;
  static constexpr size_t kMaxMacs = 4096;

  void Learn(uint64_t mac, uint32_t port, uint64_t now);  // table_mu_ held
  uint32_t Resolve(uint32_t src_port, const Frame &f, uint64_t now);  // table_mu_ held
  uint32_t DeliverRun(uint32_t dest, uint32_t src_port, const Frame *frames, uint32_t n);  // ports_mu_ shared

  const uint32_t id_;
  const uint32_t mtu_;
  uint32_t next_port_ = 1;
  // Held shared by every sender for the whole of a delivery, exclusively by
  // RemovePort: a port's memory stays mapped while a frame is copied into it.
  std::shared_mutex ports_mu_;
  std::unordered_map<uint32_t, SwitchPort *> ports_;
  std::vector<std::pair<uint32_t, SwitchPort *>> port_list_;  // flooding order
  std::mutex table_mu_;
  std::unordered_map<uint64_t, MacEntry> table_;
  std::atomic<uint32_t> port_count_{0};
  std::atomic<uint64_t> aging_ns_{0};
  std::atomic<uint64_t> forwarded_{0}, flooded_{0}, dropped_mtu_{0}, dropped_filtered_{0}, aged_{0};
};

// The tender-wide registry of switches, by id.
std::shared_ptr<Switch> CreateSwitch(uint32_t mtu);
std::shared_ptr<Switch> FindSwitch(uint32_t id);
// Forgets a switch; ports still attached keep it alive until they leave.
bool DestroySwitch(uint32_t id);

}  // namespace sn

#endif  // SN_NET_SWITCH_H
