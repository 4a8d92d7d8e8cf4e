// broker_guest.cc: sets up and tears down one guest's broker: mapping, ring area, doorbells, events.
#include "broker_guest.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstring>

#include "block_dev.h"
#include "broker_layout.h"
#include "net_dev.h"
#include "net_sock.h"
#include "sn_abi.h"

namespace sn {

namespace {

std::string Errno(const std::string &what, int err) { return what + " failed: " + strerrorname_np(err); }

struct EventMsg {
  const char *type;
  std::string device, message;
};

}  // namespace

std::shared_ptr<Guest> Guest::Create(GuestSpec &spec, Napi::ThreadSafeFunction events, std::string *err,
                                     std::string *code) {
  std::shared_ptr<Guest> g(new Guest());
  g->events_ = events;
  g->events_open_ = true;
  g->spin_ns_ = static_cast<uint64_t>(spec.spin_us) * 1000;
  g->read_only_ = spec.read_only;
  if (spec.solo5) return g->CreateSockDevices(spec, err) ? g : nullptr;

  std::vector<DevPlacement> places;
  for (const NetSpec &n : spec.nets) {
    DevPlacement p;
    p.index = n.index;
    p.net = true;
    p.mtu = n.mtu;
    places.push_back(p);
  }
  for (const BlkSpec &b : spec.blks) {
    DevPlacement p;
    p.index = b.index;
    p.block_size = b.block_size;
    p.capacity = b.capacity;
    places.push_back(p);
  }
  uint64_t size = 0;
  if (!FitDevices(places, spec.rings_max, &size)) {
    *code = "ERINGS";
    *err = "the rings of " + std::to_string(places.size()) + " device(s) need at least " + std::to_string(size) +
           " bytes, more than the " + std::to_string(spec.rings_max) + " bytes allowed (ringsMax)";
    return nullptr;
  }
  if (spec.rings_addr > spec.mem_size || size > spec.mem_size - spec.rings_addr) {
    *err = "ring area of " + std::to_string(size) + " bytes at " + std::to_string(spec.rings_addr) +
           " does not fit in " + std::to_string(spec.mem_size) + " bytes of guest memory";
    return nullptr;
  }
  g->rings_size_ = size;
  g->rings_addr_ = spec.rings_addr;

  if (!g->MapMemory(spec, err)) return nullptr;

  g->db_tender_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  g->db_guest_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  g->wake_fd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (g->db_tender_ < 0 || g->db_guest_ < 0 || g->wake_fd_ < 0) {
    *err = Errno("eventfd", errno);
    return nullptr;
  }
  g->epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
  if (g->epoll_fd_ < 0) {
    *err = Errno("epoll_create1", errno);
    return nullptr;
  }
  auto watch = [&](int fd, uint64_t tag) {
    struct epoll_event ev;
    memset(&ev, 0, sizeof ev);
    ev.events = EPOLLIN;
    ev.data.u64 = tag;
    return epoll_ctl(g->epoll_fd_, EPOLL_CTL_ADD, fd, &ev) == 0;
  };
  if (!watch(g->db_tender_, kTagDoorbell) || !watch(g->wake_fd_, kTagWake)) {
    *err = Errno("epoll_ctl", errno);
    return nullptr;
  }

  for (NetSpec &n : spec.nets)
    if (!g->Own(&n.tap_fd, n.name, err) || !g->Own(&n.stream_fd, n.name, err) || !g->Own(&n.pcap_fd, n.name, err))
      return nullptr;
  for (BlkSpec &b : spec.blks)
    if (!g->Own(&b.fd, b.name, err)) return nullptr;

  uint8_t *area = g->mem_ + spec.rings_addr;
  InitRingsArea(area, spec.entries, places);
  auto place_of = [&](uint32_t index) -> const DevPlacement & {
    for (const DevPlacement &p : places)
      if (p.index == index) return p;
    return places.front();  // unreachable: every spec has a placement
  };
  for (const NetSpec &n : spec.nets) {
    const DevPlacement &p = place_of(n.index);
    g->nets_.emplace_back(new NetDev(g.get(), n, p, area + p.dev_off));
    NetDev *dev = g->nets_.back().get();
    if (!dev->Init(err)) return nullptr;
    if (n.tap_fd >= 0) {
      uint64_t tag = kTagTap + g->nets_.size() - 1;
      if (!watch(n.tap_fd, tag)) {
        *err = "net device '" + n.name + "': " + Errno("epoll_ctl on the tap fd", errno);
        return nullptr;
      }
      dev->SetEpoll(g->epoll_fd_, tag);
    }
    if (n.stream_fd >= 0) {
      uint64_t tag = kTagTap + g->nets_.size() - 1;
      if (!watch(n.stream_fd, tag)) {
        *err = "net device '" + n.name + "': " + Errno("epoll_ctl on the stream fd", errno);
        return nullptr;
      }
      dev->SetStreamEpoll(g->epoll_fd_, tag);
    }
  }
  // News from outside reaches a ring-ABI guest only through its rx queues
  // and its block reads: read-ahead watches both (block_readahead.h).
  auto blk_inputs = std::make_shared<BlkInputs>();
  for (const NetSpec &n : spec.nets)
    blk_inputs->rx_prods.push_back(reinterpret_cast<volatile uint32_t *>(
        area + place_of(n.index).dev_off + offsetof(struct sn_net_dev, rx) + offsetof(struct sn_queue, prod)));
  for (const BlkSpec &b : spec.blks) {
    struct stat st;
    if (fstat(b.fd, &st) < 0) {
      *err = "block device '" + b.name + "': " + Errno("fstat", errno);
      return nullptr;
    }
    if (S_ISREG(st.st_mode) && static_cast<uint64_t>(st.st_size) < b.capacity) {
      *err = "block device '" + b.name + "': image has " + std::to_string(st.st_size) +
             " bytes, less than its capacity " + std::to_string(b.capacity);
      return nullptr;
    }
    const DevPlacement &p = place_of(b.index);
    g->blks_.emplace_back(new BlkDev(g.get(), b, p, area + p.dev_off, blk_inputs));
  }
  return g;
}

bool Guest::MapMemory(const GuestSpec &spec, std::string *err) {
  struct stat st;
  if (fstat(spec.mem_fd, &st) < 0) {
    *err = Errno("fstat guest memory fd", errno);
    return false;
  }
  if (static_cast<uint64_t>(st.st_size) < spec.mem_size) {
    *err = "guest memory fd has " + std::to_string(st.st_size) + " bytes, less than memSize " +
           std::to_string(spec.mem_size);
    return false;
  }
  // A memfd that shrank under the mapping would turn the next access into
  // SIGBUS in the tender; sealing rules that out for good.
  if (fcntl(spec.mem_fd, F_ADD_SEALS, F_SEAL_SHRINK) < 0) {
    *err = Errno("sealing guest memory against shrinking (F_ADD_SEALS)", errno);
    return false;
  }
  void *m = mmap(nullptr, spec.mem_size, PROT_READ | PROT_WRITE, MAP_SHARED, spec.mem_fd, 0);
  if (m == MAP_FAILED) {
    *err = Errno("mmap guest memory", errno);
    return false;
  }
  mem_ = static_cast<uint8_t *>(m);
  mem_size_ = spec.mem_size;

  return true;
}

Guest::~Guest() { Stop(); }

void Guest::CleanupHook(void *arg) { static_cast<Guest *>(arg)->Stop(); }

void Guest::AddCleanupHook(napi_env env) {
  if (napi_add_env_cleanup_hook(env, CleanupHook, this) == napi_ok) hook_env_ = env;
}

bool Guest::Own(int *fd, const std::string &device, std::string *err) {
  if (*fd < 0) return true;
  int d = fcntl(*fd, F_DUPFD_CLOEXEC, 3);
  if (d < 0) {
    *err = "device '" + device + "': " + Errno("dup of fd " + std::to_string(*fd), errno);
    return false;
  }
  owned_fds_.push_back(d);
  *fd = d;
  return true;
}

bool Guest::Start(pid_t share_cpu_with, pid_t guest_pid, std::string *err, std::string *why) {
  if (stopped_) {
    *err = "the broker was stopped";
    return false;
  }
  if (started_) return true;
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  cpu_set_t one;
  if (share_cpu_with > 0 && !solo5_ && (cpu_ = ShareOneCpu(share_cpu_with, &one, why)) >= 0) {
    pthread_attr_setaffinity_np(&attr, sizeof one, &one);
    for (auto &n : nets_) n->SetNoSpin(true);
  }
  // Only a pump that is free to move, serving block devices, looks (LeaveGuestCpu).
  if (cpu_ < 0 && guest_pid > 0 && !solo5_ && !blks_.empty()) {
    const std::string stat = "/proc/" + std::to_string(guest_pid) + "/stat";
    guest_stat_fd_ = open(stat.c_str(), O_RDONLY | O_CLOEXEC);
  }
  for (auto &n : nets_) n->Attach();
  for (auto &n : socks_) n->Attach();
  // The pump takes no signals: they belong to Node's main thread.
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  int rc = pthread_create(&thread_, &attr, PumpMain, this);
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  pthread_attr_destroy(&attr);
  // Named here as well as by the thread itself, so that it carries its
  // name (in ps, top, /proc) from the moment start() returns.
  if (rc == 0) pthread_setname_np(thread_, "sn-pump");
  if (rc != 0) {
    for (auto &n : nets_) n->Detach();
    for (auto &n : socks_) n->Detach();
    *err = Errno("pthread_create for the pump", rc);
    return false;
  }
  started_ = true;
  return true;
}

void Guest::Stop() {
  if (stopped_) return;
  stopped_ = true;
  if (hook_env_ != nullptr) napi_remove_env_cleanup_hook(hook_env_, CleanupHook, this);
  hook_env_ = nullptr;
  JoinPump();
  // Leaving the switches waits for deliveries into this guest's rx queues
  // that other pumps have in flight; only then is the mapping dropped.
  for (auto &n : nets_) n->Detach();
  for (auto &n : socks_) n->Detach();
  for (int *fd : {&db_tender_, &db_guest_, &wake_fd_, &epoll_fd_, &guest_stat_fd_, &hvt_kick_fd_}) {
    if (*fd >= 0) close(*fd);
    *fd = -1;
  }
  for (int fd : owned_fds_) close(fd);
  owned_fds_.clear();
  if (mem_) munmap(mem_, mem_size_);
  mem_ = nullptr;
  std::lock_guard<std::mutex> lock(events_mu_);
  if (events_open_) {
    events_open_ = false;
    events_.Release();
  }
}

void Guest::JoinPump() {
  stopping_.store(true);
  if (started_ && !joined_) {
    WakePump();
    pthread_join(thread_, nullptr);
    joined_ = true;
  }
}

std::string Guest::Drain() {
  if (!stopped_) {
    JoinPump();
    // A Solo5-ABI guest's last frames may still sit in its socket.
    for (auto &s : socks_) s->FlushAfterExit();
    // With the pump joined, the tender's own indices are still; one more
    // look at the guest's catches what it wrote just before it exited. The
    // caller gets the result here, not as an event.
    std::string found, why;
    for (auto &n : nets_)
      if (found.empty() && !n->Audit(&why)) found = n->name() + ": " + why;
    for (auto &b : blks_)
      if (found.empty() && !b->Audit(&why)) found = b->name() + ": " + why;
    if (!found.empty()) violated_.store(true);
    std::lock_guard<std::mutex> lock(violation_mu_);
    if (first_violation_.empty()) first_violation_ = found;
  }
  std::lock_guard<std::mutex> lock(violation_mu_);
  return first_violation_;
}

void Guest::Report(const char *type, const std::string &device, const std::string &message) {
  std::lock_guard<std::mutex> lock(events_mu_);
  if (!events_open_) return;
  EventMsg *msg = new EventMsg{type, device, message};
  napi_status s = events_.NonBlockingCall(msg, [](Napi::Env env, Napi::Function fn, EventMsg *m) {
    if (env != nullptr && fn != nullptr) {
      // A call still queued when Node tears the environment down cannot run
      // JavaScript, and node-addon-api would throw that failure into a dying
      // environment and abort the process: raw calls, statuses ignored (a
      // throw from the callback itself stays pending as usual).
      napi_value ev, v, result;
      if (napi_create_object(env, &ev) == napi_ok) {
        const std::string type = m->type;
        const std::pair<const char *, const std::string *> fields[] = {
            {"type", &type}, {"device", &m->device}, {"message", &m->message}};
        bool ok = true;
        for (const auto &f : fields)
          ok = ok && napi_create_string_utf8(env, f.second->c_str(), f.second->size(), &v) == napi_ok &&
               napi_set_named_property(env, ev, f.first, v) == napi_ok;
        napi_value global;
        if (ok && napi_get_global(env, &global) == napi_ok) napi_call_function(env, global, fn, 1, &ev, &result);
      }
    }
    delete m;
  });
  if (s != napi_ok) delete msg;
}

void Guest::Violation(const std::string &device, const std::string &message) {
  {
    std::lock_guard<std::mutex> lock(violation_mu_);
    if (first_violation_.empty()) first_violation_ = device + ": " + message;
  }
  if (violated_.exchange(true)) return;
  Report("violation", device, message);
  WakePump();
}

void Guest::Error(const std::string &device, const std::string &message) { Report("error", device, message); }

void Guest::Closed(const std::string &device, const std::string &message) { Report("closed", device, message); }

bool Guest::TouchesReadOnly(uint64_t addr, uint64_t len) const {
  for (const auto &r : read_only_)
    if (addr < r.first + r.second && r.first < addr + len) return true;
  return false;
}

bool Guest::KickGuest() {
  uint64_t one = 1;
  if (db_guest_ < 0 || write(db_guest_, &one, sizeof one) != sizeof one) return false;
  kicks_.fetch_add(1, std::memory_order_relaxed);
  return true;
}

void Guest::WakePump() {
  uint64_t one = 1;
  if (wake_fd_ >= 0 && write(wake_fd_, &one, sizeof one) < 0) {
    // Only EAGAIN is possible (counter saturated): the pump is awake anyway.
  }
}

std::vector<std::pair<std::string, double>> Guest::Counters() {
  std::vector<std::pair<std::string, double>> out;
  for (auto &n : nets_) n->AddCounters(&out);
  for (auto &b : blks_) b->AddCounters(&out);
  for (auto &n : socks_) n->AddCounters(&out);
  if (hvt_) hvt_->AddCounters(&out);
  out.emplace_back("pump.sleeps", static_cast<double>(sleeps_.load(std::memory_order_relaxed)));
  out.emplace_back("pump.kicks", static_cast<double>(kicks_.load(std::memory_order_relaxed)));
  out.emplace_back("pump.violated", violated_.load() ? 1 : 0);
  out.emplace_back("pump.cpu", cpu_);
  out.emplace_back("pump.cpuMoves", static_cast<double>(cpu_moves_.load(std::memory_order_relaxed)));
  return out;
}

}  // namespace sn
