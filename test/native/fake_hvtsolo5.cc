// fake_hvtsolo5.cc: TEST ONLY: hvtSolo5Io(): one port I/O exit through the helper's Solo5 hvt hypercall code, without KVM.
#include <napi.h>

#include "fake_guest.h"
#include "hvt_solo5_decode.h"
#include "napi_uint.h"

namespace sntest {

namespace {

using sn::IsUint;

// hvtSolo5Io(mem, { port, direction, size, count, value, dataOffset? }, [{ index, type, fd, capacity }])
//   -> { next: 'continue' | 'exit' | 'fatal', status, why }
Napi::Value HvtSolo5Io(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  const char *usage =
      "Usage: hvtSolo5Io(mem: Buffer, { port, direction, size, count, value, dataOffset? }, "
      "[{ index, type, fd, capacity }])";
  if (info.Length() != 3 || !info[0].IsBuffer() || !info[1].IsObject() || !info[2].IsArray()) {
    Napi::TypeError::New(env, usage).ThrowAsJavaScriptException();
    return env.Null();
  }
  auto mem = info[0].As<Napi::Buffer<uint8_t>>();
  Napi::Object o = info[1].As<Napi::Object>();
  uint64_t port, dir, size, count, value, off = 0;
  if (!IsUint(o.Get("port"), 0, 0xffff, &port) || !IsUint(o.Get("direction"), 0, 1, &dir) ||
      !IsUint(o.Get("size"), 1, 8, &size) || !IsUint(o.Get("count"), 0, UINT32_MAX, &count) ||
      !IsUint(o.Get("value"), 0, UINT32_MAX, &value) ||
      (!o.Get("dataOffset").IsUndefined() && !IsUint(o.Get("dataOffset"), 1, UINT32_MAX, &off))) {
    Napi::TypeError::New(env, usage).ThrowAsJavaScriptException();
    return env.Null();
  }
  sn_test_hvt_io io = {static_cast<uint32_t>(port),
                       static_cast<uint8_t>(dir),
                       static_cast<uint8_t>(size),
                       static_cast<uint32_t>(count),
                       off,
                       static_cast<uint32_t>(value)};
  Napi::Array list = info[2].As<Napi::Array>();
  sn_test_hvt_dev devs[64];
  if (list.Length() > 63) {
    Napi::TypeError::New(env, usage).ThrowAsJavaScriptException();
    return env.Null();
  }
  for (uint32_t i = 0; i < list.Length(); i++) {
    Napi::Value e = list.Get(i);
    uint64_t index, type, fd, capacity;
    if (!e.IsObject() || !IsUint(e.As<Napi::Object>().Get("index"), 1, 63, &index) ||
        !IsUint(e.As<Napi::Object>().Get("type"), 1, 2, &type) ||
        !IsUint(e.As<Napi::Object>().Get("fd"), 0, INT32_MAX, &fd) ||
        !IsUint(e.As<Napi::Object>().Get("capacity"), 0, 1ULL << 53, &capacity)) {
      Napi::TypeError::New(env, usage).ThrowAsJavaScriptException();
      return env.Null();
    }
    devs[i] = {static_cast<uint32_t>(index), static_cast<uint32_t>(type), static_cast<int>(fd), capacity};
  }
  int status = 0;
  char why[256];
  int next = sn_test_hvt_solo5_io(mem.Data(), mem.Length(), &io, devs, list.Length(), &status, why, sizeof why);
  if (next < 0) {
    Napi::TypeError::New(env, usage).ThrowAsJavaScriptException();
    return env.Null();
  }
  Napi::Object r = Napi::Object::New(env);
  r.Set("next", next == 0 ? "continue" : next == 1 ? "exit" : "fatal");
  r.Set("status", status);
  r.Set("why", why);
  return r;
}

}  // namespace

void RegisterHvtSolo5(Napi::Env env, Napi::Object exports) {
  exports.Set("hvtSolo5Io", Napi::Function::New(env, HvtSolo5Io, "hvtSolo5Io"));
}

}  // namespace sntest
