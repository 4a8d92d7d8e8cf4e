// broker_guest.h: one guest's brokered devices: its memory mapping, doorbells, devices and pump thread.
#ifndef SN_BROKER_GUEST_H
#define SN_BROKER_GUEST_H

#include <napi.h>
#include <pthread.h>
#include <sched.h>
#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "block_readahead.h"
#include "broker_hvtring.h"

namespace sn {

class Switch;
class NetDev;
class BlkDev;
class SockNetDev;

struct NetSpec {
  std::string name;
  uint32_t index = 0;
  uint32_t mtu = 0;
  uint8_t mac[6] = {0, 0, 0, 0, 0, 0};
  int tap_fd = -1;                // backend tap
  std::shared_ptr<Switch> sw;     // backend switch
  int stream_fd = -1;             // backend framed stream (passt, QEMU -netdev stream, solo5-switch)
  int pcap_fd = -1;
  int guest_sock_fd = -1;         // Solo5 ABI: the tender's end of the guest's socketpair
};

struct BlkSpec {
  std::string name;
  uint32_t index = 0;
  int fd = -1;
  uint64_t capacity = 0;
  uint32_t block_size = 0;
  uint32_t readahead_us = kReadAheadUsDefault;  // most age of a read-ahead window served; 0: none
};

// The caller keeps its fds; the broker works on its own duplicates, so that
// a caller closing early can never make the pump write into a reused fd.
struct GuestSpec {
  int mem_fd = -1;
  uint64_t mem_size = 0;
  uint64_t rings_addr = 0;
  uint32_t entries = 0;     // manifest entries, for sn_rings_hdr.entries
  uint32_t spin_us = 50;    // busy-poll window after the last activity
  bool solo5 = false;       // Solo5 ABI: socket devices only, no ring area, no memory mapping
  uint64_t rings_max = UINT64_MAX;  // most bytes the ring area may take
  std::vector<std::pair<uint64_t, uint64_t>> read_only;  // guest [addr, addr + len) the broker never writes
  bool has_hvt = false;     // Solo5 ABI on hvt: serve the 0.11+ net ring in guest memory
  HvtRingSpec hvt;
  std::vector<NetSpec> nets;
  std::vector<BlkSpec> blks;
};

// Chooses one CPU that both the calling thread and process `pid` may run
// on, narrows the process to it and returns it, also in *chosen (for the
// pump thread's attributes). -1 with a one-line reason when there is none
// or the process may not be changed; it then stays as it was.
int ShareOneCpu(pid_t pid, cpu_set_t *chosen, std::string *why);

class Guest {
 public:
  // Maps guest memory, lays out the rings and creates the doorbells. On
  // failure returns null and a one-line reason naming the syscall and errno;
  // *code is "ERINGS" when the devices' rings cannot fit in rings_max.
  static std::shared_ptr<Guest> Create(GuestSpec &spec, Napi::ThreadSafeFunction events, std::string *err,
                                       std::string *code);
  ~Guest();
  Guest(const Guest &) = delete;
  Guest &operator=(const Guest &) = delete;

  // Stops this guest before Node tears down the environment (and with it
  // the event TSFN): registered after the TSFN, so it runs before its hook.
  void AddCleanupHook(napi_env env);

  // share_cpu_with > 0: the guest's pid; the pump and the guest then run on
  // one CPU (docs/decisions.md, "Where the time goes") when one is
  // allowed to both, else as before (*why says why not). guest_pid > 0:
  // the guest's process, which an unpinned pump keeps off its CPU while it
  // serves block requests (LeaveGuestCpu).
  bool Start(pid_t share_cpu_with, pid_t guest_pid, std::string *err, std::string *why);
  // Joins the pump, leaves the switches, unmaps, closes the doorbells.
  // Idempotent; safe from the JS thread only.
  void Stop();
  // JS thread, after the guest exited: stops the pump, looks at every
  // ring once more and returns the first violation ("" when none).
  std::string Drain();

  uint64_t rings_size() const { return rings_size_; }
  uint64_t rings_addr() const { return rings_addr_; }
  int doorbell_to_tender() const { return db_tender_; }
  int doorbell_to_guest() const { return db_guest_; }
  // The hvt net ring's kick eventfd (the helper registers it on port 0x600); -1: no ring.
  int hvt_kick_fd() const { return hvt_kick_fd_; }
  int cpu() const { return cpu_; }
  std::vector<std::pair<std::string, double>> Counters();

