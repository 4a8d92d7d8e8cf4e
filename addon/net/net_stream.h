// net_stream.h: the length-prefixed Ethernet framing of passt, QEMU -netdev stream and solo5-switch, over a stream fd.
#ifndef SN_NET_STREAM_H
#define SN_NET_STREAM_H

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "net_switch.h"

namespace sn {

/*
 * On the wire each Ethernet frame is preceded by its length as a 4-byte
 * big-endian integer; nothing else (no padding, no trailer). The peer is
 * untrusted: a length under 14 or over mtu + 14 cannot be resynchronised
 * (there are no frame markers), so it ends the link.
 *
 * These classes know nothing of guests or rings: the broker's stream net
 * device and the solo5-switch daemon both build on them. None of them is
 * thread-safe (one thread drives a link) and none owns or closes its fd.
 */
constexpr uint32_t kStreamHeaderBytes = 4;
constexpr uint32_t kStreamMinFrame = 14;
// What a link queues for a peer that is slow to read, beyond the kernel's
// socket buffer; past it frames are dropped (counted), never blocked on.
constexpr size_t kStreamQueueBytes = 256 * 1024;
// A drained queue keeps at most this much room for the next burst.
constexpr size_t kKeptQueueBytes = 16 * 1024;

// Receives a batch of frames; they point into the decoder's buffer and are
// valid only during the call.
using FrameSink = std::function<void(const Frame *frames, uint32_t n)>;

// Incremental decoder: bytes in any split (partial headers, partial
// frames), whole frames out.
class StreamDecoder {
 public:
  // max_frame: the largest frame accepted (mtu + 14), at most 65535 + 14.
  explicit StreamDecoder(uint32_t max_frame);

  // Decodes `len` bytes (a test's or a caller's own read); every complete
  // frame goes to sink. False once the stream is bad (why() says so); after
  // that it decodes nothing more.
  bool Feed(const uint8_t *data, size_t len, const FrameSink &sink);

  enum class ReadResult {
    kMore,    // stopped at max_frames: the fd may hold more
    kDrained, // the fd answered EAGAIN
    kFailed,  // EOF, a read error or a bad length: why() says which
  };
  // Reads a non-blocking fd into the decoder's own buffer (no copy for the
  // frames handed to sink) until EAGAIN or max_frames frames were decoded.
  ReadResult ReadFrom(int fd, uint32_t max_frames, const FrameSink &sink);

  // The end of the stream as the caller saw it: false (why() set) when a
  // frame was cut short, true at a frame boundary.
  bool End();

  bool failed() const { return failed_; }
  const std::string &why() const { return why_; }
  // Bytes held of a frame not yet complete (bounded by 4 + max_frame).
  size_t pending() const { return end_ - start_; }

 private:
  // Hands every complete frame in [start_, end_) to sink in batches.
  bool Parse(const FrameSink &sink, uint32_t max_frames, uint32_t *frames);
  bool Fail(const std::string &why);
  void Compact();

  const uint32_t max_frame_;
  // Not a vector: its bytes are left uninitialised, so a page the peer never
  // filled is never touched (the switch daemon holds thousands of these).
  std::unique_ptr<uint8_t[]> buf_;
  size_t size_ = 0;
  size_t start_ = 0, end_ = 0;  // undecoded bytes are buf_[start_, end_)
  bool failed_ = false;
  std::string why_;
};

// Bounded writer: writes a frame straight to the fd when nothing is queued,
// keeps what a partial write left over, and drops whole frames rather than
// queue past its limit.
class StreamWriter {
 public:
  explicit StreamWriter(size_t max_queued = kStreamQueueBytes) : max_queued_(max_queued) {}

  enum class SendResult { kWritten, kQueued, kDropped, kFailed };
  // The frame is copied (or written) before Send returns, so data may be a
  // buffer the guest can rewrite: what goes out is one consistent read.
  SendResult Send(int fd, const volatile uint8_t *data, uint32_t len);
  // On EPOLLOUT: writes what is queued. False once the link failed.
  bool Flush(int fd);
  // Whether bytes wait for the fd to become writable (ask epoll for EPOLLOUT).
  bool wants_write() const { return head_ < queue_.size(); }
  // Corked, Send only queues (within the limit) and the caller Flushes once
  // per batch: one send(2) for many frames (the solo5-switch daemon).
  void set_corked(bool on) { corked_ = on; }
  size_t queued() const { return queue_.size() - head_; }
  bool failed() const { return failed_; }
  const std::string &why() const { return why_; }

 private:
  bool WriteQueued(int fd);

  const size_t max_queued_;
  std::vector<uint8_t> queue_;  // header + frame bytes not yet written, from head_
  size_t head_ = 0;
  bool corked_ = false;
  bool failed_ = false;
  std::string why_;
};

// One framed link: decoder, writer and counters, closed for good (with the
// first reason) on the first failure of either direction.
class StreamLink {
 public:
  StreamLink(int fd, uint32_t mtu, size_t max_queued = kStreamQueueBytes);

  int fd() const { return fd_; }
  uint32_t mtu() const { return mtu_; }

  // The fd is readable: decodes up to max_frames and passes them to sink.
  // Returns what the decoder returned; kFailed closes the link.
  StreamDecoder::ReadResult Receive(uint32_t max_frames, const FrameSink &sink);
  // Queues one frame for the peer. A frame the link cannot take (too long,
  // queue full, link closed) is dropped and counted; kFailed closes the link.
  StreamWriter::SendResult Send(const volatile uint8_t *data, uint32_t len);
  // The fd is writable; false when the link is (now) closed.
  bool OnWritable();
  bool wants_write() const { return !closed_ && writer_.wants_write(); }
  void set_corked(bool on) { writer_.set_corked(on); }

  // Closes the link with a reason; true only the first time, so that the
  // caller reports exactly one line per link.
  bool Close(const std::string &why);
  bool closed() const { return closed_; }
  const std::string &why() const { return why_; }

  uint64_t rx_frames() const { return rx_frames_; }
  uint64_t rx_bytes() const { return rx_bytes_; }
  uint64_t tx_frames() const { return tx_frames_; }
  uint64_t tx_bytes() const { return tx_bytes_; }
  uint64_t tx_dropped() const { return tx_dropped_; }
  size_t queued() const { return writer_.queued(); }

 private:
  const int fd_;
  const uint32_t mtu_;
  StreamDecoder decoder_;
  StreamWriter writer_;
  bool closed_ = false;
  std::string why_;
  uint64_t rx_frames_ = 0, rx_bytes_ = 0, tx_frames_ = 0, tx_bytes_ = 0, tx_dropped_ = 0;
};

// A connected AF_UNIX SOCK_STREAM socket, close-on-exec and non-blocking.
// On failure returns -1, *err = "connect failed: ENOENT" and *errno_out.
int UnixConnect(const std::string &path, std::string *err, int *errno_out);

}  // namespace sn

#endif  // SN_NET_STREAM_H
