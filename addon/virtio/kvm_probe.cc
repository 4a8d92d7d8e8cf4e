// kvm_probe.cc: kvmProbe(path): asks a KVM device, step by step, for what QEMU's -accel kvm needs, closing every fd it opened.
#include <fcntl.h>
#include <linux/kvm.h>
#include <napi.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

namespace sn {

namespace {

// The fds a probe holds, closed in reverse on every path out.
struct Fds {
  int fd[3] = {-1, -1, -1};
  ~Fds() {
    for (int i = 2; i >= 0; i--)
      if (fd[i] >= 0) close(fd[i]);
  }
};

Napi::Object Failed(Napi::Env env, const char *step, int err) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("ok", false);
  o.Set("step", step);
  o.Set("code", strerrorname_np(err) != nullptr ? strerrorname_np(err) : "unknown");
  return o;
}

// kvmProbe(path: string): { ok: true, apiVersion } | { ok: false, step, code }. Steps, in the order QEMU
// takes them: open read-write, KVM_GET_API_VERSION (must be 12), KVM_CHECK_EXTENSION for user memory,
// KVM_CREATE_VM, KVM_CREATE_VCPU 0. A wrong API version is step KVM_GET_API_VERSION with code
// "version N". Nothing stays open.
Napi::Value KvmProbe(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  if (info.Length() != 1 || !info[0].IsString()) {
    Napi::TypeError::New(env, "Usage: kvmProbe(path: string)").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  std::string path = info[0].As<Napi::String>().Utf8Value();
  Fds fds;
  fds.fd[0] = open(path.c_str(), O_RDWR | O_CLOEXEC);
  if (fds.fd[0] < 0) return Failed(env, "open", errno);
  int version = ioctl(fds.fd[0], KVM_GET_API_VERSION, 0);
  if (version < 0) return Failed(env, "KVM_GET_API_VERSION", errno);
  if (version != KVM_API_VERSION) {
    Napi::Object o = Napi::Object::New(env);
    o.Set("ok", false);
    o.Set("step", "KVM_GET_API_VERSION");
    o.Set("code", "version " + std::to_string(version));
    return o;
  }
  int user_memory = ioctl(fds.fd[0], KVM_CHECK_EXTENSION, KVM_CAP_USER_MEMORY);
  if (user_memory < 0) return Failed(env, "KVM_CHECK_EXTENSION", errno);
  if (user_memory == 0) return Failed(env, "KVM_CHECK_EXTENSION", ENOSYS);
  fds.fd[1] = ioctl(fds.fd[0], KVM_CREATE_VM, 0);
  if (fds.fd[1] < 0) return Failed(env, "KVM_CREATE_VM", errno);
  fds.fd[2] = ioctl(fds.fd[1], KVM_CREATE_VCPU, 0);
  if (fds.fd[2] < 0) return Failed(env, "KVM_CREATE_VCPU", errno);
  Napi::Object o = Napi::Object::New(env);
  o.Set("ok", true);
  o.Set("apiVersion", version);
  return o;
}

}  // namespace

void RegisterVirtioExports(Napi::Env env, Napi::Object exports) {
  exports.Set("kvmProbe", Napi::Function::New(env, KvmProbe, "kvmProbe"));
}

}  // namespace sn
