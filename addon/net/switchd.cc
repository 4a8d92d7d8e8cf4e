// switchd.cc: the solo5-switch daemon's epoll loop: accepting ports, reading them in turn, draining their queues.
#include "switchd.h"

#include <malloc.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace sn {

namespace {

std::string Errno(const char *what, int err) { return std::string(what) + " failed: " + strerrorname_np(err); }

// epoll data: the listening socket and the wake-up fd are told apart from
// ports (whose pointer is the data) by these two values no pointer takes.
constexpr uint64_t kListenTag = 1;
constexpr uint64_t kWakeTag = 2;

}  // namespace

SwitchDaemon::SwitchDaemon(int listen_fd, const SwitchdOptions &opts, EventFn on_event)
    : listen_fd_(listen_fd), opts_(opts), on_event_(std::move(on_event)), sw_(0, opts.mtu) {
  sw_.SetAging(opts.aging_ns);
}

SwitchDaemon::~SwitchDaemon() { Stop(); }

bool SwitchDaemon::Start(std::string *err) {
  if (opts_.pcap_fd >= 0) {
    pcap_ = std::make_unique<Pcap>(opts_.pcap_fd);
    if (!pcap_->WriteHeader(opts_.mtu + 14, err)) return false;
  }
  epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
  wake_fd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (epoll_fd_ < 0 || wake_fd_ < 0) {
    *err = Errno(epoll_fd_ < 0 ? "epoll_create1" : "eventfd", errno);
    return false;
  }
  struct epoll_event ev = {};
  ev.events = EPOLLIN;
  ev.data.u64 = kListenTag;
  struct epoll_event wake = {};
  wake.events = EPOLLIN;
  wake.data.u64 = kWakeTag;
  if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, listen_fd_, &ev) < 0 ||
      epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, wake_fd_, &wake) < 0) {
    *err = Errno("epoll_ctl", errno);
    return false;
  }
  thread_ = std::thread([this] { Loop(); });
  started_ = true;
  return true;
}

void SwitchDaemon::Stop() {
  if (stopped_) return;
  stopped_ = true;
  if (started_) {
    uint64_t one = 1;
    ssize_t w = write(wake_fd_, &one, sizeof one);
    (void)w;  // an eventfd only fails to count past 2^64 - 2
    thread_.join();
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto &kv : ports_) {
      SwitchdPortStats s = kv.second->Stats();
      s.open = false;
      s.closed_why = "the switch stopped";
      closed_.push_back(s);
    }
  }
  // Outside the lock: a port's destructor leaves the switch and closes its fd.
  std::unordered_map<uint32_t, std::unique_ptr<SwitchdPort>> gone;
  {
    std::lock_guard<std::mutex> lock(mu_);
    gone.swap(ports_);
  }
  gone.clear();
  for (int *fd : {&epoll_fd_, &wake_fd_, &listen_fd_}) {
    if (*fd >= 0) close(*fd);
    *fd = -1;
  }
}

std::vector<SwitchdPortStats> SwitchDaemon::Stats() {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<SwitchdPortStats> out;
  out.reserve(ports_.size() + closed_.size());
  for (const auto &kv : ports_) out.push_back(kv.second->Stats());
  std::sort(out.begin(), out.end(), [](const SwitchdPortStats &a, const SwitchdPortStats &b) { return a.id < b.id; });
  out.insert(out.end(), closed_.begin(), closed_.end());
  return out;
}

void SwitchDaemon::Emit(const std::string &type, const SwitchdPort *p, const std::string &msg) {
  SwitchdEvent ev;
  ev.type = type;
  ev.port = p != nullptr ? p->id() : 0;
  ev.pid = p != nullptr ? p->Stats().pid : -1;
  ev.uid = p != nullptr ? p->Stats().uid : 0;
  ev.message = msg;
  on_event_(ev);
}

void SwitchDaemon::Accept() {
  for (;;) {
    int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      if (errno == EAGAIN) return;
      if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
        // Level-triggered, the listener would wake us for ever: stop
        // listening until a port closes and frees an fd.
        struct epoll_event ev = {};
        ev.data.u64 = kListenTag;
        epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, listen_fd_, &ev);
        listening_ = false;
        Emit("warning", nullptr, Errno("accept4", errno) + "; new connections wait until a port closes");
        return;
      }
      Emit("warning", nullptr, Errno("accept4", errno));
      return;
    }
    struct ucred cred = {-1, 0, 0};
    socklen_t len = sizeof cred;
    getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len);
    size_t open;
    {
      std::lock_guard<std::mutex> lock(mu_);
      open = ports_.size();
    }
    if (open >= opts_.max_ports) {
      close(fd);
      SwitchdEvent ev{"refused", 0, cred.pid, cred.uid,
                      std::to_string(open) + " ports are connected, the most this switch takes (--max-ports)"};
      on_event_(ev);
      continue;
    }
    auto port = std::make_unique<SwitchdPort>(fd, opts_.mtu, cred.pid, cred.uid, cred.gid);
    SwitchdPort *p = port.get();
    struct epoll_event ev = {};
    ev.events = EPOLLIN;
    ev.data.ptr = p;
    if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev) < 0) {
      Emit("warning", nullptr, Errno("epoll_ctl", errno));
      continue;  // the port's destructor closes fd
    }
    p->Join(&sw_);
    {
      std::lock_guard<std::mutex> lock(mu_);
      ports_[p->id()] = std::move(port);
    }
    Emit("connected", p, "");
  }
}

