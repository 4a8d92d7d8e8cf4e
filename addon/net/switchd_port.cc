// switchd_port.cc: reading, switching and fairly queueing the frames of one solo5-switch connection.
#include "switchd_port.h"

#include <unistd.h>

namespace sn {

namespace {

// The link's queue is shared out in units of this many bytes: a 64-byte
// frame takes one, a 1514-byte frame twelve.
constexpr uint32_t kUnitBytes = 128;
constexpr uint32_t kUnits = static_cast<uint32_t>(kStreamQueueBytes / kUnitBytes);
static_assert((kUnits & (kUnits - 1)) == 0, "FairShare wants a power-of-two number of slots");

uint32_t UnitsOf(uint32_t len) { return (kStreamHeaderBytes + len + kUnitBytes - 1) / kUnitBytes; }

}  // namespace

SwitchdPort::SwitchdPort(int fd, uint32_t mtu, pid_t pid, uid_t uid, gid_t gid)
    : link_(fd, mtu), pid_(pid), uid_(uid), gid_(gid), fair_(kUnits) {
  link_.set_corked(true);
}

SwitchdPort::~SwitchdPort() {
  Leave();
  close(link_.fd());
}

void SwitchdPort::Join(Switch *sw) {
  sw_ = sw;
  id_ = sw->AddPort(this, nullptr);
}

void SwitchdPort::Leave() {
  if (sw_ != nullptr) sw_->RemovePort(id_);
  sw_ = nullptr;
}

StreamDecoder::ReadResult SwitchdPort::OnReadable(uint32_t max_frames, Pcap *pcap, std::string *pcap_err) {
  auto sink = [&](const Frame *frames, uint32_t n) {
    uint64_t bytes = 0;
    for (uint32_t i = 0; i < n; i++) {
      bytes += frames[i].len;
      if (pcap != nullptr && !pcap->Record(frames[i].data, frames[i].len, pcap_err)) pcap = nullptr;
    }
    Add(rx_packets_, n);
    Add(rx_bytes_, bytes);
    const uint32_t queued = sw_ != nullptr ? sw_->Forward(id_, frames, n) : 0;
    if (queued < n) Add(rx_dropped_, n - queued);
  };
  return link_.Receive(max_frames, sink);
}

bool SwitchdPort::OnWritable() {
  const bool ok = link_.OnWritable();
  Reclaim();
  return ok;
}

void SwitchdPort::Reclaim() {
  const uint64_t written = enq_bytes_ - link_.queued();
  while (!inflight_.empty() && inflight_.front().first <= written) {
    fair_.Freed(freed_, inflight_.front().second);
    freed_ = inflight_.front().second;
    inflight_.pop_front();
  }
}

uint32_t SwitchdPort::Deliver(const Frame *frames, uint32_t n, uint32_t src_port) {
  if (link_.closed()) {
    Add(tx_dropped_, n);
    return 0;
  }
  Reclaim();
  const uint32_t ports = sw_ != nullptr ? sw_->port_count() : 0;
  const uint32_t others = ports > 2 ? ports - 2 : 0;
  uint32_t sent = 0;
  uint64_t bytes = 0;
  for (uint32_t i = 0; i < n; i++) {
    const uint32_t len = frames[i].len;
    const uint32_t units = UnitsOf(len);
    // Only a queue that is filling holds shares: into an empty one a frame
    // always fits, and the loop writes it out at the end of this round.
    const size_t before = link_.queued();
    if (before > 0 && !fair_.Admit(src_port, kUnits - (taken_ - freed_), others, units)) continue;
    const StreamWriter::SendResult r = link_.Send(frames[i].data, len);
    if (r == StreamWriter::SendResult::kFailed) break;
    if (r == StreamWriter::SendResult::kDropped) continue;
    sent++;
    bytes += len;
    const size_t added = link_.queued() - before;
    if (added == 0) continue;
    // Whatever the share said, a frame that went partly to the socket holds
    // its units until written: the peer must get the rest of it.
    for (uint32_t u = 0; u < units; u++) fair_.Took(taken_++, src_port);
    enq_bytes_ += added;
    inflight_.emplace_back(enq_bytes_, taken_);
  }
  Add(tx_packets_, sent);
  Add(tx_bytes_, bytes);
  if (sent < n) Add(tx_dropped_, n - sent);
  return sent;
}

SwitchdPortStats SwitchdPort::Stats() const {
  SwitchdPortStats s;
  s.id = id_;
  s.pid = static_cast<int32_t>(pid_);
  s.uid = uid_;
  s.gid = gid_;
  s.open = true;
  s.rx_packets = rx_packets_.load(std::memory_order_relaxed);
  s.rx_bytes = rx_bytes_.load(std::memory_order_relaxed);
  s.rx_dropped = rx_dropped_.load(std::memory_order_relaxed);
  s.tx_packets = tx_packets_.load(std::memory_order_relaxed);
  s.tx_bytes = tx_bytes_.load(std::memory_order_relaxed);
  s.tx_dropped = tx_dropped_.load(std::memory_order_relaxed);
  return s;
}

}  // namespace sn
