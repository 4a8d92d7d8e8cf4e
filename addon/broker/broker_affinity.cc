// broker_affinity.cc: picks the one CPU a guest process and its pump share, inside the masks both already have.
#include <sched.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>

#include "broker_guest.h"

namespace sn {

namespace {

std::string Errno(const std::string &what, int err) { return what + " failed: " + strerrorname_np(err); }

// Guests of one tender take the allowed CPUs in turn. The first turn
// depends on the tender's pid, so that tenders started one after another
// (one CLI process per guest) do not all begin with the same CPU.
std::atomic<uint32_t> next_turn{static_cast<uint32_t>(getpid())};

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

}  // namespace sn
