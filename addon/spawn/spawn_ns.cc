// spawn_ns.cc: the PID namespace this thread's next children are born in (a new one, one joined by path, or our own again).
#include <fcntl.h>
#include <sched.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "spawn/spawn.h"

namespace sn {

/*
 * A process cannot move itself into another PID namespace, only choose where
 * its children go (pid_ns_for_children, per thread). util-linux's unshare and
 * nsenter therefore fork, and leave a parent between the caller and the
 * container's process; done here, around a spawn on this thread, the child is
 * the caller's own, as runc's init is its parent's. The rest of the process
 * and its other threads are untouched.
 */
std::string SetChildPidNs(const std::string &target) {
  if (target == "new") {
    if (unshare(CLONE_NEWPID) < 0) return std::string("unshare(CLONE_NEWPID) failed: ") + strerrorname_np(errno);
    return "";
  }
  // "": back to the namespace this thread itself is in.
  const char *path = target.empty() ? "/proc/thread-self/ns/pid" : target.c_str();
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::string(path) + ": " + strerrorname_np(errno);
  int r = setns(fd, CLONE_NEWPID);
  int err = errno;
  close(fd);
  if (r < 0) return std::string(path) + ": setns failed: " + strerrorname_np(err);
  return "";
}

namespace {

// setChildPidNs(target): 'new', a namespace file to join, or '' to undo. Throws one line.
Napi::Value SetChildPidNsJs(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  if (info.Length() != 1 || !info[0].IsString()) {
    Napi::TypeError::New(env, "Usage: setChildPidNs(target: 'new' | path | '')").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  std::string err = SetChildPidNs(info[0].As<Napi::String>().Utf8Value());
  if (!err.empty()) Napi::Error::New(env, err).ThrowAsJavaScriptException();
  return env.Undefined();
}

}  // namespace

void RegisterNsExports(Napi::Env env, Napi::Object exports) {
  exports.Set("setChildPidNs", Napi::Function::New(env, SetChildPidNsJs, "setChildPidNs"));
}

}  // namespace sn
