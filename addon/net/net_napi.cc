// net_napi.cc: N-API exports for the userspace switch (endpoints, send, counters) and tap opening.
#include <napi.h>

#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <map>
#include <utility>

#include "broker_config.h"
#include "broker_exports.h"
#include "net_endpoint.h"
#include "net_stream.h"
#include "net_switch.h"
#include "net_switch_napi.h"
#include "net_tap.h"

namespace sn {

namespace {

// TypeScript endpoints by (switch, port). Only the JS thread touches this map;
// pumps reach an endpoint through the switch, which RemovePort fences. Never
// destroyed: at exit the environment's cleanup hooks have detached them all,
// and a static destructor running after that could only do harm.
auto &g_endpoints = *new std::map<std::pair<uint32_t, uint32_t>, std::shared_ptr<Endpoint>>();

Napi::Value Usage(Napi::Env env, const char *msg) {
  Napi::TypeError::New(env, std::string("Usage: ") + msg).ThrowAsJavaScriptException();
  return env.Undefined();
}

Napi::Value Fail(Napi::Env env, const std::string &msg) {
  Napi::Error::New(env, msg).ThrowAsJavaScriptException();
  return env.Undefined();
}

bool SwitchArg(const Napi::CallbackInfo &info, const char *fn, std::shared_ptr<Switch> *sw) {
  uint64_t id;
  if (!IsUint(info[0], 1, UINT32_MAX, &id)) return false;
  *sw = FindSwitch(static_cast<uint32_t>(id));
  if (!*sw) Fail(info.Env(), std::string(fn) + ": no switch with id " + std::to_string(id));
  return true;
}

Napi::Value CreateSwitchJs(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  const char *usage = "createSwitch(opts: { mtu: number })";
  if (info.Length() != 1 || !info[0].IsObject()) return Usage(env, usage);
  uint64_t mtu;
  ConfigError e;
  if (!ReadUint(info[0].As<Napi::Object>(), "mtu", "createSwitch: opts", 68, 9000, &mtu, &e)) {
    if (e.usage) return Usage(env, usage);
    Napi::RangeError::New(env, e.message).ThrowAsJavaScriptException();
    return env.Undefined();
  }
  return Napi::Number::New(env, CreateSwitch(static_cast<uint32_t>(mtu))->id());
}

Napi::Value AddEndpoint(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  const char *usage =
      "switchAddEndpoint(switchId: number, mac: Buffer /* 6 bytes */, onFrames: (frames: Buffer[]) => void)";
  std::shared_ptr<Switch> sw;
  if (info.Length() != 3 || !info[1].IsBuffer() || info[1].As<Napi::Buffer<uint8_t>>().Length() != 6 ||
      !info[2].IsFunction() || !SwitchArg(info, "switchAddEndpoint", &sw))
    return Usage(env, usage);
  if (!sw) return env.Undefined();
  auto tsfn = Napi::ThreadSafeFunction::New(env, info[2].As<Napi::Function>(), "sn-switch-endpoint", 0, 1);
  tsfn.Unref(env);
  auto ep = std::make_shared<Endpoint>(tsfn);
  ep->Attach(env, sw, info[1].As<Napi::Buffer<uint8_t>>().Data());
  g_endpoints[{sw->id(), ep->port()}] = ep;
  return Napi::Number::New(env, ep->port());
}

Napi::Value RemoveEndpoint(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  std::shared_ptr<Switch> sw;
  uint64_t port;
  if (info.Length() != 2 || !IsUint(info[1], 1, UINT32_MAX, &port) || !SwitchArg(info, "switchRemoveEndpoint", &sw))
    return Usage(env, "switchRemoveEndpoint(switchId: number, endpointId: number)");
  if (!sw) return env.Undefined();
  auto it = g_endpoints.find({sw->id(), static_cast<uint32_t>(port)});
  if (it == g_endpoints.end())
    return Fail(env,
                "switchRemoveEndpoint: no endpoint " + std::to_string(port) + " on switch " + std::to_string(sw->id()));
  it->second->Detach();
  g_endpoints.erase(it);
  return env.Undefined();
}

Napi::Value Send(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  std::shared_ptr<Switch> sw;
  uint64_t port;
  if (info.Length() != 3 || !IsUint(info[1], 1, UINT32_MAX, &port) || !info[2].IsTypedArray() ||
      info[2].As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array || !SwitchArg(info, "switchSend", &sw))
    return Usage(env, "switchSend(switchId: number, endpointId: number, frame: Buffer): boolean");
  if (!sw) return env.Undefined();
  if (g_endpoints.count({sw->id(), static_cast<uint32_t>(port)}) == 0)
    return Fail(env, "switchSend: no endpoint " + std::to_string(port) + " on switch " + std::to_string(sw->id()));
  Napi::Uint8Array buf = info[2].As<Napi::Uint8Array>();
  Frame f{buf.Data(), static_cast<uint32_t>(buf.ByteLength() > UINT32_MAX ? UINT32_MAX : buf.ByteLength())};
  return Napi::Boolean::New(env, sw->Forward(static_cast<uint32_t>(port), &f, 1) == 1);
}

Napi::Value Destroy(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  std::shared_ptr<Switch> sw;
  if (info.Length() != 1 || !SwitchArg(info, "destroySwitch", &sw))
    return Usage(env, "destroySwitch(switchId: number)");
  if (!sw) return env.Undefined();
  for (auto it = g_endpoints.begin(); it != g_endpoints.end();) {
    if (it->first.first == sw->id()) {
      it->second->Detach();
      it = g_endpoints.erase(it);
    } else {
      ++it;
    }
  }
  DestroySwitch(sw->id());
  return env.Undefined();
}

Napi::Value Counters(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  std::shared_ptr<Switch> sw;
  if (info.Length() != 1 || !SwitchArg(info, "switchCounters", &sw))
    return Usage(env, "switchCounters(switchId: number): Record<string, number>");
  if (!sw) return env.Undefined();
  SwitchStats s = sw->Stats();
  Napi::Object out = SwitchStatsObject(env, s);
  out.Set("ports", static_cast<double>(s.ports));
  for (const auto &kv : g_endpoints) {
    if (kv.first.first != sw->id()) continue;
    std::string key = "endpoint." + std::to_string(kv.first.second);
    out.Set(key + ".frames", static_cast<double>(kv.second->frames()));
    out.Set(key + ".dropped", static_cast<double>(kv.second->dropped()));
  }
  return out;
}

Napi::Value OpenTapJs(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  if (info.Length() != 1 || !info[0].IsString())
    return Usage(env, "openTap(ifname: string): { fd: number; mtu: number }");
  int fd;
  uint32_t mtu;
  std::string err;
  if (!OpenTap(info[0].As<Napi::String>().Utf8Value(), &fd, &mtu, &err)) return Fail(env, err);
  Napi::Object out = Napi::Object::New(env);
  out.Set("fd", fd);
  out.Set("mtu", mtu);
  return out;
}

Napi::Value TapFromFdJs(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  uint64_t fd;
  if (info.Length() != 1 || !IsUint(info[0], 0, INT32_MAX, &fd))
    return Usage(env, "tapFromFd(fd: number): { mtu: number }");
  uint32_t mtu;
  std::string err;
  if (!TapFromFd(static_cast<int>(fd), &mtu, &err)) return Fail(env, err);
  Napi::Object out = Napi::Object::New(env);
  out.Set("mtu", mtu);
  return out;
}

// An AF_UNIX pair of `type` (flags included), as a [number, number] array.
Napi::Value Pair(const Napi::CallbackInfo &info, int type, const char *usage) {
  Napi::Env env = info.Env();
  if (info.Length() != 0) return Usage(env, usage);
  int sv[2];
  if (socketpair(AF_UNIX, type, 0, sv) < 0)
    return Fail(env, std::string("socketpair failed: ") + strerrorname_np(errno));
  Napi::Array out = Napi::Array::New(env, 2);
  out.Set(0u, Napi::Number::New(env, sv[0]));
  out.Set(1u, Napi::Number::New(env, sv[1]));
  return out;
}

// socketpairSeqpacket(): [tenderEnd, guestEnd], both close-on-exec and
// non-blocking. The guest end is a Solo5 net hostfd: upstream's bindings
// expect read(2) to fail with EAGAIN when no frame waits (SOLO5_R_AGAIN), as
// on the O_NONBLOCK taps upstream's tender hands over.
Napi::Value SocketpairSeqpacket(const Napi::CallbackInfo &info) {
  return Pair(info, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK,
              "socketpairSeqpacket(): [tenderEnd: number, guestEnd: number]");
}

// socketpairStream(): [tenderEnd, peerEnd], close-on-exec and blocking: the
// peer end is for a framed-stream peer started by the tender (passt --fd).
Napi::Value SocketpairStream(const Napi::CallbackInfo &info) {
  return Pair(info, SOCK_STREAM | SOCK_CLOEXEC, "socketpairStream(): [tenderEnd: number, peerEnd: number]");
}

// unixConnect(path): a connected, non-blocking, close-on-exec AF_UNIX stream
// socket. A failure is an Error whose `code` is the errno name (ENOENT, ...).
Napi::Value UnixConnectJs(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  if (info.Length() != 1 || !info[0].IsString()) return Usage(env, "unixConnect(path: string): number");
  std::string err;
  int code = 0;
  int fd = UnixConnect(info[0].As<Napi::String>().Utf8Value(), &err, &code);
  if (fd < 0) {
    Napi::Error e = Napi::Error::New(env, err);
    e.Set("code", Napi::String::New(env, strerrorname_np(code) ? strerrorname_np(code) : "EIO"));
    e.ThrowAsJavaScriptException();
    return env.Undefined();
  }
  return Napi::Number::New(env, fd);
}

}  // namespace

void RegisterNetExports(Napi::Env env, Napi::Object exports) {
  exports.Set("createSwitch", Napi::Function::New(env, CreateSwitchJs, "createSwitch"));
  exports.Set("switchAddEndpoint", Napi::Function::New(env, AddEndpoint, "switchAddEndpoint"));
  exports.Set("switchRemoveEndpoint", Napi::Function::New(env, RemoveEndpoint, "switchRemoveEndpoint"));
  exports.Set("switchSend", Napi::Function::New(env, Send, "switchSend"));
  exports.Set("switchCounters", Napi::Function::New(env, Counters, "switchCounters"));
  exports.Set("destroySwitch", Napi::Function::New(env, Destroy, "destroySwitch"));
  exports.Set("openTap", Napi::Function::New(env, OpenTapJs, "openTap"));
  exports.Set("tapFromFd", Napi::Function::New(env, TapFromFdJs, "tapFromFd"));
  exports.Set("socketpairSeqpacket", Napi::Function::New(env, SocketpairSeqpacket, "socketpairSeqpacket"));
  exports.Set("socketpairStream", Napi::Function::New(env, SocketpairStream, "socketpairStream"));
  exports.Set("unixConnect", Napi::Function::New(env, UnixConnectJs, "unixConnect"));
}

}  // namespace sn
