// broker_hvtring.h: the pump's side of upstream Solo5's 0.11+ hvt net ring, served for a Solo5-ABI hvt guest.
#ifndef SN_BROKER_HVTRING_H
#define SN_BROKER_HVTRING_H

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "sn_solo5_hvt.h"

namespace sn {

class Guest;

// One net device the ring may name: its manifest index (the guest's handle)
// and the host fd its hypercalls use too (the tap itself, or the helper's end
// of the device's seqpacket pair), so that ring and hypercall frames meet in
// one place and the helper's POLL sees the same readiness.
struct HvtRingNet {
  std::string name;
  uint32_t index = 0;
  uint32_t mtu = 0;
  int fd = -1;
};

struct HvtRingSpec {
  uint64_t addr = 0;  // GPA of struct sn_solo5_hvt_ring: the guest-visible memory size
  std::vector<HvtRingNet> nets;
};

/*
 * Everything in the ring is guest-writable and the guest runs on another CPU
 * while the pump reads it: each field is read once into a local, indices are
 * masked, every buffer is checked against the guest-visible memory (and, for
 * a read, against the ranges the guest may not write) before the pump touches
 * it. What the guest can do wrong, and what follows:
 *   bad handle: NET_WRITE dropped, NET_READ committed with EINVAL (upstream);
 *   unknown operation: skipped (upstream);
 *   NET_READ into a read-only range: EINVAL (the W^X rule of docs/abi.md);
 *   a buffer outside guest memory, or ent_tail/com_head more than a ring's
 *   worth away from the pump's indices: a violation, which ends the guest
 *   (upstream's tender ends itself with "Invalid guest access").
 */
class HvtRing {
 public:
  // mem: the broker's mapping of all guest memory (at least addr + sizeof ring).
  HvtRing(Guest *guest, uint8_t *mem, const HvtRingSpec &spec);

  // Pump thread: serves what the guest queued; true when any entry was taken.
  bool Service();
  // Whether Service would find anything to do (before the pump sleeps).
  bool HasWork();
  // Whether the last Service answered a read with AGAIN (the guest waits for
  // input, whose sender may need this CPU); cleared by asking.
  bool FoundNothing() {
    const bool r = found_nothing_;
    found_nothing_ = false;
    return r;
  }
  // The sleep half of the kick protocol: needs_kick = 1 (the caller fences and
  // looks once more), and 0 again once awake, so that a busy guest need not kick.
  void ArmKick();
  void DisarmKick();

  void AddCounters(std::vector<std::pair<std::string, double>> *out);

 private:
  struct Net {
    std::string name;
    uint32_t mtu = 0;
    int fd = -1;
    bool reported = false;  // a backend error is reported once
    std::atomic<uint64_t> tx{0}, tx_dropped{0}, rx{0}, rx_again{0}, rx_einval{0};
  };
  // The ring entry fields, each read once.
  struct Entry {
    uint32_t op, handle, len, id;
    uint64_t data;
  };
  Net *Device(uint32_t handle);
  // [data, data + len) inside guest-visible memory; else a violation.
  bool InGuest(const char *op, uint64_t data, uint32_t len);
  // false: stop here (a violation, or the guest has not taken its commits).
  bool Take(const Entry &e);
  void Write(const Entry &e);
  bool Read(const Entry &e);
  void Commit(uint32_t id, int32_t ret, uint32_t len);

  Guest *const guest_;
  uint8_t *const mem_;
  const uint64_t visible_;
  volatile struct sn_solo5_hvt_ring *const ring_;
  std::vector<Net *> by_handle_;  // SN_MFT_MAX_ENTRIES, null where no net device
  std::vector<std::unique_ptr<Net>> nets_;
  uint32_t ent_head_ = 0, com_tail_ = 0;  // the pump's own copies of its indices
  uint32_t stalled_com_head_ = 0;         // com_head when commits were full
  bool stalled_ = false;
  bool found_nothing_ = false;
  std::atomic<uint64_t> bad_handles_{0}, bad_ops_{0}, read_only_{0}, stalls_{0};
};

}  // namespace sn

#endif  // SN_BROKER_HVTRING_H
