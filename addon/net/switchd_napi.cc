// switchd_napi.cc: N-API exports of the solo5-switch daemon: start on a socket path, read counters, stop.
#include <napi.h>

#include <map>
#include <memory>
#include <string>

#include "broker_config.h"
#include "net_switch_napi.h"
#include "switchd.h"

namespace sn {

namespace {

struct Running {
  std::unique_ptr<SwitchDaemon> daemon;
  Napi::ThreadSafeFunction tsfn;
  std::string path;
  dev_t dev;
  ino_t ino;
  napi_env env;
  uint32_t id;
};

// Only the JS thread touches this map. Never destroyed (see g_endpoints in
// net_napi.cc): cleanup hooks have stopped every daemon by then.
auto &g_daemons = *new std::map<uint32_t, std::unique_ptr<Running>>();
uint32_t g_next_daemon = 1;

Napi::Value Usage(Napi::Env env, const char *msg) {
  Napi::TypeError::New(env, std::string("Usage: ") + msg).ThrowAsJavaScriptException();
  return env.Undefined();
}

void CallJs(Napi::Env env, Napi::Function fn, SwitchdEvent *ev) {
  std::unique_ptr<SwitchdEvent> owned(ev);
  if (env == nullptr || fn == nullptr) return;
  Napi::Object o = Napi::Object::New(env);
  o.Set("type", ev->type);
  o.Set("port", ev->port);
  o.Set("pid", ev->pid);
  o.Set("uid", ev->uid);
  o.Set("message", ev->message);
  fn.Call({o});
}

// Stops the loop, removes the socket file if it is still ours and lets the
// event callback go; the daemon object stays for its final counters.
void CleanupHook(void *arg) {
  auto *r = static_cast<Running *>(arg);
  if (!r->tsfn) return;
  r->daemon->Stop();
  SwitchdUnlink(r->path, r->dev, r->ino);
  r->tsfn.Release();
  r->tsfn = Napi::ThreadSafeFunction();
}

Running *Find(const Napi::CallbackInfo &info) {
  uint64_t id;
  if (info.Length() != 1 || !IsUint(info[0], 1, UINT32_MAX, &id)) return nullptr;
  auto it = g_daemons.find(static_cast<uint32_t>(id));
  return it == g_daemons.end() ? nullptr : it->second.get();
}

Napi::Value Start(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  const char *usage =
      "switchdStart(opts: { path: string; mode: number; gid: number; mtu: number; agingSec: number; maxPorts: number; "
      "pcapFd: number }, "
      "onEvent: (ev: SwitchdEvent) => void): number";
  if (info.Length() != 2 || !info[0].IsObject() || !info[1].IsFunction()) return Usage(env, usage);
  Napi::Object o = info[0].As<Napi::Object>();
  if (!o.Get("path").IsString()) return Usage(env, usage);
  const std::string path = o.Get("path").As<Napi::String>().Utf8Value();
  uint64_t mode, mtu, aging, max_ports;
  ConfigError e;
  if (!ReadUint(o, "mode", "switchdStart: opts", 0, 0777, &mode, &e) ||
      !ReadUint(o, "mtu", "switchdStart: opts", 68, 65535 - 14, &mtu, &e) ||
      !ReadUint(o, "agingSec", "switchdStart: opts", 0, 1u << 30, &aging, &e) ||
      !ReadUint(o, "maxPorts", "switchdStart: opts", 1, kSwitchdMaxPortsLimit, &max_ports, &e)) {
    if (e.usage) return Usage(env, usage);
    Napi::RangeError::New(env, e.message).ThrowAsJavaScriptException();
    return env.Undefined();
  }
  if (!o.Get("gid").IsNumber() || !o.Get("pcapFd").IsNumber()) return Usage(env, usage);
  const int64_t gid = o.Get("gid").As<Napi::Number>().Int64Value();
  const int64_t pcap_fd = o.Get("pcapFd").As<Napi::Number>().Int64Value();
  if (gid < -1 || gid > UINT32_MAX - 1 || pcap_fd < -1 || pcap_fd > INT32_MAX) return Usage(env, usage);

  auto r = std::make_unique<Running>();
  r->path = path;
  r->env = env;
  std::string err;
  int fd = SwitchdListen(path, static_cast<uint32_t>(mode), gid, &r->dev, &r->ino, &err);
  if (fd < 0) {
    Napi::Error::New(env, err).ThrowAsJavaScriptException();
    return env.Undefined();
  }
  r->tsfn = Napi::ThreadSafeFunction::New(env, info[1].As<Napi::Function>(), "sn-switchd-events", 0, 1);
  SwitchdOptions opts;
  opts.mtu = static_cast<uint32_t>(mtu);
  opts.aging_ns = aging * 1000000000ull;
  opts.max_ports = static_cast<uint32_t>(max_ports);
  opts.pcap_fd = static_cast<int>(pcap_fd);
  Napi::ThreadSafeFunction tsfn = r->tsfn;
  r->daemon = std::make_unique<SwitchDaemon>(fd, opts, [tsfn](const SwitchdEvent &ev) mutable {
    auto *copy = new SwitchdEvent(ev);
    if (tsfn.NonBlockingCall(copy, CallJs) != napi_ok) delete copy;
  });
  if (!r->daemon->Start(&err)) {
    r->daemon.reset();
    SwitchdUnlink(r->path, r->dev, r->ino);
    r->tsfn.Release();
    Napi::Error::New(env, err).ThrowAsJavaScriptException();
    return env.Undefined();
  }
  r->id = g_next_daemon++;
  napi_add_env_cleanup_hook(env, CleanupHook, r.get());
  const uint32_t id = r->id;
  g_daemons[id] = std::move(r);
  return Napi::Number::New(env, id);
}

Napi::Value Stop(const Napi::CallbackInfo &info) {
  Running *r = Find(info);
  if (r == nullptr) return Usage(info.Env(), "switchdStop(id: number) with the id switchdStart returned");
  if (r->tsfn) {
    napi_remove_env_cleanup_hook(r->env, CleanupHook, r);
    CleanupHook(r);
  }
  return info.Env().Undefined();
}

Napi::Value Stats(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  Running *r = Find(info);
  if (r == nullptr) return Usage(env, "switchdStats(id: number) with the id switchdStart returned");
  Napi::Array ports = Napi::Array::New(env);
  uint32_t i = 0;
  for (const SwitchdPortStats &s : r->daemon->Stats()) {
    Napi::Object p = Napi::Object::New(env);
    p.Set("port", s.id);
    p.Set("pid", s.pid);
    p.Set("uid", s.uid);
    p.Set("gid", s.gid);
    p.Set("open", s.open);
    p.Set("rxPackets", static_cast<double>(s.rx_packets));
    p.Set("rxBytes", static_cast<double>(s.rx_bytes));
    p.Set("rxDropped", static_cast<double>(s.rx_dropped));
    p.Set("txPackets", static_cast<double>(s.tx_packets));
    p.Set("txBytes", static_cast<double>(s.tx_bytes));
    p.Set("txDropped", static_cast<double>(s.tx_dropped));
    if (!s.open) p.Set("closed", s.closed_why);
    ports.Set(i++, p);
  }
  SwitchStats s = r->daemon->switch_stats();
  Napi::Object sw = SwitchStatsObject(env, s);
  sw.Set("aged", static_cast<double>(s.aged));
  Napi::Object out = Napi::Object::New(env);
  out.Set("ports", ports);
  out.Set("switch", sw);
  return out;
}

}  // namespace

void RegisterSwitchdExports(Napi::Env env, Napi::Object exports) {
  exports.Set("switchdStart", Napi::Function::New(env, Start, "switchdStart"));
  exports.Set("switchdStop", Napi::Function::New(env, Stop, "switchdStop"));
  exports.Set("switchdStats", Napi::Function::New(env, Stats, "switchdStats"));
  exports.Set("SWITCHD_DEFAULT_MAX_PORTS", kSwitchdDefaultMaxPorts);
  exports.Set("SWITCHD_MAX_PORTS_LIMIT", kSwitchdMaxPortsLimit);
}

}  // namespace sn
