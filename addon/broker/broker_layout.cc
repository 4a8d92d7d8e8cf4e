// broker_layout.cc: computes and writes the ring area layout of docs/abi.md "Rings".
#include "broker_layout.h"

#include <algorithm>
#include <cstring>

#include "sn_abi.h"

namespace sn {

namespace {

uint64_t AlignUp(uint64_t v, uint64_t a) { return (v + a - 1) & ~(a - 1); }

}  // namespace

uint32_t NetStride(uint32_t mtu) { return static_cast<uint32_t>(AlignUp(mtu + 14 + 1, SN_CACHE_LINE)); }

uint64_t PlaceDevices(std::vector<DevPlacement> &devs) {
  std::sort(devs.begin(), devs.end(), [](const DevPlacement &a, const DevPlacement &b) { return a.index < b.index; });
  uint64_t cur = AlignUp(sizeof(struct sn_rings_hdr), SN_CACHE_LINE);
  for (DevPlacement &d : devs) {
    d.dev_off = AlignUp(cur, SN_CACHE_LINE);
    if (d.net) {
      static_assert(sizeof(struct sn_net_dev) % SN_CACHE_LINE == 0, "net dev block is line aligned");
      const uint64_t slots_bytes = d.slots * sizeof(struct sn_net_slot);
      d.stride = NetStride(d.mtu);
      d.tx_slots = sizeof(struct sn_net_dev);
      d.rx_slots = AlignUp(d.tx_slots + slots_bytes, SN_CACHE_LINE);
      // Buffers start on a page so that frame copies stay within few pages.
      uint64_t abs_tx_buf = AlignUp(d.dev_off + d.rx_slots + slots_bytes, SN_PAGE_SIZE);
      d.tx_buf = abs_tx_buf - d.dev_off;
      d.rx_buf = d.tx_buf + static_cast<uint64_t>(d.slots) * d.stride;
      cur = d.dev_off + d.rx_buf + static_cast<uint64_t>(d.slots) * d.stride;
    } else {
      d.req = sizeof(struct sn_blk_dev);
      d.cpl = AlignUp(d.req + d.slots * sizeof(struct sn_blk_req), SN_CACHE_LINE);
      cur = d.dev_off + d.cpl + d.slots * sizeof(struct sn_blk_cpl);
    }
  }
  return AlignUp(cur, SN_PAGE_SIZE);
}

bool FitDevices(std::vector<DevPlacement> &devs, uint64_t max_bytes, uint64_t *size) {
  for (DevPlacement &d : devs) d.slots = d.net ? SN_NET_SLOTS : SN_BLK_SLOTS;
  *size = PlaceDevices(devs);
  while (*size > max_bytes) {
    // Halving a queue frees its slot array (and buffers) twice over, once
    // per direction; pick the device where that is the most bytes.
    DevPlacement *best = nullptr;
    uint64_t best_saving = 0;
    for (DevPlacement &d : devs) {
      if (d.slots <= (d.net ? kNetSlotsMin : kBlkSlotsMin)) continue;
      const uint64_t per_slot =
          d.net ? 2 * (d.stride + sizeof(struct sn_net_slot)) : sizeof(struct sn_blk_req) + sizeof(struct sn_blk_cpl);
      const uint64_t saving = per_slot * (d.slots / 2);
      if (saving > best_saving) {
        best_saving = saving;
        best = &d;
      }
    }
    if (best == nullptr) return false;
    best->slots /= 2;
    *size = PlaceDevices(devs);
  }
  return true;
}

void InitRingsArea(uint8_t *area, uint32_t entries, const std::vector<DevPlacement> &devs) {
  struct sn_rings_hdr hdr;
  memset(&hdr, 0, sizeof hdr);
  hdr.magic = SN_RINGS_MAGIC;
  hdr.version = SN_ABI_VERSION;
  hdr.entries = entries;
  for (const DevPlacement &d : devs) hdr.dev_off[d.index] = d.dev_off;
  memset(area, 0, AlignUp(sizeof hdr, SN_CACHE_LINE));
  memcpy(area, &hdr, sizeof hdr);

  for (const DevPlacement &d : devs) {
    uint8_t *dev = area + d.dev_off;
    if (d.net) {
      struct sn_net_dev nd;
      memset(&nd, 0, sizeof nd);
      nd.slots = d.slots;
      nd.buf_stride = d.stride;
      nd.mtu = d.mtu;
      nd.tx_slots_off = d.tx_slots;
      nd.rx_slots_off = d.rx_slots;
      nd.tx_buf_off = d.tx_buf;
      nd.rx_buf_off = d.rx_buf;
      memcpy(dev, &nd, sizeof nd);
      memset(dev + d.tx_slots, 0, d.slots * sizeof(struct sn_net_slot));
      memset(dev + d.rx_slots, 0, d.slots * sizeof(struct sn_net_slot));
    } else {
      struct sn_blk_dev bd;
      memset(&bd, 0, sizeof bd);
      bd.slots = d.slots;
      bd.block_size = d.block_size;
      bd.capacity = d.capacity;
      bd.req_off = d.req;
      bd.cpl_off = d.cpl;
      memcpy(dev, &bd, sizeof bd);
      memset(dev + d.req, 0, d.slots * sizeof(struct sn_blk_req));
      memset(dev + d.cpl, 0, d.slots * sizeof(struct sn_blk_cpl));
    }
  }
}

}  // namespace sn
