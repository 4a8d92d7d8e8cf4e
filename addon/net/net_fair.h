// net_fair.h: per-source shares of one bounded receive queue, so that a flooding switch port cannot starve the others.
#ifndef SN_NET_FAIR_H
#define SN_NET_FAIR_H

#include <cstdint>
#include <utility>
#include <vector>

namespace sn {

/*
 * Frames reach a guest's rx queue from several switch ports at once. Taking
 * them first come, first served lets one port that floods keep the queue
 * full, and every other sender's frames are dropped (issue 8 item 11). This
 * class keeps, for each slot the guest has not consumed yet, which source
 * filled it, and admits a frame only while its source holds less than an
 * equal share of the queue. A small reserve is kept free for sources that
 * hold almost nothing, so that a newcomer always finds room even when the
 * others filled their shares before it appeared. It knows nothing of rings
 * or switches: any bounded FIFO with a producer and a consumer can use it
 * (a switch daemon's per-port queues, too). Not thread-safe: the queue's
 * producer lock covers it.
 */
class FairShare {
 public:
  explicit FairShare(uint32_t slots = 0) { Reset(slots); }
  void Reset(uint32_t slots);

  // Whether a frame from src may take `units` of the `space` free slots
  // (a queue bounded in bytes counts a frame as several slots of a fixed
  // size). `others` is how many other sources could send here at all: with
  // none, src may have the whole queue (no share, no reserve to keep).
  bool Admit(uint32_t src, uint32_t space, uint32_t others, uint32_t units = 1) const;
  // The slot at free-running index idx now holds a frame from src.
  void Took(uint32_t idx, uint32_t src);
  // The consumer moved from index `from` to `to`: those slots are free.
  void Freed(uint32_t from, uint32_t to);

  uint32_t reserve() const { return reserve_; }
  uint32_t Held(uint32_t src) const;

 private:
  uint32_t slots_ = 0, reserve_ = 0, light_ = 0;
  std::vector<uint32_t> owner_;                          // per slot, the source that filled it
  std::vector<std::pair<uint32_t, uint32_t>> active_;    // (source, slots held), held > 0
};

}  // namespace sn

#endif  // SN_NET_FAIR_H
