// broker_napi.cc: createGuestBroker and the BrokerHandle object (start, stop, counters).
#include <napi.h>

#include "broker_config.h"
#include "broker_exports.h"
#include "broker_guest.h"

namespace sn {

namespace {

class BrokerHandle : public Napi::ObjectWrap<BrokerHandle> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(
        env, "BrokerHandle",
        {InstanceMethod("start", &BrokerHandle::Start), InstanceMethod("stop", &BrokerHandle::Stop),
         InstanceMethod("counters", &BrokerHandle::Counters), InstanceMethod("drain", &BrokerHandle::Drain)});
  }

  // Constructed only by createGuestBroker, which passes the guest as an
  // External (JavaScript cannot forge one).
  explicit BrokerHandle(const Napi::CallbackInfo &info) : Napi::ObjectWrap<BrokerHandle>(info) {
    if (info.Length() != 1 || !info[0].IsExternal()) {
      Napi::TypeError::New(info.Env(), "Usage: a BrokerHandle comes from createGuestBroker()")
          .ThrowAsJavaScriptException();
      return;
    }
    guest_ = *info[0].As<Napi::External<std::shared_ptr<Guest>>>().Data();
    Napi::Object self = info.This().As<Napi::Object>();
    Napi::Env env = info.Env();
    self.Set("ringsSize", Napi::Number::New(env, static_cast<double>(guest_->rings_size())));
    Napi::Array fds = Napi::Array::New(env, 2);
    fds.Set(0u, Napi::Number::New(env, guest_->doorbell_to_tender()));
    fds.Set(1u, Napi::Number::New(env, guest_->doorbell_to_guest()));
    self.Set("doorbellFds", fds);
    self.Set("hvtKickFd", Napi::Number::New(env, guest_->hvt_kick_fd()));
  }

  // A handle dropped without stop() still joins its pump and unmaps.
  ~BrokerHandle() override {
    if (guest_) guest_->Stop();
  }

 private:
  // start(shareCpuWith?: pid, guestPid?: pid) -> { cpu, reason? }: cpu -1 when the pump is not pinned.
  Napi::Value Start(const Napi::CallbackInfo &info) {
    Napi::Env env = info.Env();
    int64_t pids[2] = {0, 0};
    for (size_t i = 0; i < 2; i++) {
      if (info.Length() <= i || info[i].IsUndefined()) continue;
      if (!info[i].IsNumber() || (pids[i] = info[i].As<Napi::Number>().Int64Value()) <= 0 ||
          pids[i] != info[i].As<Napi::Number>().DoubleValue() || pids[i] > INT32_MAX) {
        Napi::TypeError::New(env, "Usage: start(shareCpuWith?: number, guestPid?: number): process ids")
            .ThrowAsJavaScriptException();
        return env.Undefined();
      }
    }
    std::string err, why;
    if (!guest_->Start(static_cast<pid_t>(pids[0]), static_cast<pid_t>(pids[1]), &err, &why)) {
      Napi::Error::New(env, "broker start: " + err).ThrowAsJavaScriptException();
      return env.Undefined();
    }
    Napi::Object out = Napi::Object::New(env);
    out.Set("cpu", Napi::Number::New(env, guest_->cpu()));
    if (!why.empty()) out.Set("reason", Napi::String::New(env, why));
    return out;
  }

  Napi::Value Stop(const Napi::CallbackInfo &info) {
    guest_->Stop();
    return info.Env().Undefined();
  }

  Napi::Value Drain(const Napi::CallbackInfo &info) {
    std::string v = guest_->Drain();
    if (v.empty()) return info.Env().Undefined();
    return Napi::String::New(info.Env(), v);
  }

  Napi::Value Counters(const Napi::CallbackInfo &info) {
    Napi::Object out = Napi::Object::New(info.Env());
    for (const auto &kv : guest_->Counters()) out.Set(kv.first, kv.second);
    return out;
  }

  std::shared_ptr<Guest> guest_;
};

Napi::Value CreateGuestBroker(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  const char *usage = "Usage: createGuestBroker(config: BrokerConfig, onEvent: (ev: BrokerEvent) => void): ";
  if (info.Length() != 2 || !info[1].IsFunction()) {
    Napi::TypeError::New(env, std::string(usage) + "expected a config object and a function")
        .ThrowAsJavaScriptException();
    return env.Undefined();
  }
  GuestSpec spec;
  ConfigError ce;
  if (!ParseBrokerConfig(info[0], &spec, &ce)) {
    if (ce.usage)
      Napi::TypeError::New(env, usage + ce.message).ThrowAsJavaScriptException();
    else
      Napi::RangeError::New(env, "createGuestBroker: " + ce.message).ThrowAsJavaScriptException();
    return env.Undefined();
  }
  Napi::ThreadSafeFunction events =
      Napi::ThreadSafeFunction::New(env, info[1].As<Napi::Function>(), "sn-broker-events", 0, 1);
  // The guest process keeps the tender alive, not its broker.
  events.Unref(env);
  std::string err, code;
  std::shared_ptr<Guest> guest = Guest::Create(spec, events, &err, &code);
  if (!guest) {
    Napi::Error error = Napi::Error::New(env, "createGuestBroker: " + err);
    if (!code.empty()) error.Set("code", code);
    error.ThrowAsJavaScriptException();
    return env.Undefined();
  }
  guest->AddCleanupHook(env);
  auto *ctor = static_cast<Napi::FunctionReference *>(info.Data());
  return ctor->New({Napi::External<std::shared_ptr<Guest>>::New(env, &guest)});
}

}  // namespace

void RegisterBrokerExports(Napi::Env env, Napi::Object exports) {
  auto *ctor = new Napi::FunctionReference(Napi::Persistent(BrokerHandle::Define(env)));
  env.AddCleanupHook([ctor]() { delete ctor; });
  exports.Set("createGuestBroker", Napi::Function::New(env, CreateGuestBroker, "createGuestBroker", ctor));
}

}  // namespace sn