  // Guest memory, for the devices and the test-only accessors.
  uint8_t *mem() const { return mem_; }
  uint64_t mem_size() const { return mem_size_; }
  bool mapped() const { return mem_ != nullptr; }

  // Any thread. The first violation stops servicing this guest for good.
  void Violation(const std::string &device, const std::string &message);
  void Error(const std::string &device, const std::string &message);
  // Any thread: a Solo5-ABI guest closed a device's socket (reported once per device).
  void Closed(const std::string &device, const std::string &message);
  // Whether a guest range overlaps one the broker must not write.
  bool TouchesReadOnly(uint64_t addr, uint64_t len) const;
  bool violated() const { return violated_.load(std::memory_order_relaxed); }
  // Any thread: wake the guest out of its wait (one eventfd write). False: it could not be written.
  bool KickGuest();
  // Pump thread: the guest slept waiting for a block completion (see LeaveGuestCpu).
  void KickGuestForBlock() {
    if (KickGuest()) blk_kicked_ = true;
  }

 private:
  Guest() = default;
  // epoll tags: the guest's doorbell, the stop/violation wake-up, tap i.
  static constexpr uint64_t kTagDoorbell = 1, kTagWake = 2, kTagHvtKick = 3, kTagTap = 16;
  // Solo5 ABI: device i's guest socket is kTagSock + 2i, its tap kTagSock + 2i + 1.
  static constexpr uint64_t kTagSock = 1024;
  static void *PumpMain(void *arg);
  static void CleanupHook(void *arg);
  void Pump();
  void SockPump();
  bool CreateSockDevices(GuestSpec &spec, std::string *err);
  bool MapMemory(const GuestSpec &spec, std::string *err);
  // broker_hvtring.cc: the Solo5-ABI hvt guest's net ring, and the pump loop that serves it.
  bool CreateHvtRing(GuestSpec &spec, std::string *err);
  void HvtPump();
  // One epoll_wait over the Solo5-ABI guest's fds; true when anything was ready.
  bool SockDispatch(int timeout_ms);
  bool ServiceAll(bool *kick);
  void Sleep();
  void Dispatch(int timeout_ms);
  void Report(const char *type, const std::string &device, const std::string &message);
  void WakePump();
  void JoinPump();  // idempotent
  bool Own(int *fd, const std::string &device, std::string *err);
  void LeaveGuestCpu();

  uint8_t *mem_ = nullptr;
  uint64_t mem_size_ = 0;
  uint64_t rings_size_ = 0;
  uint64_t rings_addr_ = 0;
  uint64_t spin_ns_ = 0;
  int cpu_ = -1;  // the CPU the pump shares with the guest; -1: not pinned
  int guest_stat_fd_ = -1;  // /proc/PID/stat of the guest, for LeaveGuestCpu; -1: none
  bool blk_kicked_ = false;  // pump thread only
  uint64_t cpu_look_ns_ = 0;  // pump thread only: when LeaveGuestCpu last looked
  int db_tender_ = -1, db_guest_ = -1, epoll_fd_ = -1, wake_fd_ = -1;
  std::vector<int> owned_fds_;  // duplicates of the backend fds
  std::vector<std::unique_ptr<NetDev>> nets_;
  std::vector<std::unique_ptr<BlkDev>> blks_;
  std::vector<std::unique_ptr<SockNetDev>> socks_;
  std::unique_ptr<HvtRing> hvt_;
  int hvt_kick_fd_ = -1;
  std::vector<std::pair<uint64_t, uint64_t>> read_only_;
  bool solo5_ = false;
  std::mutex violation_mu_;
  std::string first_violation_;  // "device: message", under violation_mu_
  pthread_t thread_{};
  bool started_ = false, stopped_ = false, joined_ = false;
  std::atomic<bool> stopping_{false}, violated_{false};
  std::atomic<uint64_t> sleeps_{0}, kicks_{0}, cpu_moves_{0};

  napi_env hook_env_ = nullptr;
  std::mutex events_mu_;  // guards events_ against Release while a pump reports
  bool events_open_ = false;
  Napi::ThreadSafeFunction events_;
};

}  // namespace sn

#endif  // SN_BROKER_GUEST_H
