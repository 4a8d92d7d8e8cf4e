// net_switch.cc: MAC learning, flooding and batched delivery of the userspace switch.
#include "net_switch.h"

#include <algorithm>

#include "broker_shm.h"

namespace sn {

namespace {

uint64_t MacKey(const uint8_t *m) {
  return (uint64_t(m[0]) << 40) | (uint64_t(m[1]) << 32) | (uint64_t(m[2]) << 24) | (uint64_t(m[3]) << 16) |
         (uint64_t(m[4]) << 8) | uint64_t(m[5]);
}

constexpr uint32_t kChunk = 64;

// Never destroyed (see g_endpoints in net_napi.cc): pumps may still hold
// switches while the process exits.
std::mutex &g_registry_mu = *new std::mutex();
auto &g_switches = *new std::unordered_map<uint32_t, std::shared_ptr<Switch>>();
uint32_t g_next_switch = 1;

}  // namespace

uint32_t Switch::AddPort(SwitchPort *port, const uint8_t *mac) {
  std::unique_lock<std::shared_mutex> plock(ports_mu_);
  uint32_t id = next_port_++;
  ports_[id] = port;
  port_list_.emplace_back(id, port);
  port_count_.store(static_cast<uint32_t>(ports_.size()), std::memory_order_relaxed);
  if (mac == nullptr) return id;
  std::lock_guard<std::mutex> tlock(table_mu_);
  auto it = table_.find(MacKey(mac));
  if (it == table_.end() || !it->second.fixed) table_[MacKey(mac)] = MacEntry{id, true, 0};
  return id;
}

void Switch::RemovePort(uint32_t port_id) {
  std::unique_lock<std::shared_mutex> plock(ports_mu_);
  ports_.erase(port_id);
  port_list_.erase(std::remove_if(port_list_.begin(), port_list_.end(),
                                  [port_id](const std::pair<uint32_t, SwitchPort *> &p) { return p.first == port_id; }),
                   port_list_.end());
  port_count_.store(static_cast<uint32_t>(ports_.size()), std::memory_order_relaxed);
  std::lock_guard<std::mutex> tlock(table_mu_);
  for (auto it = table_.begin(); it != table_.end();) {
    if (it->second.port == port_id)
      it = table_.erase(it);
    else
      ++it;
  }
}

bool Switch::HasPort(uint32_t port_id) {
  std::shared_lock<std::shared_mutex> plock(ports_mu_);
  return ports_.count(port_id) != 0;
}

void Switch::Learn(uint64_t mac, uint32_t port, uint64_t now) {
  auto it = table_.find(mac);
  if (it != table_.end()) {
    if (!it->second.fixed) {
      it->second.port = port;
      it->second.seen_ns = now;
    }
    return;
  }
  // A sender cycling through random source addresses must not grow the
  // table without bound: forget every learned entry and start over.
  if (table_.size() >= kMaxMacs) {
    for (auto e = table_.begin(); e != table_.end();) {
      if (e->second.fixed)
        ++e;
      else
        e = table_.erase(e);
    }
    if (table_.size() >= kMaxMacs) return;
  }
  table_.emplace(mac, MacEntry{port, false, now});
}

uint32_t Switch::Resolve(uint32_t src_port, const Frame &f, uint64_t now) {
  if (f.len < 14 || f.len > mtu_ + 14) {
    dropped_mtu_.fetch_add(1, std::memory_order_relaxed);
    return kDrop;
  }
  uint8_t hdr[12];  // destination and source MAC, read once
  ShmCopyOut(hdr, f.data, sizeof hdr);
  if (!(hdr[6] & 1)) Learn(MacKey(hdr + 6), src_port, now);
  if (hdr[0] & 1) return kFlood;
  auto it = table_.find(MacKey(hdr));
  if (it == table_.end()) return kFlood;
  const uint64_t aging = aging_ns_.load(std::memory_order_relaxed);
  if (aging != 0 && !it->second.fixed && now - it->second.seen_ns > aging) {
    table_.erase(it);
    aged_.fetch_add(1, std::memory_order_relaxed);
    return kFlood;
  }
  if (it->second.port == src_port) {
    dropped_filtered_.fetch_add(1, std::memory_order_relaxed);
    return kDrop;
  }
  return it->second.port;
}

uint32_t Switch::DeliverRun(uint32_t dest, uint32_t src_port, const Frame *frames, uint32_t n) {
  if (dest == kDrop) return 0;
  if (dest != kFlood) {
    auto it = ports_.find(dest);
    if (it == ports_.end()) return 0;
    uint32_t got = it->second->Deliver(frames, n, src_port);
    forwarded_.fetch_add(got, std::memory_order_relaxed);
    return got;
  }
  // The whole run goes to each port in one delivery. A port takes a prefix
  // of what it is offered or drops by share, so which frames got through
  // somewhere is not known exactly: the best port's count stands for it.
  uint32_t queued = 0;
  for (const auto &p : port_list_) {
    if (p.first == src_port) continue;
    queued = std::max(queued, p.second->Deliver(frames, n, src_port));
  }
  flooded_.fetch_add(n, std::memory_order_relaxed);
  return queued;
}

uint32_t Switch::Forward(uint32_t src_port, const Frame *frames, uint32_t n) {
  std::shared_lock<std::shared_mutex> plock(ports_mu_);
  if (ports_.count(src_port) == 0) return 0;
  uint32_t queued = 0;
  uint32_t dest[kChunk];
  const uint64_t now = aging_ns_.load(std::memory_order_relaxed) != 0 ? MonotonicNs() : 0;
  for (uint32_t base = 0; base < n; base += kChunk) {
    uint32_t cnt = std::min(kChunk, n - base);
    {
      std::lock_guard<std::mutex> tlock(table_mu_);
      for (uint32_t i = 0; i < cnt; i++) dest[i] = Resolve(src_port, frames[base + i], now);
    }
    // Consecutive frames for the same port go in one delivery (one lock
    // and one index publication on the receiving queue).
    uint32_t i = 0;
    while (i < cnt) {
      uint32_t j = i + 1;
      while (j < cnt && dest[j] == dest[i]) j++;
      queued += DeliverRun(dest[i], src_port, frames + base + i, j - i);
      i = j;
    }
  }
  return queued;
}

SwitchStats Switch::Stats() {
  SwitchStats s;
  s.forwarded = forwarded_.load(std::memory_order_relaxed);
  s.flooded = flooded_.load(std::memory_order_relaxed);
  s.dropped_mtu = dropped_mtu_.load(std::memory_order_relaxed);
  s.dropped_filtered = dropped_filtered_.load(std::memory_order_relaxed);
  s.aged = aged_.load(std::memory_order_relaxed);
  std::shared_lock<std::shared_mutex> plock(ports_mu_);
  s.ports = ports_.size();
  std::lock_guard<std::mutex> tlock(table_mu_);
  s.macs = table_.size();
  return s;
}

std::shared_ptr<Switch> CreateSwitch(uint32_t mtu) {
  std::lock_guard<std::mutex> lock(g_registry_mu);
  uint32_t id = g_next_switch++;
  auto sw = std::make_shared<Switch>(id, mtu);
  g_switches[id] = sw;
  return sw;
}

std::shared_ptr<Switch> FindSwitch(uint32_t id) {
  std::lock_guard<std::mutex> lock(g_registry_mu);
  auto it = g_switches.find(id);
  return it == g_switches.end() ? nullptr : it->second;
}

bool DestroySwitch(uint32_t id) {
  std::lock_guard<std::mutex> lock(g_registry_mu);
  return g_switches.erase(id) != 0;
}

}  // namespace sn
