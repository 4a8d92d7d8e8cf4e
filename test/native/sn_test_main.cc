// sn_test_main.cc: TEST ONLY: the test addon's module: a test's own mapping of a guest's memory, plus the fake guests.
#include <fcntl.h>
#include <napi.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "fake_guest.h"

/*
 * Nothing here is in the shipped addon. The tests play the guest: they map the
 * guest memory memfd themselves (as the helper does for a real guest) and ring
 * duplicates of the guest's doorbells, so the production module needs no hook.
 */

namespace sntest {

namespace {

const napi_type_tag kMapTag = {0x736e746573746d61ULL, 0x7067756573743031ULL};

class GuestMap : public Napi::ObjectWrap<GuestMap> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "GuestMap",
                       {InstanceMethod("read", &GuestMap::Read), InstanceMethod("write", &GuestMap::Write),
                        InstanceMethod("unmap", &GuestMap::Unmap)});
  }

  // new GuestMap({ memFd, memSize, ringsAddr, doorbellFds: [toTender, toGuest] })
  explicit GuestMap(const Napi::CallbackInfo &info) : Napi::ObjectWrap<GuestMap>(info) {
    Napi::Env env = info.Env();
    const char *usage = "Usage: mapGuest({ memFd, memSize, ringsAddr, doorbellFds: [number, number] })";
    uint64_t fd, size, rings, d0, d1;
    if (info.Length() != 1 || !info[0].IsObject()) {
      Napi::TypeError::New(env, usage).ThrowAsJavaScriptException();
      return;
    }
    Napi::Object o = info[0].As<Napi::Object>();
    Napi::Value dbs = o.Get("doorbellFds");
    if (!IsUint(o.Get("memFd"), 0, INT32_MAX, &fd) || !IsUint(o.Get("memSize"), 4096, 1ULL << 40, &size) ||
        !IsUint(o.Get("ringsAddr"), 0, 1ULL << 40, &rings) || !dbs.IsArray() ||
        !IsUint(dbs.As<Napi::Array>().Get(0u), 0, INT32_MAX, &d0) ||
        !IsUint(dbs.As<Napi::Array>().Get(1u), 0, INT32_MAX, &d1)) {
      Napi::TypeError::New(env, usage).ThrowAsJavaScriptException();
      return;
    }
    void *m = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, static_cast<int>(fd), 0);
    if (m == MAP_FAILED) {
      Napi::Error::New(env, std::string("mmap failed: ") + strerrorname_np(errno)).ThrowAsJavaScriptException();
      return;
    }
    g_.mem = static_cast<uint8_t *>(m);
    g_.size = size;
    g_.rings = rings;
    g_.db_tender = fcntl(static_cast<int>(d0), F_DUPFD_CLOEXEC, 3);
    g_.db_guest = fcntl(static_cast<int>(d1), F_DUPFD_CLOEXEC, 3);
    info.This().As<Napi::Object>().TypeTag(&kMapTag);
  }

  ~GuestMap() override { Release(); }

  GuestMem *mem() { return g_.mem ? &g_ : nullptr; }

 private:
  void Release() {
    if (g_.mem) munmap(g_.mem, g_.size);
    g_.mem = nullptr;
    for (int *fd : {&g_.db_tender, &g_.db_guest}) {
      if (*fd >= 0) close(*fd);
      *fd = -1;
    }
  }

  bool Range(const Napi::CallbackInfo &info, uint64_t len, uint64_t *addr) {
    if (!IsUint(info[0], 0, 1ULL << 50, addr) || g_.mem == nullptr || len > g_.size || *addr > g_.size - len) {
      Napi::RangeError::New(info.Env(), "range outside the mapped guest memory").ThrowAsJavaScriptException();
      return false;
    }
    return true;
  }

  Napi::Value Read(const Napi::CallbackInfo &info) {
    uint64_t addr, len;
    if (info.Length() != 2 || !IsUint(info[1], 0, 1ULL << 30, &len) || !Range(info, len, &addr))
      return info.Env().Undefined();
    return Napi::Buffer<uint8_t>::Copy(info.Env(), g_.mem + addr, len);
  }

  Napi::Value Write(const Napi::CallbackInfo &info) {
    uint64_t addr;
    if (info.Length() != 2 || !info[1].IsBuffer()) {
      Napi::TypeError::New(info.Env(), "Usage: write(addr: number, data: Buffer)").ThrowAsJavaScriptException();
      return info.Env().Undefined();
    }
    Napi::Buffer<uint8_t> data = info[1].As<Napi::Buffer<uint8_t>>();
    if (!Range(info, data.Length(), &addr)) return info.Env().Undefined();
    memcpy(g_.mem + addr, data.Data(), data.Length());
    // A test playing the guest writes an index and then reads the tender's
    // waiting flag: the protocol needs a full fence between the two.
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    return info.Env().Undefined();
  }

  Napi::Value Unmap(const Napi::CallbackInfo &info) {
    Release();
    return info.Env().Undefined();
  }

  GuestMem g_;
};

Napi::FunctionReference *g_ctor = nullptr;

Napi::Value MapGuest(const Napi::CallbackInfo &info) {
  if (info.Length() != 1) {
    Napi::TypeError::New(info.Env(), "Usage: mapGuest(opts)").ThrowAsJavaScriptException();
    return info.Env().Undefined();
  }
  return g_ctor->New({info[0]});
}

}  // namespace

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  g_ctor = new Napi::FunctionReference(Napi::Persistent(GuestMap::Define(env)));
  exports.Set("mapGuest", Napi::Function::New(env, MapGuest, "mapGuest"));
  RegisterHostile(env, exports);
  RegisterBench(env, exports);
  RegisterStream(env, exports);
  RegisterHvtRing(env, exports);
  RegisterHvtSolo5(env, exports);
  return exports;
}

GuestMem *GuestMemOf(const Napi::Value &v) {
  if (!v.IsObject() || !v.As<Napi::Object>().CheckTypeTag(&kMapTag)) return nullptr;
  GuestMap *m = GuestMap::Unwrap(v.As<Napi::Object>());
  return m ? m->mem() : nullptr;
}

}  // namespace sntest

static Napi::Object InitTestModule(Napi::Env env, Napi::Object exports) { return sntest::Init(env, exports); }

NODE_API_MODULE(sn_test, InitTestModule)
