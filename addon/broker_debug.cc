// broker_debug.cc: TEST SUPPORT ONLY: read/write a guest's memory through its broker's mapping.
#include <napi.h>

#include <cstring>

#include "broker_config.h"
#include "broker_exports.h"
#include "broker_guest.h"

namespace sn {

namespace {

// The tests act as the guest: they need to see and change guest memory,
// which Node cannot map. Nothing in the tender uses these.
bool Range(const Napi::CallbackInfo &info, const char *usage, std::shared_ptr<Guest> *g, uint64_t *addr,
           uint64_t len) {
  Napi::Env env = info.Env();
  *g = GuestOfHandle(info[0]);
  if (!*g || !IsUint(info[1], 0, (1ULL << 53) - 1, addr)) {
    Napi::TypeError::New(env, std::string("Usage: ") + usage).ThrowAsJavaScriptException();
    return false;
  }
  if (!(*g)->mapped()) {
    Napi::Error::New(env, "the broker was stopped").ThrowAsJavaScriptException();
    return false;
  }
  if (len > (*g)->mem_size() || *addr > (*g)->mem_size() - len) {
    Napi::RangeError::New(env, "range outside guest memory").ThrowAsJavaScriptException();
    return false;
  }
  return true;
}

Napi::Value MapRead(const Napi::CallbackInfo &info) {
  const char *usage = "debugMapRead(handle: BrokerHandle, addr: number, len: number): Buffer";
  uint64_t len = 0;
  if (info.Length() != 3 || !IsUint(info[2], 0, 1ULL << 30, &len)) {
    Napi::TypeError::New(info.Env(), std::string("Usage: ") + usage).ThrowAsJavaScriptException();
    return info.Env().Undefined();
  }
  std::shared_ptr<Guest> g;
  uint64_t addr;
  if (!Range(info, usage, &g, &addr, len)) return info.Env().Undefined();
  return Napi::Buffer<uint8_t>::Copy(info.Env(), g->mem() + addr, len);
}

Napi::Value MapWrite(const Napi::CallbackInfo &info) {
  const char *usage = "debugMapWrite(handle: BrokerHandle, addr: number, data: Buffer): void";
  if (info.Length() != 3 || !info[2].IsBuffer()) {
    Napi::TypeError::New(info.Env(), std::string("Usage: ") + usage).ThrowAsJavaScriptException();
    return info.Env().Undefined();
  }
  Napi::Buffer<uint8_t> data = info[2].As<Napi::Buffer<uint8_t>>();
  std::shared_ptr<Guest> g;
  uint64_t addr;
  if (!Range(info, usage, &g, &addr, data.Length())) return info.Env().Undefined();
  memcpy(g->mem() + addr, data.Data(), data.Length());
  // A test playing the guest writes an index and then reads the tender's
  // waiting flag: the protocol needs a full fence between the two.
  __atomic_thread_fence(__ATOMIC_SEQ_CST);
  return info.Env().Undefined();
}

}  // namespace

void RegisterDebugExports(Napi::Env env, Napi::Object exports) {
  exports.Set("debugMapRead", Napi::Function::New(env, MapRead, "debugMapRead"));
  exports.Set("debugMapWrite", Napi::Function::New(env, MapWrite, "debugMapWrite"));
  RegisterDebugBenchExports(env, exports);
}

}  // namespace sn
