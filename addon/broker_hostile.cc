// broker_hostile.cc: TEST SUPPORT ONLY: a hostile guest that floods every queue with garbage descriptors.
#include <napi.h>

#include <cstring>

#include "broker_config.h"
#include "broker_exports.h"
#include "broker_fakeguest.h"
#include "broker_shm.h"

namespace sn {

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

Napi::Value Hostile(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  uint64_t count, seed, scratch;
  std::shared_ptr<Guest> g = GuestOfHandle(info[0]);
  if (info.Length() != 4 || !g || !g->mapped() || !IsUint(info[1], 1, 1ULL << 40, &count) ||
      !IsUint(info[2], 1, (1ULL << 53) - 1, &seed) || !IsUint(info[3], SN_MEM_UNMAPPED_END, 1ULL << 50, &scratch)) {
    Napi::TypeError::New(env, "Usage: debugHostile(h: BrokerHandle, descriptors: number, seed: number, scratchAddr: number)")
        .ThrowAsJavaScriptException();
    return env.Undefined();
  }
  Rng r{seed * 0x9e3779b97f4a7c15ULL | 1};
  std::vector<volatile struct sn_blk_dev *> blks;
  std::vector<volatile struct sn_net_dev *> nets;
  auto *hdr = reinterpret_cast<struct sn_rings_hdr *>(g->mem() + g->rings_addr());
  for (uint32_t i = 1; i < hdr->entries && i < SN_MFT_MAX_ENTRIES; i++) {
    uint8_t *d = FakeGuestDevice(g.get(), i);
    if (!d) continue;
    // A net device block has buf_stride where a block device has block_size;
    // the fake guest tells them apart by the slot count.
    if (reinterpret_cast<struct sn_net_dev *>(d)->slots == SN_NET_SLOTS)
      nets.push_back(reinterpret_cast<volatile struct sn_net_dev *>(d));
    else
      blks.push_back(reinterpret_cast<volatile struct sn_blk_dev *>(d));
  }
  uint64_t posted = 0;
  const uint64_t mem = g->mem_size(), t0 = MonotonicNs();
  while (posted < count && !g->violated() && MonotonicNs() - t0 < 60000000000ULL) {
    for (auto *b : blks) {
      auto *reqs = reinterpret_cast<volatile struct sn_blk_req *>(reinterpret_cast<volatile uint8_t *>(b) + b->req_off);
      uint32_t prod = b->req.prod;
      uint32_t room = SN_BLK_SLOTS - (prod - ShmAcquire(&b->req.cons));
      for (uint32_t k = 0; k < room && k < SN_BLK_SLOTS; k++)
        GarbageReq(r, &reqs[(prod + k) & (SN_BLK_SLOTS - 1)], mem, b->block_size, b->capacity, scratch);
      if (room > SN_BLK_SLOTS) room = 0;
      ShmRelease(&b->req.prod, prod + room);
      // Rewrite what was just published: the tender may be reading it now.
      for (uint32_t k = 0; k < room; k++)
        GarbageReq(r, &reqs[(prod + k) & (SN_BLK_SLOTS - 1)], mem, b->block_size, b->capacity, scratch);
      posted += room;
      ShmRelease(&b->cpl.cons, ShmAcquire(&b->cpl.prod));
      ShmFullFence();
      if (b->req.cons_waiting || b->cpl.prod_waiting) FakeGuestKick(g->doorbell_to_tender());
    }
    for (auto *n : nets) {
      auto *base = reinterpret_cast<volatile uint8_t *>(n);
      auto *slots = reinterpret_cast<volatile struct sn_net_slot *>(base + n->tx_slots_off);
      volatile uint8_t *bufs = base + n->tx_buf_off;
      uint32_t prod = n->tx.prod, mtu = n->mtu, stride = n->buf_stride;
      uint32_t room = SN_NET_SLOTS - (prod - ShmAcquire(&n->tx.cons));
      if (room > SN_NET_SLOTS) room = 0;
      for (uint32_t k = 0; k < room; k++) {
        uint32_t i = (prod + k) & (SN_NET_SLOTS - 1);
        slots[i].len = static_cast<uint32_t>(r.Pick({r.Next(), 0, 13, 14, 60, mtu + 14, mtu + 15, 0xffffffffULL}));
        uint64_t mac = r.Next();
        for (int j = 0; j < 12; j++) bufs[static_cast<uint64_t>(i) * stride + j] = static_cast<uint8_t>(mac >> (j * 5));
      }
      ShmRelease(&n->tx.prod, prod + room);
      for (uint32_t k = 0; k < room; k++) slots[(prod + k) & (SN_NET_SLOTS - 1)].len = static_cast<uint32_t>(r.Next());
      posted += room;
      ShmRelease(&n->rx.cons, ShmAcquire(&n->rx.prod));
      ShmFullFence();
      if (n->tx.cons_waiting || n->rx.prod_waiting) FakeGuestKick(g->doorbell_to_tender());
    }
    if (blks.empty() && nets.empty()) break;
  }
  Napi::Object out = Napi::Object::New(env);
  out.Set("posted", static_cast<double>(posted));
  out.Set("seconds", static_cast<double>(MonotonicNs() - t0) / 1e9);
  out.Set("violated", g->violated());
  return out;
}

}  // namespace

void RegisterHostileExport(Napi::Env env, Napi::Object exports) {
  exports.Set("debugHostile", Napi::Function::New(env, Hostile, "debugHostile"));
}

}  // namespace sn
