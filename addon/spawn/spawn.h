// spawn.h: native spawning of the guest helper (posix_spawn + pidfd watched by libuv).
#pragma once
#include <napi.h>

#include <string>

namespace sn {
void RegisterSpawnExports(Napi::Env env, Napi::Object exports);
// spawn_exec.cc: execHelperInPlace, dieBySignal, strerror.
void RegisterExecExports(Napi::Env env, Napi::Object exports);
// spawn_ns.cc: the PID namespace of this thread's next children; "" on success, else one line.
std::string SetChildPidNs(const std::string &target);
void RegisterNsExports(Napi::Env env, Napi::Object exports);
}  // namespace sn
