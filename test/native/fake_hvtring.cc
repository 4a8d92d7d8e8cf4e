// fake_hvtring.cc: TEST ONLY: a hostile Solo5 hvt guest flooding the 0.11 net ring with garbage entries it rewrites as the pump reads.
#include <napi.h>

#include <initializer_list>

#include "broker_shm.h"
#include "fake_guest.h"
#include "sn_solo5_hvt.h"

namespace sntest {

using sn::MonotonicNs;
using sn::ShmAcquire;
using sn::ShmFullFence;
using sn::ShmRelease;

namespace {

struct Rng {
  uint64_t s;
  uint64_t Next() {
    s ^= s << 13;
    s ^= s >> 7;
    s ^= s << 17;
    return s;
  }
  uint64_t Pick(std::initializer_list<uint64_t> v) { return v.begin()[Next() % v.size()]; }
};

struct Bounds {
  uint64_t visible;  // the ring's address: guest memory ends here
  uint64_t buf;  // a writable scratch area
  uint64_t ro;  // a range the guest may not write (a read there is EINVAL)
  bool wild;  // also values past memory and racing indices: a violation is expected
};

// An entry whose every field is garbage the pump must survive. Unless wild,
// every buffer stays inside guest memory, whichever version of data and of
// len the pump happens to read (it may see one from before a rewrite and the
// other from after), so no violation may follow.
void Garbage(Rng &r, volatile struct sn_solo5_hvt_ring_entry *e, const Bounds &b) {
  const uint32_t len = static_cast<uint32_t>(
      r.Pick({0, 13, 14, 60, 1514, 1515, 9000, 65535, r.Next() & 0xffff, b.wild ? 0xffffffffULL : 42}));
  const uint64_t top = b.wild ? b.visible - len : b.visible - 0x10000;
  const uint64_t data = r.Pick({b.buf, b.buf + (r.Next() & 0xffff), b.ro, b.ro - 7, 0, top, b.wild ? r.Next() : b.buf,
                                b.wild ? b.visible : b.buf});
  e->operation = static_cast<uint32_t>(r.Pick({1, 1, 2, 2, 0, 3, r.Next()}));
  e->handle = static_cast<uint32_t>(r.Pick({1, 1, 1, 0, 2, 63, 64, 0xffffffffULL, r.Next()}));
  e->data = data;
  e->len = len;
  e->id = static_cast<uint32_t>(r.Next());
}

bool Violated(const Napi::Object &handle) {
  Napi::Value c = handle.Get("counters").As<Napi::Function>().Call(handle, {});
  return c.As<Napi::Object>().Get("pump.violated").ToNumber().DoubleValue() != 0;
}

void KickIfAsked(const GuestMem &g, volatile struct sn_solo5_hvt_ring *ring) {
  ShmFullFence();
  if (ring->needs_kick != 0) Kick(g.db_tender);
}

// hvtRingHostile(map, handle, entries, seed, { ring, buf, ro, wild })
Napi::Value HvtRingHostile(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  uint64_t count, seed;
  Bounds b{};
  GuestMem *g = info.Length() == 5 ? GuestMemOf(info[0]) : nullptr;
  bool ok = g && info[1].IsObject() && IsUint(info[2], 1, 1ULL << 40, &count) &&
            IsUint(info[3], 1, (1ULL << 53) - 1, &seed) && info[4].IsObject();
  if (ok) {
    Napi::Object o = info[4].As<Napi::Object>();
    ok = IsUint(o.Get("ring"), 0, g->size - sizeof(struct sn_solo5_hvt_ring), &b.visible) &&
         IsUint(o.Get("buf"), 0, b.visible, &b.buf) && IsUint(o.Get("ro"), 8, b.visible, &b.ro) &&
         o.Get("wild").IsBoolean();
    if (ok) b.wild = o.Get("wild").As<Napi::Boolean>().Value();
  }
  if (!ok) {
    Napi::TypeError::New(env, "Usage: hvtRingHostile(map, handle, entries, seed, { ring, buf, ro, wild: boolean })")
        .ThrowAsJavaScriptException();
    return env.Undefined();
  }
  Napi::Object handle = info[1].As<Napi::Object>();
  auto *ring = reinterpret_cast<volatile struct sn_solo5_hvt_ring *>(g->mem + b.visible);
  constexpr uint32_t kMask = SN_SOLO5_HVT_RING_SLOTS - 1;
  Rng r{seed * 0x9e3779b97f4a7c15ULL | 1};
  uint64_t posted = 0, rounds = 0;
  bool violated = false;
  uint32_t tail = ring->ent_tail;
  const uint64_t t0 = MonotonicNs();
  while (posted < count && MonotonicNs() - t0 < 60000000000ULL) {
    if ((++rounds & 63) == 0 && (violated = Violated(handle))) break;
    // As a guest does: at most 1023 outstanding entries.
    uint32_t room = 1023 - (tail - ShmAcquire(&ring->ent_head));
    if (room > 1023) room = 0;
    if (room > count - posted) room = static_cast<uint32_t>(count - posted);
    for (uint32_t k = 0; k < room; k++) Garbage(r, &ring->ent[(tail + k) & kMask], b);
    tail += room;
    // A wild guest sometimes publishes an index of its own choosing.
    ShmRelease(&ring->ent_tail, b.wild && r.Next() % 16 == 0 ? static_cast<uint32_t>(r.Next()) : tail);
    // Rewrite what was just published: the pump may be reading it now.
    for (uint32_t k = 0; k < room; k++) Garbage(r, &ring->ent[(tail - room + k) & kMask], b);
    posted += room;
    ShmRelease(&ring->com_head, ShmAcquire(&ring->com_tail));
    KickIfAsked(*g, ring);
  }
  Napi::Object out = Napi::Object::New(env);
  out.Set("posted", static_cast<double>(posted));
  out.Set("seconds", static_cast<double>(MonotonicNs() - t0) / 1e9);
  out.Set("violated", violated || Violated(handle));
  return out;
}

}  // namespace

void RegisterHvtRing(Napi::Env env, Napi::Object exports) {
  exports.Set("hvtRingHostile", Napi::Function::New(env, HvtRingHostile, "hvtRingHostile"));
}

}  // namespace sntest
