// broker_affinity.cc: where a guest and its pump run: one shared CPU for net guests (ShareOneCpu), apart for block I/O (LeaveGuestCpu).
#include <sched.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "broker_guest.h"
#include "broker_shm.h"

namespace sn {

namespace {

std::string Errno(const std::string &what, int err) { return what + " failed: " + strerrorname_np(err); }

// Guests of one tender take the allowed CPUs in turn. The first turn
// depends on the tender's pid, so that tenders started one after another
// (one CLI process per guest) do not all begin with the same CPU.
std::atomic<uint32_t> next_turn{static_cast<uint32_t>(getpid())};

// How often, at most, the pump asks where the guest runs: a look is a pread
// of /proc/PID/stat (a few microseconds), taken only after a block completion
// found the guest asleep.
constexpr uint64_t kCpuLookNs = 1000000;

// The CPU the process last ran on: field 39 of /proc/PID/stat, counted from
// the last ')' (the command name before it may hold spaces). -1: unknown.
int CpuOfProcess(int stat_fd) {
  char buf[1024];
  ssize_t n = pread(stat_fd, buf, sizeof buf - 1, 0);
  if (n <= 0) return -1;
  buf[n] = '\0';
  const char *p = strrchr(buf, ')');
  if (p == nullptr) return -1;
  // After ')': " state ppid ..."; state is field 3, the processor field 39.
  for (int field = 2; field < 39; field++) {
    p = strchr(p + 1, ' ');
    if (p == nullptr) return -1;
  }
  char *end = nullptr;
  const long cpu = strtol(p + 1, &end, 10);
  if (end == p + 1 || cpu < 0 || cpu >= CPU_SETSIZE) return -1;
  return static_cast<int>(cpu);
}

}  // namespace

int ShareOneCpu(pid_t pid, cpu_set_t *chosen, std::string *why) {
  cpu_set_t ours, theirs, both;
  CPU_ZERO(&ours);
  CPU_ZERO(&theirs);
  // The calling thread's mask is the one the pump inherits; the user's
  // taskset or cgroup limits are already in both masks, and we only narrow.
  if (sched_getaffinity(0, sizeof ours, &ours) < 0) {
    *why = Errno("sched_getaffinity of the tender", errno);
    return -1;
  }
  if (sched_getaffinity(pid, sizeof theirs, &theirs) < 0) {
    *why = Errno("sched_getaffinity of guest process " + std::to_string(pid), errno);
    return -1;
  }
  CPU_AND(&both, &ours, &theirs);
  const int count = CPU_COUNT(&both);
  if (count == 0) {
    *why = "the tender and the guest may not run on a common CPU";
    return -1;
  }
  int skip = static_cast<int>(next_turn.fetch_add(1, std::memory_order_relaxed) % static_cast<uint32_t>(count));
  int cpu = -1;
  for (int c = 0; c < CPU_SETSIZE; c++) {
    if (!CPU_ISSET(c, &both)) continue;
    if (skip-- == 0) {
      cpu = c;
      break;
    }
  }
  CPU_ZERO(chosen);
  CPU_SET(cpu, chosen);
  if (count > 1 && sched_setaffinity(pid, sizeof *chosen, chosen) < 0) {
    *why = Errno("sched_setaffinity of guest process " + std::to_string(pid), errno);
    return -1;
  }
  return cpu;
}

// A block request is answered in microseconds by a pump spinning on another
// CPU; on the guest's own CPU the guest spins its whole window first, then
// sleeps, and every request costs a sleep and a wake-up. Both processes
// start wherever the kernel put them at spawn (often the same CPU when the
// tender's thread was busy on the other one), and the kernel's balancing
// takes many requests to part them. So when a completion found the guest
// asleep and the pump is on the guest's CPU, the pump moves itself: it
// narrows its own mask to the other allowed CPUs, which migrates it at once,
// and widens it back, so the kernel stays free to place it later.
void Guest::LeaveGuestCpu() {
  const uint64_t now = MonotonicNs();
  if (guest_stat_fd_ < 0 || now - cpu_look_ns_ < kCpuLookNs) return;
  cpu_look_ns_ = now;
  const int here = sched_getcpu();
  if (here < 0 || CpuOfProcess(guest_stat_fd_) != here) return;
  cpu_set_t allowed, others;
  CPU_ZERO(&allowed);
  if (sched_getaffinity(0, sizeof allowed, &allowed) < 0) return;
  others = allowed;
  CPU_CLR(here, &others);
  if (CPU_COUNT(&others) == 0 || sched_setaffinity(0, sizeof others, &others) < 0) return;
  sched_setaffinity(0, sizeof allowed, &allowed);
  cpu_moves_.fetch_add(1, std::memory_order_relaxed);
}

}  // namespace sn
