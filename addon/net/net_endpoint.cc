// net_endpoint.cc: batching of frames for TypeScript switch endpoints through a ThreadSafeFunction.
#include "net_endpoint.h"

#include <cstring>

namespace sn {

Endpoint::~Endpoint() { Close(); }

void Endpoint::Attach(napi_env env, const std::shared_ptr<Switch> &sw, const uint8_t mac[6]) {
  sw_ = sw;
  sw_raw_ = sw.get();
  port_ = sw->AddPort(this, mac);
  if (napi_add_env_cleanup_hook(env, CleanupHook, this) == napi_ok) hook_env_ = env;
}

void Endpoint::CleanupHook(void *arg) { static_cast<Endpoint *>(arg)->Detach(); }

void Endpoint::Detach() {
  if (hook_env_ != nullptr) napi_remove_env_cleanup_hook(hook_env_, CleanupHook, this);
  hook_env_ = nullptr;
  if (auto sw = sw_.lock()) sw->RemovePort(port_);
  sw_.reset();
  Close();
}

uint32_t Endpoint::Deliver(const Frame *frames, uint32_t n, uint32_t src_port) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!open_) {
    dropped_.fetch_add(n, std::memory_order_relaxed);
    return 0;
  }
  const uint32_t ports = sw_raw_ ? sw_raw_->port_count() : 0;
  const uint32_t others = ports > 2 ? ports - 2 : 0;
  uint32_t queued = 0;
  for (uint32_t i = 0; i < n; i++) {
    const uint32_t len = frames[i].len;
    const uint32_t space = static_cast<uint32_t>(kMaxPendingFrames - lens_.size());
    if (bytes_.size() + len > kMaxPendingBytes || !fair_.Admit(src_port, space, others)) {
      dropped_.fetch_add(1, std::memory_order_relaxed);
      continue;
    }
    fair_.Took(taken_++, src_port);
    size_t at = bytes_.size();
    bytes_.resize(at + len);
    memcpy(bytes_.data() + at, const_cast<const uint8_t *>(frames[i].data), len);
    lens_.push_back(len);
    queued++;
  }
  frames_.fetch_add(queued, std::memory_order_relaxed);
  if (queued > 0 && !scheduled_) {
    auto *self = new std::shared_ptr<Endpoint>(shared_from_this());
    if (tsfn_.NonBlockingCall(self, CallJs) == napi_ok)
      scheduled_ = true;
    else
      delete self;
  }
  return queued;
}

void Endpoint::CallJs(Napi::Env env, Napi::Function fn, std::shared_ptr<Endpoint> *self) {
  Endpoint *ep = self->get();
  std::vector<uint8_t> bytes;
  std::vector<uint32_t> lens;
  bool open;
  {
    std::lock_guard<std::mutex> lock(ep->mu_);
    open = ep->open_;
    bytes.swap(ep->bytes_);
    lens.swap(ep->lens_);
    ep->fair_.Freed(ep->freed_, ep->taken_);
    ep->freed_ = ep->taken_;
    ep->scheduled_ = false;
  }
  delete self;
  if (env == nullptr || fn == nullptr || lens.empty() || !open) return;
  Napi::Array arr = Napi::Array::New(env, lens.size());
  size_t at = 0;
  for (uint32_t i = 0; i < lens.size(); i++) {
    arr.Set(i, Napi::Buffer<uint8_t>::Copy(env, bytes.data() + at, lens[i]));
    at += lens[i];
  }
  fn.Call({arr});
}

void Endpoint::Close() {
  std::lock_guard<std::mutex> lock(mu_);
  if (!open_) return;
  open_ = false;
  tsfn_.Release();
}

}  // namespace sn
