// block_dev.cc: checks each block request once and carries it out with pread/pwrite on guest memory in place.
#include "block_dev.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "broker_index.h"
#include "broker_shm.h"

namespace sn {

namespace {

void Bump(std::atomic<uint64_t> *c, uint64_t by) {
  c->store(c->load(std::memory_order_relaxed) + by, std::memory_order_relaxed);
}

}  // namespace

BlkDev::BlkDev(Guest *guest, const BlkSpec &spec, const DevPlacement &place, uint8_t *dev_block,
               std::shared_ptr<BlkInputs> inputs)
    : guest_(guest),
      name_(spec.name),
      fd_(spec.fd),
      capacity_(spec.capacity),
      block_size_(spec.block_size),
      slots_(place.slots),
      mask_(place.slots - 1),
      inputs_(std::move(inputs)),
      ra_(spec.fd, spec.capacity, static_cast<uint64_t>(spec.readahead_us) * 1000, inputs_.get()) {
  shm_ = reinterpret_cast<volatile struct sn_blk_dev *>(dev_block);
  reqs_ = reinterpret_cast<volatile struct sn_blk_req *>(dev_block + place.req);
  cpls_ = reinterpret_cast<volatile struct sn_blk_cpl *>(dev_block + place.cpl);
}

bool BlkDev::CplSpace(uint32_t *space) {
  std::string why;
  if (CheckConsumer("completion consumer", ShmAcquire(&shm_->cpl.cons), cpl_prod_, &cpl_cons_seen_, slots_, space,
                    &why))
    return true;
  guest_->Violation(name_, why);
  return false;
}

uint32_t BlkDev::Check(const BlkReq &r) const {
  if (r.op != SN_BLK_OP_READ && r.op != SN_BLK_OP_WRITE) return SN_BLK_ST_EINVAL;
  if (r.len == 0 || r.len % block_size_ != 0 || r.offset % block_size_ != 0) return SN_BLK_ST_EINVAL;
  if (r.len > capacity_ || r.offset > capacity_ - r.len) return SN_BLK_ST_EINVAL;
  const uint64_t mem = guest_->mem_size();
  if (r.addr < SN_MEM_UNMAPPED_END || r.len > mem || r.addr > mem - r.len) return SN_BLK_ST_EINVAL;
  // The tender writes guest memory through its own mapping, which ignores
  // the guest's page permissions: a read must not land in text or rodata.
  if (r.op == SN_BLK_OP_READ && guest_->TouchesReadOnly(r.addr, r.len)) return SN_BLK_ST_EINVAL;
  return SN_BLK_ST_OK;
}

uint32_t BlkDev::Execute(const BlkReq &r) {
  uint8_t *buf = guest_->mem() + r.addr;
  uint64_t done = 0;
  const bool rd = r.op == SN_BLK_OP_READ;
  // Whatever the outcome, the file was looked at or changed now: every
  // read-ahead window read before this is older than what the guest sees.
  inputs_->io_epoch++;
  while (done < r.len) {
    ssize_t n = rd ? pread(fd_, buf + done, r.len - done, static_cast<off_t>(r.offset + done))
                   : pwrite(fd_, buf + done, r.len - done, static_cast<off_t>(r.offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      io_errors_.fetch_add(1, std::memory_order_relaxed);
      if (!io_reported_) {
        io_reported_ = true;
        std::string what = n < 0 ? std::string(rd ? "pread" : "pwrite") + " failed: " + strerrorname_np(errno)
                                 : std::string(rd ? "pread" : "pwrite") + " reached the end of the image";
        guest_->Error(name_, what + " at offset " + std::to_string(r.offset + done));
      }
      return SN_BLK_ST_EIO;
    }
    done += static_cast<uint64_t>(n);
  }
  // Only the pump writes these: a plain add, not a locked one, per request.
  if (rd) {
    Bump(&reads_, 1);
    Bump(&bytes_read_, r.len);
  } else {
    Bump(&writes_, 1);
    Bump(&bytes_written_, r.len);
  }
  return SN_BLK_ST_OK;
}

uint32_t BlkDev::Poll() {
  uint32_t avail;
  std::string why;
  if (!CheckProducer("request producer", ShmAcquire(&shm_->req.prod), req_cons_, &req_prod_seen_, slots_, &avail,
                     &why)) {
    guest_->Violation(name_, why);
    return 0;
  }
  if (avail == 0) return 0;
  // The guest's completion index only moves forward, so the room it left at
  // the last look is still there: the shared line is read again (and
  // checked) only when that room is not enough, and before every sleep.
  uint32_t space = slots_ - (cpl_prod_ - cpl_cons_seen_);
  if (space < avail && !CplSpace(&space)) return 0;
  const uint32_t n = std::min(avail, space);
  for (uint32_t k = 0; k < n; k++) {
    volatile struct sn_blk_req *s = &reqs_[req_cons_ & mask_];
    BlkReq r;  // every field read exactly once; only r is used below
    r.op = ShmRead32(&s->op);
    r.offset = ShmRead64(&s->offset);
    r.addr = ShmRead64(&s->addr);
    r.len = ShmRead64(&s->len);
    r.id = ShmRead64(&s->id);
    uint32_t status = Check(r);
    const bool is_read = status == SN_BLK_ST_OK && r.op == SN_BLK_OP_READ;
    if (is_read && ra_.Serve(r.offset, r.len, guest_->mem() + r.addr)) {
      Bump(&reads_, 1);
      Bump(&bytes_read_, r.len);
      Bump(&ra_hits_, 1);
    } else if (status == SN_BLK_ST_OK) {
      status = Execute(r);
    } else {
      invalid_.fetch_add(1, std::memory_order_relaxed);
    }
    // A write's completion is published only after pwrite returned in full:
    // the data is then in the file's page cache and survives a guest SIGKILL.
    volatile struct sn_blk_cpl *c = &cpls_[cpl_prod_ & mask_];
    ShmWrite64(&c->id, r.id);
    ShmWrite32(&c->status, status);
    ShmWrite32(&c->reserved, 0);
    cpl_prod_++;
    req_cons_++;
    ShmRelease(&shm_->cpl.prod, cpl_prod_);
    ShmRelease(&shm_->req.cons, req_cons_);
    ShmFullFence();
    if (ShmRead32(&shm_->cpl.cons_waiting) || ShmRead32(&shm_->req.prod_waiting)) guest_->KickGuestForBlock();
    if (is_read && status == SN_BLK_ST_OK) ra_.Completed(r.offset, r.len);
  }
  // With the completions out, the guest turns around while the pump reads
  // ahead: that pread overlaps the guest's next request.
  Bump(&ra_bytes_, ra_.Fetch());
  return n;
}

bool BlkDev::Audit(std::string *why) {
  uint32_t avail = 0, space = 0;
  uint32_t seen = req_prod_seen_, cseen = cpl_cons_seen_;
  return CheckProducer("request producer", ShmAcquire(&shm_->req.prod), req_cons_, &seen, slots_, &avail, why) &&
         CheckConsumer("completion consumer", ShmAcquire(&shm_->cpl.cons), cpl_prod_, &cseen, slots_, &space, why);
}

void BlkDev::ArmWait() {
  ShmWrite32(&shm_->req.cons_waiting, 1);
  uint32_t space = 0;
  // With every completion slot taken the tender waits for the guest to
  // consume one, not for a new request.
  if (CplSpace(&space) && space == 0) {
    ShmWrite32(&shm_->cpl.prod_waiting, 1);
    cpl_wait_armed_ = true;
  }
}

bool BlkDev::HasWork() {
  if (ShmAcquire(&shm_->req.prod) == req_cons_) return false;
  uint32_t space = 0;
  return !CplSpace(&space) || space > 0;
}

void BlkDev::DisarmWait() {
  ShmWrite32(&shm_->req.cons_waiting, 0);
  if (cpl_wait_armed_) {
    ShmWrite32(&shm_->cpl.prod_waiting, 0);
    cpl_wait_armed_ = false;
  }
}

void BlkDev::AddCounters(std::vector<std::pair<std::string, double>> *out) {
  auto put = [&](const char *key, const std::atomic<uint64_t> &v) {
    out->emplace_back(name_ + "." + key, static_cast<double>(v.load(std::memory_order_relaxed)));
  };
  put("reads", reads_);
  put("writes", writes_);
  put("bytesRead", bytes_read_);
  put("bytesWritten", bytes_written_);
  put("invalid", invalid_);
  put("ioErrors", io_errors_);
  put("readAheadHits", ra_hits_);
  put("readAheadBytes", ra_bytes_);
}

}  // namespace sn
