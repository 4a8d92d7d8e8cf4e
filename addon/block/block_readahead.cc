// block_readahead.cc: detects a sequential reader, reads its next window ahead, serves it while nothing could tell.
#include "block_readahead.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "broker_shm.h"

namespace sn {

namespace {

// The window is 1 << (level - 1) requests long (at most kReadAheadMax
// bytes). A window the guest read to its end earns the next one twice the
// size; one dropped or replaced with bytes unread halves it, down to level
// 0, where only every kProbeEvery-th sequential read fetches a one-request
// window to see whether read-ahead pays again. A guest that reads slowly
// or writes between its reads then costs little extra I/O.
constexpr uint32_t kLevelStart = 2;
constexpr uint32_t kLevelMax = 8;
constexpr uint32_t kProbeEvery = 32;

}  // namespace

ReadAhead::ReadAhead(int fd, uint64_t capacity, uint64_t max_age_ns, BlkInputs *inputs)
    : fd_(fd), capacity_(capacity), max_age_ns_(max_age_ns), inputs_(inputs), level_(kLevelStart) {}

bool ReadAhead::Fresh() {
  if (epoch_ != inputs_->io_epoch) return false;
  // These indices are guest memory: a guest that rewrites them can only
  // make the window go stale sooner, or hide its own news from itself.
  for (size_t i = 0; i < rx_seen_.size(); i++)
    if (ShmAcquire(inputs_->rx_prods[i]) != rx_seen_[i]) return false;
  return MonotonicNs() - read_at_ns_ <= max_age_ns_;
}

bool ReadAhead::Serve(uint64_t off, uint64_t len, uint8_t *dst) {
  if (len_ == 0 || off < off_ || off - off_ > len_ || len > len_ - (off - off_)) return false;
  if (!Fresh()) {
    Retire();
    return false;
  }
  memcpy(dst, buf_.get() + (off - off_), len);
  served_end_ = std::max(served_end_, off + len);
  return true;
}

void ReadAhead::Retire() {
  if (len_ == 0) return;
  if (served_end_ >= off_ + len_) {
    if (len_ < kReadAheadMax && level_ < kLevelMax) level_++;
  } else if (level_ > 0) {
    level_--;
  }
  len_ = 0;
}

void ReadAhead::Completed(uint64_t off, uint64_t len) {
  if (max_age_ns_ == 0) return;
  const bool run = off == next_;
  next_ = off + len;  // Check() put the read inside the capacity: no overflow
  if (!run || len > kReadAheadMax / 4 || next_ >= capacity_) return;
  // The next read of the same size is in the window already.
  if (len_ != 0 && next_ >= off_ && next_ - off_ <= len_ && len <= len_ - (next_ - off_) && Fresh()) return;
  Retire();
  uint64_t reqs = 1;
  if (level_ > 0)
    reqs = 1ULL << (level_ - 1);
  else if (++probe_ % kProbeEvery != 0)
    return;
  plan_off_ = next_;
  plan_len_ = std::min({len * reqs, kReadAheadMax / len * len, capacity_ - next_});
}

uint64_t ReadAhead::Fetch() {
  if (plan_len_ == 0) return 0;
  const uint64_t off = plan_off_, want = plan_len_;
  plan_len_ = 0;
  Retire();  // a no-op after Completed; no window is replaced without counting its use
  if (!buf_) {
    buf_.reset(static_cast<uint8_t *>(std::aligned_alloc(4096, kReadAheadMax)));
    if (!buf_) return 0;  // no memory: the guest's reads go to the file, as without read-ahead
  }
  // Looked at before the pread: a frame that arrives during it makes the
  // window stale, as does any I/O that bumps the epoch after it.
  rx_seen_.resize(inputs_->rx_prods.size());
  for (size_t i = 0; i < rx_seen_.size(); i++) rx_seen_[i] = ShmAcquire(inputs_->rx_prods[i]);
  const uint64_t start = MonotonicNs();
  uint64_t got = 0;
  while (got < want) {
    ssize_t n = pread(fd_, buf_.get() + got, want - got, static_cast<off_t>(off + got));
    if (n < 0 && errno == EINTR) continue;
    // An error or the end of the file: keep what arrived. The guest's own
    // request past it then goes to the file and reports what happens there.
    if (n <= 0) break;
    got += static_cast<uint64_t>(n);
  }
  // A window read later than another device's makes that one stale: every
  // window the guest sees after it must be at least as new.
  inputs_->io_epoch++;
  epoch_ = inputs_->io_epoch;
  read_at_ns_ = start;
  off_ = off;
  len_ = got;
  served_end_ = off;
  return got;
}

}  // namespace sn
