// net_stream.cc: decoding and writing length-prefixed frames on a non-blocking stream socket, and connecting to one.
#include "net_stream.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace sn {

namespace {

constexpr uint32_t kBatch = 32;
constexpr uint32_t kLargestFrame = 65535 + 14;
// A listener whose backlog is full would otherwise hold connect(2) forever.
constexpr int kConnectTimeoutSec = 5;

std::string Errno(const char *what, int err) { return std::string(what) + " failed: " + strerrorname_np(err); }

uint32_t Be32(const uint8_t *p) {
  return (static_cast<uint32_t>(p[0]) << 24) | (static_cast<uint32_t>(p[1]) << 16) |
         (static_cast<uint32_t>(p[2]) << 8) | p[3];
}

}  // namespace

StreamDecoder::StreamDecoder(uint32_t max_frame)
    : max_frame_(std::min(std::max(max_frame, kStreamMinFrame), kLargestFrame)) {
  // Room for two of the largest frames, so that one read usually brings in
  // several small ones without the tail ever needing more than one move,
  // and at least 64 KiB, so that one read drains hundreds of small frames.
  size_ = std::max<size_t>(64 * 1024, 2 * (static_cast<size_t>(kStreamHeaderBytes) + max_frame_));
  buf_.reset(new uint8_t[size_]);
}

bool StreamDecoder::Fail(const std::string &why) {
  if (!failed_) {
    failed_ = true;
    why_ = why;
  }
  start_ = end_ = 0;
  return false;
}

void StreamDecoder::Compact() {
  if (start_ == 0) return;
  if (end_ > start_) memmove(buf_.get(), buf_.get() + start_, end_ - start_);
  end_ -= start_;
  start_ = 0;
}

bool StreamDecoder::Parse(const FrameSink &sink, uint32_t max_frames, uint32_t *frames) {
  Frame batch[kBatch];
  uint32_t n = 0;
  std::string bad;
  while (*frames + n < max_frames && end_ - start_ >= kStreamHeaderBytes) {
    const uint8_t *p = buf_.get() + start_;
    const uint32_t len = Be32(p);  // from the peer: checked before anything else uses it
    if (len < kStreamMinFrame || len > max_frame_) {
      bad = "bad frame length " + std::to_string(len) + " (expected " + std::to_string(kStreamMinFrame) + " to " +
            std::to_string(max_frame_) + ")";
      break;
    }
    if (end_ - start_ < kStreamHeaderBytes + static_cast<size_t>(len)) break;
    batch[n++] = Frame{p + kStreamHeaderBytes, len};
    start_ += kStreamHeaderBytes + len;
    if (n == kBatch) {
      sink(batch, n);
      *frames += n;
      n = 0;
    }
  }
  // The frames before a bad length were good: they still go out.
  if (n > 0) sink(batch, n);
  *frames += n;
  return bad.empty() || Fail(bad);
}

bool StreamDecoder::Feed(const uint8_t *data, size_t len, const FrameSink &sink) {
  while (len > 0 && !failed_) {
    Compact();
    // After a parse at most one partial frame remains, so there is room.
    const size_t take = std::min(len, size_ - end_);
    memcpy(buf_.get() + end_, data, take);
    end_ += take;
    data += take;
    len -= take;
    uint32_t frames = 0;
    if (!Parse(sink, UINT32_MAX, &frames)) return false;
  }
  return !failed_;
}

StreamDecoder::ReadResult StreamDecoder::ReadFrom(int fd, uint32_t max_frames, const FrameSink &sink) {
  if (failed_) return ReadResult::kFailed;
  uint32_t frames = 0;
  // Frames left over from the last call (it stopped at max_frames) first.
  if (!Parse(sink, max_frames, &frames)) return ReadResult::kFailed;
  while (frames < max_frames) {
    Compact();
    ssize_t r = read(fd, buf_.get() + end_, size_ - end_);
    if (r < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN) return ReadResult::kDrained;
      Fail(errno == ECONNRESET ? "the peer reset the connection" : Errno("read", errno));
      return ReadResult::kFailed;
    }
    if (r == 0) {
      End();
      return ReadResult::kFailed;
    }
    end_ += static_cast<size_t>(r);
    if (!Parse(sink, max_frames, &frames)) return ReadResult::kFailed;
  }
  return ReadResult::kMore;
}

bool StreamDecoder::End() {
  if (failed_) return false;
  if (end_ > start_)
    return Fail("the peer closed the stream in the middle of a frame (" + std::to_string(end_ - start_) +
                " bytes of it received)");
  return Fail("the peer closed the stream");
}

