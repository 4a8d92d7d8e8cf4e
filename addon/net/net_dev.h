// net_dev.h: one brokered net device: its tx/rx queues in guest memory and its tap or switch backend.
#ifndef SN_NET_DEV_H
#define SN_NET_DEV_H

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "broker_guest.h"
#include "broker_layout.h"
#include "broker_shm.h"
#include "net_fair.h"
#include "net_port.h"
#include "net_switch.h"
#include "sn_abi.h"

namespace sn {

class NetDev : public NetPort {
 public:
  NetDev(Guest *guest, const NetSpec &spec, const DevPlacement &place, uint8_t *dev_block);
  ~NetDev() override;

  // Writes the pcap header and makes the tap non-blocking.
  bool Init(std::string *err) { return InitPort(-1, err); }

  // Pump thread only. Poll does the work that is ready and returns how
  // much; *kick is set when the guest asked to be woken.
  uint32_t Poll(bool *kick);
  // Tells the guest whether it shares its CPU with this pump (no_spin in docs/abi.md).
  void SetNoSpin(bool on) { ShmWrite32(&shm_->no_spin, on ? 1 : 0); }
  void SetEpoll(int epoll_fd, uint64_t tag) {
    epoll_fd_ = epoll_fd;
    epoll_tag_ = tag;
  }
  // epoll said so, or the spinning pump wants a look (a read that may find nothing).
  void OnTapReadable() { tap_readable_ = true; }
  // The sleep protocol: set the tender's waiting flags, full fence (by the
  // caller), HasWork re-reads the guest's indices, DisarmWait clears them.
  // After the pump stopped: whether the guest's indices are still valid.
  bool Audit(std::string *why);
  void ArmWait();
  bool HasWork();
  void DisarmWait();

  // Any thread: a switch delivering frames into this guest's rx queue.
  uint32_t Deliver(const Frame *frames, uint32_t n, uint32_t src_port) override;

 private:
  uint32_t ServiceTx(bool *kick);
  uint32_t TapReceive(bool *kick);
  bool RxSpaceLocked(uint32_t *space);  // rx_mu_ held; false on a violation
  // rx_mu_ held: the buffer of the next rx slot, and handing that slot over
  // once the frame is in it (published by the caller's release of rx.prod).
  uint8_t *RxBufferLocked();
  void FillRxSlotLocked(uint32_t len);
  // After publishing n frames: counts them; true when the guest waits for rx.
  bool RxPublished(uint32_t n);
  void SetTapInterest(bool on);
  // Free rx slots: how many frames the stream backend may read now.
  uint32_t StreamRoom();

  uint32_t stride_ = 0;
  uint32_t slots_ = 0, mask_ = 0;  // per queue, from the tender's placement (a power of two)
  volatile struct sn_net_dev *shm_;
  volatile struct sn_net_slot *tx_slots_, *rx_slots_;
  uint8_t *tx_buf_, *rx_buf_;

  uint32_t tx_cons_ = 0;  // the tender's own copy; never read back from guest memory
  uint32_t tx_prod_seen_ = 0;  // the guest's indices as last seen: they may only move forward
  uint32_t rx_cons_seen_ = 0;  // under rx_mu_
  std::mutex rx_mu_;      // several pumps (and the JS thread) may deliver into rx
  uint32_t rx_prod_ = 0;  // under rx_mu_; the tender's own copy
  FairShare fair_;        // under rx_mu_: which switch port filled each rx slot

  int epoll_fd_ = -1;
  uint64_t epoll_tag_ = 0;
  bool tap_readable_ = true;
  bool tap_interest_ = true;
  bool tap_dead_ = false;
  bool rx_wait_armed_ = false;
};

}  // namespace sn

#endif  // SN_NET_DEV_H
