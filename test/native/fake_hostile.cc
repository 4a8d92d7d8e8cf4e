// fake_hostile.cc: TEST ONLY: a hostile guest that floods every queue with garbage descriptors and rewrites them.
#include <napi.h>

#include <initializer_list>
#include <vector>

#include "broker_shm.h"
#include "fake_guest.h"

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

// Garbage that is mostly just outside what the tender accepts, sometimes
// plainly random, and now and then valid (the tender must not care which).
void GarbageReq(Rng &r, volatile struct sn_blk_req *q, uint64_t mem, uint64_t bs, uint64_t cap, uint64_t scratch) {
  const uint64_t ones = ~0ULL;
  q->op = static_cast<uint32_t>(r.Pick({r.Next(), 0, 1, 2, 3, 0xffffffffULL}));
  q->offset = r.Pick({r.Next(), 0, bs, cap, cap - bs, ones - bs + 1, (r.Next() % (cap / bs)) * bs, 1});
  q->len = r.Pick({r.Next(), 0, bs, bs + 1, cap, cap + bs, ones - bs + 1, (1 + r.Next() % 8) * bs});
  q->addr = r.Pick({r.Next(), 0, 0xffff, SN_MEM_UNMAPPED_END - bs, mem - bs / 2, mem, ones - 255, scratch,
                    scratch + (r.Next() % 64) * bs});
  q->id = r.Next();
}

// The tender stops serving a guest that broke the protocol; its handle's
// counters say so (read through JavaScript: this module sees no tender state).
bool Violated(const Napi::Object &handle) {
  Napi::Value fn = handle.Get("counters");
  if (!fn.IsFunction()) return false;
  Napi::Value c = fn.As<Napi::Function>().Call(handle, {});
  return c.IsObject() && c.As<Napi::Object>().Get("pump.violated").ToNumber().DoubleValue() != 0;
}

void PostBlk(Rng &r, const GuestMem &g, volatile struct sn_blk_dev *b, uint64_t scratch, uint64_t *posted) {
  const uint32_t slots = b->slots;
  auto *reqs = reinterpret_cast<volatile struct sn_blk_req *>(reinterpret_cast<volatile uint8_t *>(b) + b->req_off);
  uint32_t prod = b->req.prod;
  uint32_t room = slots - (prod - ShmAcquire(&b->req.cons));
  if (room > slots) room = 0;
  for (uint32_t k = 0; k < room; k++)
    GarbageReq(r, &reqs[(prod + k) & (slots - 1)], g.size, b->block_size, b->capacity, scratch);
  ShmRelease(&b->req.prod, prod + room);
  // Rewrite what was just published: the tender may be reading it now.
  for (uint32_t k = 0; k < room; k++)
    GarbageReq(r, &reqs[(prod + k) & (slots - 1)], g.size, b->block_size, b->capacity, scratch);
  *posted += room;
  ShmRelease(&b->cpl.cons, ShmAcquire(&b->cpl.prod));
  ShmFullFence();
  if (b->req.cons_waiting || b->cpl.prod_waiting) Kick(g.db_tender);
}

void PostNet(Rng &r, const GuestMem &g, volatile struct sn_net_dev *n, uint64_t *posted) {
  auto *base = reinterpret_cast<volatile uint8_t *>(n);
  auto *slots = reinterpret_cast<volatile struct sn_net_slot *>(base + n->tx_slots_off);
  volatile uint8_t *bufs = base + n->tx_buf_off;
  const uint32_t count = n->slots, mtu = n->mtu, stride = n->buf_stride;
  uint32_t prod = n->tx.prod;
  uint32_t room = count - (prod - ShmAcquire(&n->tx.cons));
  if (room > count) room = 0;
  for (uint32_t k = 0; k < room; k++) {
    uint32_t i = (prod + k) & (count - 1);
    slots[i].len = static_cast<uint32_t>(r.Pick({r.Next(), 0, 13, 14, 60, mtu + 14, mtu + 15, 0xffffffffULL}));
    uint64_t mac = r.Next();
    for (int j = 0; j < 12; j++) bufs[static_cast<uint64_t>(i) * stride + j] = static_cast<uint8_t>(mac >> (j * 5));
  }
  ShmRelease(&n->tx.prod, prod + room);
  for (uint32_t k = 0; k < room; k++) slots[(prod + k) & (count - 1)].len = static_cast<uint32_t>(r.Next());
  *posted += room;
  ShmRelease(&n->rx.cons, ShmAcquire(&n->rx.prod));
  ShmFullFence();
  if (n->tx.cons_waiting || n->rx.prod_waiting) Kick(g.db_tender);
}

// hostile(map, handle, descriptors, seed, scratchAddr)
Napi::Value Hostile(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  uint64_t count, seed, scratch;
  GuestMem *g = info.Length() == 5 ? GuestMemOf(info[0]) : nullptr;
  if (!g || !info[1].IsObject() || !IsUint(info[2], 1, 1ULL << 40, &count) ||
      !IsUint(info[3], 1, (1ULL << 53) - 1, &seed) || !IsUint(info[4], SN_MEM_UNMAPPED_END, 1ULL << 50, &scratch)) {
    Napi::TypeError::New(
        env,
        "Usage: hostile(map: GuestMap, handle: BrokerHandle, descriptors: number, seed: number, scratchAddr: number)")
        .ThrowAsJavaScriptException();
    return env.Undefined();
  }
  Napi::Object handle = info[1].As<Napi::Object>();
  Rng r{seed * 0x9e3779b97f4a7c15ULL | 1};
  std::vector<volatile struct sn_blk_dev *> blks;
  std::vector<volatile struct sn_net_dev *> nets;
  auto *hdr = reinterpret_cast<struct sn_rings_hdr *>(g->mem + g->rings);
  for (uint32_t i = 1; i < hdr->entries && i < SN_MFT_MAX_ENTRIES; i++) {
    uint8_t *d = DeviceBlock(*g, i);
    if (!d) continue;
    // Where a net device block has buf_stride and mtu, a block device has
    // block_size and the low half of its capacity, a non-zero multiple of
    // block_size or zero: a stride of at least mtu + 14 only fits a net device.
    auto *nd = reinterpret_cast<struct sn_net_dev *>(d);
    if (nd->mtu != 0 && nd->buf_stride % SN_CACHE_LINE == 0 && nd->buf_stride >= nd->mtu + 14)
      nets.push_back(reinterpret_cast<volatile struct sn_net_dev *>(d));
    else
      blks.push_back(reinterpret_cast<volatile struct sn_blk_dev *>(d));
  }
  uint64_t posted = 0, rounds = 0;
  bool violated = false;
  const uint64_t t0 = MonotonicNs();
  while (posted < count && (!blks.empty() || !nets.empty()) && MonotonicNs() - t0 < 60000000000ULL) {
    if ((++rounds & 63) == 0 && (violated = Violated(handle))) break;
    for (auto *b : blks) PostBlk(r, *g, b, scratch, &posted);
    for (auto *n : nets) PostNet(r, *g, n, &posted);
  }
  Napi::Object out = Napi::Object::New(env);
  out.Set("posted", static_cast<double>(posted));
  out.Set("seconds", static_cast<double>(MonotonicNs() - t0) / 1e9);
  out.Set("violated", violated || Violated(handle));
  return out;
}

}  // namespace

void RegisterHostile(Napi::Env env, Napi::Object exports) {
  exports.Set("hostile", Napi::Function::New(env, Hostile, "hostile"));
}

}  // namespace sntest