StreamWriter::SendResult StreamWriter::Send(int fd, const volatile uint8_t *data, uint32_t len) {
  if (failed_) return SendResult::kFailed;
  const size_t total = kStreamHeaderBytes + static_cast<size_t>(len);
  uint8_t hdr[kStreamHeaderBytes] = {static_cast<uint8_t>(len >> 24), static_cast<uint8_t>(len >> 16),
                                     static_cast<uint8_t>(len >> 8), static_cast<uint8_t>(len)};
  const uint8_t *body = const_cast<const uint8_t *>(data);
  size_t done = 0;
  if (!wants_write() && !corked_) {
    // Nothing queued: the kernel copies the frame straight from its buffer.
    struct iovec iov[2] = {{hdr, sizeof hdr}, {const_cast<uint8_t *>(body), len}};
    struct msghdr msg;
    memset(&msg, 0, sizeof msg);
    msg.msg_iov = iov;
    msg.msg_iovlen = 2;
    ssize_t w;
    do {
      w = sendmsg(fd, &msg, MSG_DONTWAIT | MSG_NOSIGNAL);
    } while (w < 0 && errno == EINTR);
    if (w < 0 && errno != EAGAIN) {
      failed_ = true;
      why_ = (errno == EPIPE || errno == ECONNRESET) ? "the peer closed the stream" : Errno("send", errno);
      return SendResult::kFailed;
    }
    done = w < 0 ? 0 : static_cast<size_t>(w);
    if (done == total) return SendResult::kWritten;
    // A frame begun on the wire must be finished, whatever the limit: the
    // peer could never find the next header otherwise.
  } else if (queued() + total > max_queued_) {
    return SendResult::kDropped;
  }
  if (head_ > 0 && head_ >= queue_.size() / 2) {
    queue_.erase(queue_.begin(), queue_.begin() + static_cast<std::ptrdiff_t>(head_));
    head_ = 0;
  }
  // The rest of the frame is copied from the buffer once more; a guest that
  // rewrote it meanwhile only garbles its own frame, never the framing.
  if (done < sizeof hdr) queue_.insert(queue_.end(), hdr + done, hdr + sizeof hdr);
  const size_t from = done > sizeof hdr ? done - sizeof hdr : 0;
  queue_.insert(queue_.end(), body + from, body + len);
  return SendResult::kQueued;
}

bool StreamWriter::WriteQueued(int fd) {
  while (head_ < queue_.size()) {
    ssize_t w = send(fd, queue_.data() + head_, queue_.size() - head_, MSG_DONTWAIT | MSG_NOSIGNAL);
    if (w < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN) return true;
      failed_ = true;
      why_ = (errno == EPIPE || errno == ECONNRESET) ? "the peer closed the stream" : Errno("send", errno);
      return false;
    }
    head_ += static_cast<size_t>(w);
  }
  queue_.clear();
  head_ = 0;
  // A burst can grow the queue to its limit; once it has drained, an idle
  // link should not keep that memory.
  if (queue_.capacity() > kKeptQueueBytes) std::vector<uint8_t>().swap(queue_);
  return true;
}

bool StreamWriter::Flush(int fd) { return !failed_ && WriteQueued(fd); }

StreamLink::StreamLink(int fd, uint32_t mtu, size_t max_queued)
    : fd_(fd), mtu_(mtu), decoder_(mtu + 14), writer_(max_queued) {}

bool StreamLink::Close(const std::string &why) {
  if (closed_) return false;
  closed_ = true;
  why_ = why;
  return true;
}

StreamDecoder::ReadResult StreamLink::Receive(uint32_t max_frames, const FrameSink &sink) {
  if (closed_) return StreamDecoder::ReadResult::kFailed;
  auto counted = [&](const Frame *frames, uint32_t n) {
    rx_frames_ += n;
    for (uint32_t i = 0; i < n; i++) rx_bytes_ += frames[i].len;
    sink(frames, n);
  };
  StreamDecoder::ReadResult r = decoder_.ReadFrom(fd_, max_frames, counted);
  if (r == StreamDecoder::ReadResult::kFailed) Close(decoder_.why());
  return r;
}

StreamWriter::SendResult StreamLink::Send(const volatile uint8_t *data, uint32_t len) {
  if (closed_ || len < kStreamMinFrame || len > mtu_ + 14) {
    tx_dropped_++;
    return closed_ ? StreamWriter::SendResult::kFailed : StreamWriter::SendResult::kDropped;
  }
  StreamWriter::SendResult r = writer_.Send(fd_, data, len);
  if (r == StreamWriter::SendResult::kWritten || r == StreamWriter::SendResult::kQueued) {
    tx_frames_++;
    tx_bytes_ += len;
  } else {
    tx_dropped_++;
    if (r == StreamWriter::SendResult::kFailed) Close(writer_.why());
  }
  return r;
}

bool StreamLink::OnWritable() {
  if (closed_) return false;
  if (!writer_.Flush(fd_)) Close(writer_.why());
  return !closed_;
}

int UnixConnect(const std::string &path, std::string *err, int *errno_out) {
  struct sockaddr_un sa;
  memset(&sa, 0, sizeof sa);
  sa.sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof sa.sun_path || path.find('\0') != std::string::npos) {
    *errno_out = ENAMETOOLONG;
    *err = path.empty() ? "empty socket path"
                        : "socket path longer than " + std::to_string(sizeof sa.sun_path - 1) + " bytes";
    return -1;
  }
  memcpy(sa.sun_path, path.data(), path.size());
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    *errno_out = errno;
    *err = Errno("socket", errno);
    return -1;
  }
  struct timeval tv = {kConnectTimeoutSec, 0};
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  int rc;
  do {
    rc = connect(fd, reinterpret_cast<struct sockaddr *>(&sa), sizeof sa);
  } while (rc < 0 && errno == EINTR);
  if (rc < 0) {
    *errno_out = errno;
    *err = errno == EAGAIN ? std::string("connect timed out (the listener accepts no more connections)")
                           : Errno("connect", errno);
    close(fd);
    return -1;
  }
  tv = {0, 0};
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  int fl = fcntl(fd, F_GETFL);
  if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) {
    *errno_out = errno;
    *err = Errno("fcntl O_NONBLOCK", errno);
    close(fd);
    return -1;
  }
  return fd;
}

}  // namespace sn
