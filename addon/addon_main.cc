// addon_main.cc: the N-API module: guest memory memfds and ABI layout constants.
#include <napi.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <sys/mman.h>
#include <unistd.h>

#include "broker_exports.h"
#include "sn_abi.h"
#include "oci/oci_console.h"
#include "spawn/spawn.h"

namespace sn {
void RegisterSwitchdExports(Napi::Env env, Napi::Object exports);
void RegisterVirtioExports(Napi::Env env, Napi::Object exports);
}  // namespace sn

namespace {

std::string ErrnoMessage(const char *call, int err) { return std::string(call) + " failed: " + strerrorname_np(err); }

// memfdCreate(name: string, sizeBytes: number): number (fd, close-on-exec)
Napi::Value MemfdCreate(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  if (info.Length() != 2 || !info[0].IsString() || !info[1].IsNumber()) {
    Napi::TypeError::New(env, "Usage: memfdCreate(name: string, sizeBytes: number)").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  std::string name = info[0].As<Napi::String>().Utf8Value();
  double size = info[1].As<Napi::Number>().DoubleValue();
  if (!(size >= 0) || size > 1099511627776.0) {
    Napi::RangeError::New(env, "memfdCreate: size out of range").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  int fd = memfd_create(name.c_str(), MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (fd < 0) {
    Napi::Error::New(env, ErrnoMessage("memfd_create", errno)).ThrowAsJavaScriptException();
    return env.Undefined();
  }
  if (ftruncate(fd, static_cast<off_t>(size)) < 0) {
    int err = errno;
    close(fd);
    Napi::Error::New(env, ErrnoMessage("ftruncate", err)).ThrowAsJavaScriptException();
    return env.Undefined();
  }
  return Napi::Number::New(env, fd);
}

// memfdDataRanges(fd: number, size: number): [start, end][]: the extents of [0, size) that hold data
// (SEEK_DATA/SEEK_HOLE), so that a core of guest memory skips the pages the guest never touched.
Napi::Value MemfdDataRanges(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  if (info.Length() != 2 || !info[0].IsNumber() || !info[1].IsNumber()) {
    Napi::TypeError::New(env, "Usage: memfdDataRanges(fd: number, size: number)").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  int fd = info[0].As<Napi::Number>().Int32Value();
  auto size = static_cast<off_t>(info[1].As<Napi::Number>().Int64Value());
  Napi::Array out = Napi::Array::New(env);
  uint32_t n = 0;
  for (off_t pos = 0; pos < size;) {
    off_t start = lseek(fd, pos, SEEK_DATA);
    if (start < 0 && errno == ENXIO) break;  // no data from pos to the end
    if (start < 0) {
      Napi::Error::New(env, ErrnoMessage("lseek(SEEK_DATA)", errno)).ThrowAsJavaScriptException();
      return env.Undefined();
    }
    if (start >= size) break;
    off_t end = lseek(fd, start, SEEK_HOLE);
    if (end < 0) {
      Napi::Error::New(env, ErrnoMessage("lseek(SEEK_HOLE)", errno)).ThrowAsJavaScriptException();
      return env.Undefined();
    }
    if (end > size) end = size;
    Napi::Array r = Napi::Array::New(env, 2);
    r.Set(0u, Napi::Number::New(env, static_cast<double>(start)));
    r.Set(1u, Napi::Number::New(env, static_cast<double>(end)));
    out.Set(n++, r);
    pos = end;
  }
  return out;
}

#define SN_EXPORT_OFFSET(obj, type, field) \
  obj.Set(#type "." #field, Napi::Number::New(env, offsetof(struct type, field)))
#define SN_EXPORT_SIZE(obj, type) obj.Set(#type, Napi::Number::New(env, sizeof(struct type)))

// The layout of every ABI struct as the C compiler sees it, for test/abi.test.ts.
Napi::Object Layout(Napi::Env env) {
  Napi::Object offsets = Napi::Object::New(env);
  SN_EXPORT_OFFSET(offsets, sn_bootinfo, magic);
  SN_EXPORT_OFFSET(offsets, sn_bootinfo, abi_version);
  SN_EXPORT_OFFSET(offsets, sn_bootinfo, target);
  SN_EXPORT_OFFSET(offsets, sn_bootinfo, mem_size);
  SN_EXPORT_OFFSET(offsets, sn_bootinfo, kernel_end);
  SN_EXPORT_OFFSET(offsets, sn_bootinfo, cmdline);
  SN_EXPORT_OFFSET(offsets, sn_bootinfo, mft);
  SN_EXPORT_OFFSET(offsets, sn_bootinfo, mft_size);
  SN_EXPORT_OFFSET(offsets, sn_bootinfo, rings);
  SN_EXPORT_OFFSET(offsets, sn_bootinfo, rings_size);
  SN_EXPORT_OFFSET(offsets, sn_bootinfo, random);
  SN_EXPORT_OFFSET(offsets, sn_bootinfo, tsc_freq);
  SN_EXPORT_OFFSET(offsets, sn_bootinfo, wait_fd);
  SN_EXPORT_OFFSET(offsets, sn_bootinfo, console_fd);
  SN_EXPORT_OFFSET(offsets, sn_bootinfo, tsc_base);
  SN_EXPORT_OFFSET(offsets, sn_bootinfo, mono_base_ns);
  SN_EXPORT_OFFSET(offsets, sn_bootinfo, wall_base_ns);
  SN_EXPORT_OFFSET(offsets, sn_plan, magic);
  SN_EXPORT_OFFSET(offsets, sn_plan, abi_version);
  SN_EXPORT_OFFSET(offsets, sn_plan, target);
  SN_EXPORT_OFFSET(offsets, sn_plan, mem_size);
  SN_EXPORT_OFFSET(offsets, sn_plan, entry);
  SN_EXPORT_OFFSET(offsets, sn_plan, stack_top);
  SN_EXPORT_OFFSET(offsets, sn_plan, bootinfo);
  SN_EXPORT_OFFSET(offsets, sn_plan, nregions);
  SN_EXPORT_OFFSET(offsets, sn_plan, bpf_len);
  SN_EXPORT_OFFSET(offsets, sn_plan, ndoorbells);
  SN_EXPORT_OFFSET(offsets, sn_plan, flags);
  SN_EXPORT_OFFSET(offsets, sn_plan, regions);
  SN_EXPORT_OFFSET(offsets, sn_plan_region, addr);
  SN_EXPORT_OFFSET(offsets, sn_plan_region, len);
  SN_EXPORT_OFFSET(offsets, sn_plan_region, prot);
  SN_EXPORT_OFFSET(offsets, sn_mft_entry, name);
  SN_EXPORT_OFFSET(offsets, sn_mft_entry, type);
  SN_EXPORT_OFFSET(offsets, sn_mft_entry, u);
  SN_EXPORT_OFFSET(offsets, sn_mft_entry, b);
  SN_EXPORT_OFFSET(offsets, sn_mft_entry, attached);
  SN_EXPORT_OFFSET(offsets, sn_mft_block_basic, capacity);
  SN_EXPORT_OFFSET(offsets, sn_mft_block_basic, block_size);
  SN_EXPORT_OFFSET(offsets, sn_mft_net_basic, mac);
  SN_EXPORT_OFFSET(offsets, sn_mft_net_basic, mtu);

  Napi::Object sizes = Napi::Object::New(env);
  SN_EXPORT_SIZE(sizes, sn_bootinfo);
  SN_EXPORT_SIZE(sizes, sn_plan);
  SN_EXPORT_SIZE(sizes, sn_plan_region);
  SN_EXPORT_SIZE(sizes, sn_mft_entry);
  SN_EXPORT_SIZE(sizes, sn_mft);
  SN_EXPORT_SIZE(sizes, sn_abi1_desc);

  Napi::Object constants = Napi::Object::New(env);
  constants.Set("SN_ABI_VERSION", Napi::Number::New(env, SN_ABI_VERSION));
  constants.Set("SN_BOOTINFO_ADDR", Napi::Number::New(env, SN_BOOTINFO_ADDR));
  constants.Set("SN_CMDLINE_ADDR", Napi::Number::New(env, SN_CMDLINE_ADDR));
  constants.Set("SN_CMDLINE_MAX", Napi::Number::New(env, SN_CMDLINE_MAX));
  constants.Set("SN_MFT_ADDR", Napi::Number::New(env, SN_MFT_ADDR));
  constants.Set("SN_GUEST_MIN_BASE", Napi::Number::New(env, SN_GUEST_MIN_BASE));
  constants.Set("SN_MEM_UNMAPPED_END", Napi::Number::New(env, SN_MEM_UNMAPPED_END));
  constants.Set("SN_PLAN_MAX_REGIONS", Napi::Number::New(env, SN_PLAN_MAX_REGIONS));
  constants.Set("SN_PLAN_MAX_BPF", Napi::Number::New(env, SN_PLAN_MAX_BPF));
  constants.Set("SN_FD_CONSOLE", Napi::Number::New(env, SN_FD_CONSOLE));
  constants.Set("SN_FD_MEM", Napi::Number::New(env, SN_FD_MEM));
  constants.Set("SN_FD_PLAN", Napi::Number::New(env, SN_FD_PLAN));
  constants.Set("SN_FD_DOORBELL0", Napi::Number::New(env, SN_FD_DOORBELL0));
  constants.Set("SN_FD_WAIT", Napi::Number::New(env, SN_FD_WAIT));
  constants.Set("SN_FD_VCPU", Napi::Number::New(env, SN_FD_VCPU));
  constants.Set("SN_BLOCK_SIZE_MIN", Napi::Number::New(env, SN_BLOCK_SIZE_MIN));
  constants.Set("SN_BLOCK_SIZE_MAX", Napi::Number::New(env, SN_BLOCK_SIZE_MAX));

  Napi::Object layout = Napi::Object::New(env);
  layout.Set("offsets", offsets);
  layout.Set("sizes", sizes);
  layout.Set("constants", constants);
  return layout;
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("memfdCreate", Napi::Function::New(env, MemfdCreate, "memfdCreate"));
  exports.Set("memfdDataRanges", Napi::Function::New(env, MemfdDataRanges, "memfdDataRanges"));
  exports.Set("layout", Layout(env));
  sn::RegisterBrokerExports(env, exports);
  sn::RegisterNetExports(env, exports);
  sn::RegisterSpawnExports(env, exports);
  sn::RegisterSwitchdExports(env, exports);
  sn::RegisterOciExports(env, exports);
  sn::RegisterVirtioExports(env, exports);
  return exports;
}

}  // namespace

NODE_API_MODULE(solo5_node, Init)
