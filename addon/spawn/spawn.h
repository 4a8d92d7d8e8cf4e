// spawn.h: native spawning of the guest helper (posix_spawn + pidfd watched by libuv).
#pragma once
#include <napi.h>

namespace sn {
void RegisterSpawnExports(Napi::Env env, Napi::Object exports);
// spawn_exec.cc: execHelperInPlace, dieBySignal, strerror.
void RegisterExecExports(Napi::Env env, Napi::Object exports);
}  // namespace sn