void SwitchDaemon::Settle(SwitchdPort *p) {
  if (p->closed()) return;
  const bool want = p->wants_write();
  if (want == p->out_armed) return;
  struct epoll_event ev = {};
  ev.events = EPOLLIN | (want ? EPOLLOUT : 0u);
  ev.data.ptr = p;
  if (epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, p->fd(), &ev) == 0) p->out_armed = want;
}

void SwitchDaemon::Remove(SwitchdPort *p, const std::string &why) {
  epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, p->fd(), nullptr);
  SwitchdPortStats s = p->Stats();
  s.open = false;
  s.closed_why = why;
  Emit("closed", p, why);
  std::unique_ptr<SwitchdPort> gone;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = ports_.find(p->id());
    if (it != ports_.end()) {
      gone = std::move(it->second);
      ports_.erase(it);
    }
    if (closed_.size() >= kMaxClosed) closed_.erase(closed_.begin());
    closed_.push_back(s);
  }
  gone.reset();  // leaves the switch, closes the fd
  removed_since_trim_++;
  if (!listening_) {
    struct epoll_event ev = {};
    ev.events = EPOLLIN;
    ev.data.u64 = kListenTag;
    if (epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, listen_fd_, &ev) == 0) listening_ = true;
  }
}

void SwitchDaemon::Loop() {
  constexpr int kEvents = 64;
  struct epoll_event events[kEvents];
  std::vector<SwitchdPort *> touched, more, again;
  std::string pcap_err;
  auto read = [&](SwitchdPort *p) {
    if (p->OnReadable(kReadBatch, pcap_failed_ ? nullptr : pcap_.get(), &pcap_err) == StreamDecoder::ReadResult::kMore)
      more.push_back(p);
    if (!pcap_err.empty()) {
      pcap_failed_ = true;
      Emit("warning", nullptr, pcap_err + "; capture stopped");
      pcap_err.clear();
    }
  };
  for (;;) {
    // A port cut off at kReadBatch may hold decoded-but-unswitched bytes
    // that epoll knows nothing of: poll epoll without waiting, and serve
    // that port again in this round.
    again.swap(more);
    more.clear();
    int n = epoll_wait(epoll_fd_, events, kEvents, again.empty() ? -1 : 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      Emit("warning", nullptr, Errno("epoll_wait", errno) + "; the switch stops");
      return;
    }
    bool accept = false;
    for (int i = 0; i < n; i++) {
      const uint64_t tag = events[i].data.u64;
      if (tag == kWakeTag) return;
      if (tag == kListenTag) {
        accept = true;
        continue;
      }
      auto *p = static_cast<SwitchdPort *>(events[i].data.ptr);
      if (events[i].events & EPOLLOUT) p->OnWritable();
      if ((events[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) &&
          std::find(again.begin(), again.end(), p) == again.end())
        read(p);
    }
    for (SwitchdPort *p : again)
      if (!p->closed()) read(p);
    // Frames just read went into other ports' queues: those are written
    // now, may need EPOLLOUT, or found their peer gone. Every open port is
    // looked at, since a delivery can touch any of them.
    touched.clear();
    {
      std::lock_guard<std::mutex> lock(mu_);
      for (auto &kv : ports_) touched.push_back(kv.second.get());
    }
    for (SwitchdPort *p : touched) {
      // Ports are corked: what the round queued for a peer goes out in one
      // send(2) here (unless the socket is full and EPOLLOUT will say when).
      if (!p->closed() && !p->out_armed && p->wants_write()) p->OnWritable();
      if (p->closed()) {
        more.erase(std::remove(more.begin(), more.end(), p), more.end());
        Remove(p, p->why());
      } else {
        Settle(p);
      }
    }
    TrimAfterRemovals();
    if (accept) Accept();
  }
}

void SwitchDaemon::TrimAfterRemovals() {
  // A port's buffers are freed when it closes, but malloc keeps freed heap
  // pages for reuse: after thousands of peers came and went the daemon would
  // stay as large as at its peak. malloc_trim() returns every whole free
  // page; it walks the heap, so it runs once per 64 ports gone, or when the
  // last one has.
  if (removed_since_trim_ == 0) return;
  size_t open;
  {
    std::lock_guard<std::mutex> lock(mu_);
    open = ports_.size();
  }
  if (removed_since_trim_ < 64 && open > 0) return;
  removed_since_trim_ = 0;
  malloc_trim(0);
}

}  // namespace sn
