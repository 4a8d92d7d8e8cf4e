// net_endpoint.h: a TypeScript switch port: frames are copied out and handed to JS in batches.
#ifndef SN_NET_ENDPOINT_H
#define SN_NET_ENDPOINT_H

#include <napi.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

#include "net_fair.h"
#include "net_switch.h"

namespace sn {

class Endpoint : public SwitchPort, public std::enable_shared_from_this<Endpoint> {
 public:
  explicit Endpoint(Napi::ThreadSafeFunction tsfn) : tsfn_(tsfn) {}
  ~Endpoint() override;

  // Joins the switch; registers an environment cleanup hook (after the
  // TSFN's, so it runs first) that leaves the switch and releases the TSFN.
  void Attach(napi_env env, const std::shared_ptr<Switch> &sw, const uint8_t mac[6]);
  // Leaves the switch (waiting for deliveries in flight) and closes. JS thread.
  void Detach();
  uint32_t port() const { return port_; }

  // Any thread (pumps and the JS thread): copies the frames into the
  // pending batch and schedules one JS call for the whole batch.
  uint32_t Deliver(const Frame *frames, uint32_t n, uint32_t src_port) override;
  // JS thread, after the port left the switch: no more calls are made.
  void Close();

  uint64_t frames() const { return frames_.load(std::memory_order_relaxed); }
  uint64_t dropped() const { return dropped_.load(std::memory_order_relaxed); }

 private:
  static void CallJs(Napi::Env env, Napi::Function fn, std::shared_ptr<Endpoint> *self);
  static void CleanupHook(void *arg);

  // Bounds what a JS side that does not keep up can make the tender hold.
  static constexpr size_t kMaxPendingFrames = 16384;
  static constexpr size_t kMaxPendingBytes = 32u << 20;

  std::weak_ptr<Switch> sw_;
  const Switch *sw_raw_ = nullptr;  // alive while it delivers to us (it holds its ports lock)
  uint32_t port_ = 0;
  napi_env hook_env_ = nullptr;
  std::mutex mu_;
  bool open_ = true;
  bool scheduled_ = false;
  std::vector<uint8_t> bytes_;
  std::vector<uint32_t> lens_;
  // Shares of the pending batch among the switch ports that filled it; the
  // batch is consumed whole when JavaScript takes it.
  FairShare fair_{kMaxPendingFrames};
  uint32_t taken_ = 0, freed_ = 0;
  Napi::ThreadSafeFunction tsfn_;
  std::atomic<uint64_t> frames_{0}, dropped_{0};
};

}  // namespace sn

#endif  // SN_NET_ENDPOINT_H
