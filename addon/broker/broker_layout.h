// broker_layout.h: placement of device blocks, slot arrays and frame buffers inside the ring area.
#ifndef SN_BROKER_LAYOUT_H
#define SN_BROKER_LAYOUT_H

#include <cstdint>
#include <vector>

namespace sn {

// One device's place in the ring area. The tender keeps this copy and never
// reads a layout field back from guest memory.
struct DevPlacement {
  uint32_t index = 0;  // manifest entry, 1..63
  bool net = false;
  uint32_t mtu = 0;         // net
  uint32_t block_size = 0;  // block
  uint64_t capacity = 0;    // block
  uint32_t slots = 0;       // per queue, a power of two; chosen by FitDevices
  // Computed by PlaceDevices. dev_off is from the start of the ring area;
  // every other offset is from the device block, as the guest sees it.
  uint64_t dev_off = 0;
  uint32_t stride = 0;
  uint64_t tx_slots = 0, rx_slots = 0, tx_buf = 0, rx_buf = 0;
  uint64_t req = 0, cpl = 0;
};

// Frame buffer stride for an MTU: room for the largest frame plus one byte,
// so that a tap read that fills the whole buffer is known to be oversized.
uint32_t NetStride(uint32_t mtu);

// The fewest slots per queue the tender gives a device when memory is short:
// below this a net device could not hold one burst of a busy TCP window.
constexpr uint32_t kNetSlotsMin = 16;
constexpr uint32_t kBlkSlotsMin = 8;

// Assigns offsets in index order for the slot counts already set; returns
// the page-aligned size of the area.
uint64_t PlaceDevices(std::vector<DevPlacement> &devs);

// Chooses slot counts: every queue starts at the ABI maximum (SN_NET_SLOTS,
// SN_BLK_SLOTS) and the device whose halving saves the most bytes is halved
// until the area fits in max_bytes or every device is at its minimum. Sets
// *size to the area's size; false when even the minimum exceeds max_bytes.
bool FitDevices(std::vector<DevPlacement> &devs, uint64_t max_bytes, uint64_t *size);

// Writes the header, device blocks and zeroed slot arrays. Frame buffers are
// left as they are: the guest reads only what the tender wrote into them.
void InitRingsArea(uint8_t *area, uint32_t entries, const std::vector<DevPlacement> &devs);

}  // namespace sn

#endif  // SN_BROKER_LAYOUT_H
