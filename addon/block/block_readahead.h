// block_readahead.h: a pump-private window of image bytes read ahead of a guest that reads sequentially.
#ifndef SN_BLOCK_READAHEAD_H
#define SN_BLOCK_READAHEAD_H

#include <cstdint>
#include <cstdlib>
#include <memory>
#include <vector>

namespace sn {

// Default for BlkSpec::readahead_us: how long a window may be served after
// the pread that filled it started (docs/decisions.md, "Block read-ahead").
constexpr uint32_t kReadAheadUsDefault = 1000;
// Largest window, and largest request that starts one (a quarter of it:
// bigger requests already spread one syscall over many blocks).
constexpr uint64_t kReadAheadMax = 64 * 1024;

// Pump thread only. What the block devices of one guest share: how often
// any of them looked at or changed an image, and where news from outside
// reaches the guest (the rx producer index of each of its net devices, in
// the tender's mapping of guest memory).
struct BlkInputs {
  uint64_t io_epoch = 0;
  std::vector<const volatile uint32_t *> rx_prods;
};

// A window is served only while it shows the guest nothing it could tell
// from a pread made at the time of the request: no block I/O by any device
// of this guest and no frame into its rx queues since the window was read,
// and not older than max_age_ns (the only way left to notice: a writer
// outside that the guest has agreed a time with).
class ReadAhead {
 public:
  ReadAhead(int fd, uint64_t capacity, uint64_t max_age_ns, BlkInputs *inputs);

  // A checked read of [off, off + len): copies it to dst and returns true
  // when the window holds all of it and may still be served.
  bool Serve(uint64_t off, uint64_t len, uint8_t *dst);
  // After a read of [off, off + len) completed (served or not): tracks the
  // sequential run and, on one, plans the next window.
  void Completed(uint64_t off, uint64_t len);
  // After the completions are published: reads the planned window, if
  // any; returns how many bytes it read.
  uint64_t Fetch();

 private:
  struct Free {
    void operator()(uint8_t *p) const { std::free(p); }
  };
  bool Fresh();
  void Retire();  // drops the window; its use so far sets the next one's size

  const int fd_;
  const uint64_t capacity_;
  const uint64_t max_age_ns_;  // 0: read-ahead is off
  BlkInputs *const inputs_;
  std::unique_ptr<uint8_t, Free> buf_;  // kReadAheadMax bytes, taken at the first sequential run
  uint64_t off_ = 0, len_ = 0;          // the window: image bytes [off_, off_ + len_)
  uint64_t epoch_ = 0, read_at_ns_ = 0;
  std::vector<uint32_t> rx_seen_;  // rx producer indices before the window's pread
  uint64_t served_end_ = 0;        // the end of the furthest read served from the window
  uint64_t next_ = UINT64_MAX;     // where the last read ended
  uint32_t level_;                 // sets the next window's size (block_readahead.cc)
  uint32_t probe_ = 0;
  uint64_t plan_off_ = 0, plan_len_ = 0;
};

}  // namespace sn

#endif  // SN_BLOCK_READAHEAD_H
