// block_dev.h: one brokered block device: request/completion queues in guest memory over a raw image fd.
#ifndef SN_BLOCK_DEV_H
#define SN_BLOCK_DEV_H

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "block_readahead.h"
#include "broker_guest.h"
#include "broker_layout.h"
#include "sn_abi.h"

namespace sn {

// A request after it was read once out of guest memory.
struct BlkReq {
  uint32_t op;
  uint64_t offset, addr, len, id;
};

class BlkDev {
 public:
  // `inputs` is shared by every block device of the guest (see ReadAhead).
  BlkDev(Guest *guest, const BlkSpec &spec, const DevPlacement &place, uint8_t *dev_block,
         std::shared_ptr<BlkInputs> inputs);
  const std::string &name() const { return name_; }

  // Pump thread only: carries out the requests that have room for their
  // completion; returns how many.
  uint32_t Poll();
  // After the pump stopped: whether the guest's indices are still valid
  // (one more look, for a violation made just before the guest exited).
  bool Audit(std::string *why);
  void ArmWait();
  bool HasWork();
  void DisarmWait();

  void AddCounters(std::vector<std::pair<std::string, double>> *out);

 private:
  uint32_t Check(const BlkReq &r) const;  // SN_BLK_ST_OK or SN_BLK_ST_EINVAL
  uint32_t Execute(const BlkReq &r);
  bool CplSpace(uint32_t *space);  // false on a violation

  Guest *const guest_;
  const std::string name_;
  const int fd_;
  const uint64_t capacity_;
  const uint32_t block_size_;
  const uint32_t slots_, mask_;  // per queue, from the tender's placement (a power of two)
  volatile struct sn_blk_dev *shm_;
  volatile struct sn_blk_req *reqs_;
  volatile struct sn_blk_cpl *cpls_;
  uint32_t req_cons_ = 0;  // the tender's own copies of its indices
  uint32_t cpl_prod_ = 0;
  uint32_t req_prod_seen_ = 0;  // the guest's indices as last seen: they may only move forward
  uint32_t cpl_cons_seen_ = 0;
  bool cpl_wait_armed_ = false;
  bool io_reported_ = false;
  const std::shared_ptr<BlkInputs> inputs_;
  ReadAhead ra_;

  std::atomic<uint64_t> reads_{0}, writes_{0}, bytes_read_{0}, bytes_written_{0}, invalid_{0}, io_errors_{0},
      ra_hits_{0}, ra_bytes_{0};
};

}  // namespace sn

#endif  // SN_BLOCK_DEV_H
