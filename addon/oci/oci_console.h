// oci_console.h: the terminal of an OCI container: a pty whose master goes to the engine over --console-socket.
#pragma once
#include <napi.h>

namespace sn {
void RegisterOciExports(Napi::Env env, Napi::Object exports);
}
