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

// Assigns offsets in index order; returns the page-aligned size of the area.
uint64_t PlaceDevices(std::vector<DevPlacement> &devs);

// Writes the header, device blocks and zeroed slot arrays. Frame buffers are
// left as they are: the guest reads only what the tender wrote into them.
void InitRingsArea(uint8_t *area, uint32_t entries, const std::vector<DevPlacement> &devs);

}  // namespace sn

#endif  // SN_BROKER_LAYOUT_H
