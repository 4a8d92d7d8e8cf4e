// broker_config.cc: type and range checks of createGuestBroker's config (device list, backends, fds).
#include "broker_config.h"

#include <climits>
#include <cstring>

#include "net_switch.h"
#include "sn_abi.h"
#include "sn_solo5_hvt.h"

namespace sn {

namespace {

constexpr uint64_t kMaxSafe = (1ULL << 53) - 1;
constexpr uint64_t kFdMax = INT_MAX;

bool Fail(ConfigError *e, bool usage, const std::string &msg) {
  e->usage = usage;
  e->message = msg;
  return false;
}

bool ReadFd(const Napi::Object &o, const char *key, const std::string &where, int *out, ConfigError *e) {
  uint64_t v;
  if (!ReadUint(o, key, where, 0, kFdMax, &v, e)) return false;
  *out = static_cast<int>(v);
  return true;
}

bool ParseBlock(const Napi::Object &d, const std::string &where, BlkSpec *b, ConfigError *e) {
  uint64_t v;
  if (!ReadFd(d, "fd", where, &b->fd, e)) return false;
  if (!ReadUint(d, "blockSize", where, SN_BLOCK_SIZE_MIN, SN_BLOCK_SIZE_MAX, &v, e)) return false;
  if ((v & (v - 1)) != 0) return Fail(e, false, where + ".blockSize " + std::to_string(v) + " is not a power of two");
  b->block_size = static_cast<uint32_t>(v);
  if (!ReadUint(d, "capacity", where, 1, kMaxSafe, &b->capacity, e)) return false;
  if (b->capacity % b->block_size != 0)
    return Fail(e, false, where + ".capacity " + std::to_string(b->capacity) + " is not a multiple of blockSize");
  if (d.Has("readAheadUs") && !d.Get("readAheadUs").IsUndefined()) {
    if (!ReadUint(d, "readAheadUs", where, 0, 60000000, &v, e)) return false;
    b->readahead_us = static_cast<uint32_t>(v);
  }
  return true;
}

bool ParseNet(const Napi::Object &d, const std::string &where, NetSpec *n, ConfigError *e) {
  uint64_t v;
  if (!ReadUint(d, "mtu", where, 68, 65535 - 14, &v, e)) return false;
  n->mtu = static_cast<uint32_t>(v);
  Napi::Value mac = d.Get("mac");
  if (!mac.IsBuffer() || mac.As<Napi::Buffer<uint8_t>>().Length() != 6)
    return Fail(e, true, where + ".mac must be a Buffer of 6 bytes");
  memcpy(n->mac, mac.As<Napi::Buffer<uint8_t>>().Data(), 6);
  if (d.Has("pcapFd") && !d.Get("pcapFd").IsUndefined() && !ReadFd(d, "pcapFd", where, &n->pcap_fd, e)) return false;
  if (d.Has("guestSocketFd") && !d.Get("guestSocketFd").IsUndefined() &&
      !ReadFd(d, "guestSocketFd", where, &n->guest_sock_fd, e))
    return false;
  Napi::Value bv = d.Get("backend");
  if (!bv.IsObject())
    return Fail(e, true,
                where + ".backend must be { type: 'tap', fd }, { type: 'switch', switchId } or { type: 'stream', fd }");
  Napi::Object be = bv.As<Napi::Object>();
  Napi::Value type = be.Get("type");
  std::string t = type.IsString() ? type.As<Napi::String>().Utf8Value() : "";
  const std::string bwhere = where + ".backend";
  if (t == "tap") return ReadFd(be, "fd", bwhere, &n->tap_fd, e);
  if (t == "stream") return ReadFd(be, "fd", bwhere, &n->stream_fd, e);
  if (t != "switch") return Fail(e, true, bwhere + ".type must be 'tap', 'switch' or 'stream'");
  if (!ReadUint(be, "switchId", bwhere, 1, UINT32_MAX, &v, e)) return false;
  n->sw = FindSwitch(static_cast<uint32_t>(v));
  if (!n->sw) return Fail(e, false, bwhere + ".switchId " + std::to_string(v) + ": no such switch");
  if (n->mtu > n->sw->mtu())
    return Fail(e, false,
                where + ".mtu " + std::to_string(n->mtu) + " exceeds the MTU " + std::to_string(n->sw->mtu()) +
                    " of switch " + std::to_string(v));
  return true;
}

}  // namespace

bool ReadUint(const Napi::Object &o, const char *key, const std::string &where, uint64_t lo, uint64_t hi, uint64_t *out,
              ConfigError *e) {
  Napi::Value v = o.Get(key);
  if (!v.IsNumber()) return Fail(e, true, where + "." + key + " must be a number");
  if (!IsUint(v, lo, hi, out))
    return Fail(e, false,
                where + "." + key + " is " + v.ToString().Utf8Value() + ", not an integer from " + std::to_string(lo) +
                    " to " + std::to_string(hi));
  return true;
}

static bool Present(const Napi::Object &o, const char *key) { return o.Has(key) && !o.Get(key).IsUndefined(); }

// guestReadOnly: [{ addr, len }], ranges inside guest memory.
static bool ParseReadOnly(const Napi::Object &c, GuestSpec *spec, ConfigError *e) {
  if (!Present(c, "guestReadOnly")) return true;
  Napi::Value v = c.Get("guestReadOnly");
  if (!v.IsArray()) return Fail(e, true, "config.guestReadOnly must be an array of { addr, len }");
  Napi::Array a = v.As<Napi::Array>();
  if (a.Length() > 64) return Fail(e, false, "config.guestReadOnly has more than 64 ranges");
  for (uint32_t i = 0; i < a.Length(); i++) {
    const std::string where = "config.guestReadOnly[" + std::to_string(i) + "]";
    if (!a.Get(i).IsObject()) return Fail(e, true, where + " must be an object { addr, len }");
    Napi::Object r = a.Get(i).As<Napi::Object>();
    uint64_t addr, len;
    if (!ReadUint(r, "addr", where, 0, kMaxSafe, &addr, e) || !ReadUint(r, "len", where, 1, kMaxSafe, &len, e))
      return false;
    if ((!spec->solo5 || spec->has_hvt) && (addr > spec->mem_size || len > spec->mem_size - addr))
      return Fail(e, false, where + " is outside guest memory");
    spec->read_only.emplace_back(addr, len);
  }
  return true;
}

// hvtRing: { addr, nets: [{ index, name, fd, mtu }] }: a Solo5-ABI hvt guest's 0.11+ net ring.
static bool ParseHvtRing(const Napi::Object &c, GuestSpec *spec, ConfigError *e) {
  if (!c.Get("hvtRing").IsObject()) return Fail(e, true, "config.hvtRing must be an object { addr, nets }");
  if (!spec->solo5) return Fail(e, false, "config.hvtRing is only for a Solo5-ABI guest (solo5: true)");
  Napi::Object r = c.Get("hvtRing").As<Napi::Object>();
  spec->has_hvt = true;
  const uint64_t ring = sizeof(struct sn_solo5_hvt_ring);
  if (!ReadUint(r, "addr", "config.hvtRing", SN_SOLO5_HVT_KERNEL_MIN, kMaxSafe, &spec->hvt.addr, e)) return false;
  if (spec->hvt.addr % SN_PAGE_SIZE != 0) return Fail(e, false, "config.hvtRing.addr is not page aligned");
  if (spec->hvt.addr > spec->mem_size || ring > spec->mem_size - spec->hvt.addr)
    return Fail(e, false,
                "config.hvtRing: a ring of " + std::to_string(ring) + " bytes at " + std::to_string(spec->hvt.addr) +
                    " does not fit in memSize " + std::to_string(spec->mem_size));
  Napi::Value nv = r.Get("nets");
  if (!nv.IsArray()) return Fail(e, true, "config.hvtRing.nets must be an array of { index, name, fd, mtu }");
  Napi::Array nets = nv.As<Napi::Array>();
  if (nets.Length() == 0 || nets.Length() > SN_MFT_MAX_ENTRIES - 1)
    return Fail(e, false, "config.hvtRing.nets must have 1 to " + std::to_string(SN_MFT_MAX_ENTRIES - 1) + " devices");
  bool used[SN_MFT_MAX_ENTRIES] = {};
  for (uint32_t i = 0; i < nets.Length(); i++) {
    const std::string where = "config.hvtRing.nets[" + std::to_string(i) + "]";
    if (!nets.Get(i).IsObject()) return Fail(e, true, where + " must be an object { index, name, fd, mtu }");
    Napi::Object o = nets.Get(i).As<Napi::Object>();
    HvtRingNet n;
    uint64_t v;
    if (!ReadUint(o, "index", where, 1, SN_MFT_MAX_ENTRIES - 1, &v, e)) return false;
    n.index = static_cast<uint32_t>(v);
    if (used[n.index]) return Fail(e, false, where + ".index " + std::to_string(n.index) + " is used twice");
    used[n.index] = true;
    if (!o.Get("name").IsString()) return Fail(e, true, where + ".name must be a string");
    n.name = o.Get("name").As<Napi::String>().Utf8Value();
    if (n.name.empty() || n.name.size() >= SN_MFT_NAME_SIZE)
      return Fail(e, false, where + ".name must have 1 to " + std::to_string(SN_MFT_NAME_SIZE - 1) + " characters");
    if (!ReadFd(o, "fd", where, &n.fd, e) || !ReadUint(o, "mtu", where, 68, 65535 - 14, &v, e)) return false;
    n.mtu = static_cast<uint32_t>(v);
    spec->hvt.nets.push_back(n);
  }
  return true;
}

bool ParseBrokerConfig(const Napi::Value &cv, GuestSpec *spec, ConfigError *e) {
  if (!cv.IsObject()) return Fail(e, true, "config must be an object");
  Napi::Object c = cv.As<Napi::Object>();
  uint64_t v;
  if (Present(c, "solo5")) {
    if (!c.Get("solo5").IsBoolean()) return Fail(e, true, "config.solo5 must be a boolean");
    spec->solo5 = c.Get("solo5").As<Napi::Boolean>().Value();
  }
  // A Solo5-ABI guest's memory is mapped by the broker only to serve an hvt net ring.
  const bool hvt = Present(c, "hvtRing");
  if (!spec->solo5 || hvt) {
    if (!ReadFd(c, "memFd", "config", &spec->mem_fd, e)) return false;
    if (!ReadUint(c, "memSize", "config", SN_PAGE_SIZE, kMaxSafe, &spec->mem_size, e)) return false;
    if (spec->mem_size % SN_PAGE_SIZE != 0) return Fail(e, false, "config.memSize is not a multiple of the page size");
  }
  if (hvt && !ParseHvtRing(c, spec, e)) return false;
  if (!spec->solo5) {
    // The ring area follows the guest's image, which starts at SN_GUEST_MIN_BASE at the lowest.
    if (!ReadUint(c, "ringsAddr", "config", SN_GUEST_MIN_BASE, kMaxSafe, &spec->rings_addr, e)) return false;
    if (spec->rings_addr % SN_PAGE_SIZE != 0) return Fail(e, false, "config.ringsAddr is not page aligned");
    if (Present(c, "ringsMax") && !ReadUint(c, "ringsMax", "config", 0, kMaxSafe, &spec->rings_max, e)) return false;
  }
  if (!ParseReadOnly(c, spec, e)) return false;
  // An hvt ring's guest spins for its commits itself, so its pump stays
  // awake only briefly: long enough for the entries that follow a frame
  // (the reply, the next read, the project's bindings' read-ahead), short
  // enough not to hold a CPU a busy host needs (docs/decisions.md).
  if (spec->has_hvt) spec->spin_us = 20;
  if (c.Has("spinUs") && !c.Get("spinUs").IsUndefined()) {
    if (!ReadUint(c, "spinUs", "config", 0, 100000, &v, e)) return false;
    spec->spin_us = static_cast<uint32_t>(v);
  }
  Napi::Value dv = c.Get("devices");
  if (!dv.IsArray()) return Fail(e, true, "config.devices must be an array");
  Napi::Array devs = dv.As<Napi::Array>();
  if (devs.Length() > SN_MFT_MAX_ENTRIES - 1)
    return Fail(e, false, "config.devices has more than " + std::to_string(SN_MFT_MAX_ENTRIES - 1) + " devices");
  bool used[SN_MFT_MAX_ENTRIES] = {};
  uint32_t max_index = 0;
  for (uint32_t i = 0; i < devs.Length(); i++) {
    std::string where = "config.devices[" + std::to_string(i) + "]";
    Napi::Value d = devs.Get(i);
    if (!d.IsObject()) return Fail(e, true, where + " must be an object");
    Napi::Object o = d.As<Napi::Object>();
    if (!ReadUint(o, "index", where, 1, SN_MFT_MAX_ENTRIES - 1, &v, e)) return false;
    uint32_t index = static_cast<uint32_t>(v);
    if (used[index]) return Fail(e, false, where + ".index " + std::to_string(index) + " is used twice");
    used[index] = true;
    if (index > max_index) max_index = index;
    Napi::Value nv = o.Get("name");
    if (!nv.IsString()) return Fail(e, true, where + ".name must be a string");
    std::string name = nv.As<Napi::String>().Utf8Value();
    if (name.empty() || name.size() >= SN_MFT_NAME_SIZE)
      return Fail(e, false, where + ".name must have 1 to " + std::to_string(SN_MFT_NAME_SIZE - 1) + " characters");
    where = "device '" + name + "'";
    Napi::Value kv = o.Get("kind");
    std::string kind = kv.IsString() ? kv.As<Napi::String>().Utf8Value() : "";
    if (kind == "block") {
      BlkSpec b;
      b.name = name;
      b.index = index;
      if (spec->solo5)
        return Fail(e, false, where + ": a Solo5-ABI guest reads its block image itself (no brokered block device)");
      if (!ParseBlock(o, where, &b, e)) return false;
      spec->blks.push_back(b);
    } else if (kind == "net") {
      NetSpec n;
      n.name = name;
      n.index = index;
      if (!ParseNet(o, where, &n, e)) return false;
      if (spec->solo5 && n.guest_sock_fd < 0)
        return Fail(e, true, where + ".guestSocketFd must be a number (solo5: true)");
      if (!spec->solo5 && n.guest_sock_fd >= 0)
        return Fail(e, false, where + ".guestSocketFd is only for a Solo5-ABI guest (solo5: true)");
      spec->nets.push_back(n);
    } else {
      return Fail(e, true, where + ".kind must be 'block' or 'net'");
    }
  }
  spec->entries = max_index + 1;
  if (c.Has("entries") && !c.Get("entries").IsUndefined()) {
    if (!ReadUint(c, "entries", "config", max_index + 1, SN_MFT_MAX_ENTRIES, &v, e)) return false;
    spec->entries = static_cast<uint32_t>(v);
  }
  return true;
}

}  // namespace sn
