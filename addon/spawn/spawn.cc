// spawn.cc: exec the static helper with exactly the given fds, and report its exit through a pidfd on the event loop.
#include "spawn/spawn.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <uv.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

namespace sn {
namespace {

std::string Errno(const char *call, int err) { return std::string(call) + " failed: " + strerrorname_np(err); }

// One spawned helper: its pidfd polled on the loop until the process ends.
struct ExitWatch {
  uv_poll_t poll;
  int pidfd;
  napi_env env;
  Napi::FunctionReference onExit;
};

void OnClosed(uv_handle_t *h) {
  auto *w = static_cast<ExitWatch *>(h->data);
  close(w->pidfd);
  delete w;
}

// The pidfd becomes readable once the child has exited; reap it and tell JavaScript.
void OnPidfd(uv_poll_t *p, int, int) {
  auto *w = static_cast<ExitWatch *>(p->data);
  siginfo_t si;
  memset(&si, 0, sizeof si);
  if (syscall(SYS_waitid, P_PIDFD, w->pidfd, &si, WEXITED, nullptr) < 0) {
    if (errno == EINTR || errno == EAGAIN) return;
  }
  uv_poll_stop(p);
  Napi::Env env(w->env);
  Napi::HandleScope scope(env);
  Napi::Value code = env.Null();
  int sig = 0;
  if (si.si_code == CLD_EXITED) {
    code = Napi::Number::New(env, si.si_status);
  } else {
    sig = si.si_status;
  }
  w->onExit.MakeCallback(env.Global(), {code, Napi::Number::New(env, sig)});
  uv_close(reinterpret_cast<uv_handle_t *>(p), OnClosed);
}

// Duplicate each source above every target number, so that no dup2 in the
// child is a no-op that would leave close-on-exec set.
int DupHigh(int fd) { return fcntl(fd, F_DUPFD_CLOEXEC, 64); }

Napi::Value SpawnHelper(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  if (info.Length() < 4 || info.Length() > 5 || !info[0].IsString() || !(info[1].IsNumber() || info[1].IsString()) ||
      !info[2].IsArray() || !info[3].IsFunction() || (info.Length() == 5 && !info[4].IsObject())) {
    Napi::TypeError::New(env,
                         "Usage: spawnHelper(path: string, console: number | 'pipe', fds: number[], onExit: Function, "
                         "ns?: { pidns: string, wrap: string[] })")
        .ThrowAsJavaScriptException();
    return env.Undefined();
  }
  // A container's helper: born in a PID namespace, exec'd through a command that enters its mount namespace.
  std::string pidns;
  std::vector<std::string> wrap;
  if (info.Length() == 5) {
    Napi::Object ns = info[4].As<Napi::Object>();
    Napi::Value p = ns.Get("pidns"), w = ns.Get("wrap");
    if (!p.IsString() || !w.IsArray()) {
      Napi::TypeError::New(env, "Usage: spawnHelper: ns is { pidns: string, wrap: string[] }")
          .ThrowAsJavaScriptException();
      return env.Undefined();
    }
    pidns = p.As<Napi::String>().Utf8Value();
    Napi::Array wa = w.As<Napi::Array>();
    for (uint32_t i = 0; i < wa.Length(); i++) wrap.push_back(wa.Get(i).ToString().Utf8Value());
  }
  std::string path = info[0].As<Napi::String>().Utf8Value();
  bool consolePipe = info[1].IsString();
  int consoleFd = consolePipe ? -1 : info[1].As<Napi::Number>().Int32Value();
  Napi::Array arr = info[2].As<Napi::Array>();
  std::vector<int> extra;
  for (uint32_t i = 0; i < arr.Length(); i++) {
    Napi::Value v = arr.Get(i);
    if (!v.IsNumber()) {
      Napi::TypeError::New(env, "Usage: spawnHelper: fds must be numbers").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    extra.push_back(v.As<Napi::Number>().Int32Value());
  }

  std::vector<int> toClose;  // parent copies to close whatever happens
  auto fail = [&](const std::string &msg) {
    for (int fd : toClose) close(fd);
    Napi::Error::New(env, msg).ThrowAsJavaScriptException();
    return env.Undefined();
  };
  int diag[2], cons[2] = {-1, -1};
  if (pipe2(diag, O_CLOEXEC) < 0) return fail(Errno("pipe2", errno));
  toClose.push_back(diag[1]);
  if (consolePipe) {
    if (pipe2(cons, O_CLOEXEC) < 0) {
      close(diag[0]);
      return fail(Errno("pipe2", errno));
    }
    toClose.push_back(cons[1]);
    consoleFd = cons[1];
  }
  auto closeReadEnds = [&]() {
    close(diag[0]);
    if (cons[0] >= 0) close(cons[0]);
  };
  // Child fd n (n >= 1) comes from sources[n - 1]; fd 0 is /dev/null.
  std::vector<int> sources = {consoleFd, diag[1]};
  sources.insert(sources.end(), extra.begin(), extra.end());
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  for (size_t i = 0; i < sources.size(); i++) {
    int high = DupHigh(sources[i]);
    if (high < 0) {
      int err = errno;
      posix_spawn_file_actions_destroy(&fa);
      closeReadEnds();
      return fail(Errno("fcntl(F_DUPFD_CLOEXEC)", err) + " for fd " + std::to_string(sources[i]));
    }
    toClose.push_back(high);
    posix_spawn_file_actions_adddup2(&fa, high, static_cast<int>(i + 1));
  }
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none, all;
  sigemptyset(&none);
  sigfillset(&all);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &all);  // Node ignores SIGPIPE; the guest must not inherit that
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  std::vector<std::string> args = wrap;
  args.push_back(wrap.empty() ? "solo5-guest" : path);  // a wrapper gives the helper this argv[0] itself
  std::vector<char *> argv;
  for (std::string &a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  char *envp[] = {nullptr};
  pid_t pid;
  std::string nsErr = pidns.empty() ? "" : SetChildPidNs(pidns);
  int err = 0;
  if (nsErr.empty()) {
    // The wrapper (solo5-oci-init enter) takes the helper's full path last.
    err = wrap.empty() ? posix_spawn(&pid, path.c_str(), &fa, &attr, argv.data(), envp)
                       : posix_spawn(&pid, wrap[0].c_str(), &fa, &attr, argv.data(), envp);
    if (!pidns.empty()) SetChildPidNs("");
  }
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&attr);
  if (!nsErr.empty() || err != 0) {
    closeReadEnds();
    return fail(!nsErr.empty() ? nsErr : Errno(("exec " + args[0]).c_str(), err));
  }
  for (int fd : toClose) close(fd);

  int pidfd = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
  if (pidfd < 0) {
    int e = errno;
    kill(pid, SIGKILL);
    waitpid(pid, nullptr, 0);
    closeReadEnds();
    Napi::Error::New(env, Errno("pidfd_open", e)).ThrowAsJavaScriptException();
    return env.Undefined();
  }
  uv_loop_t *loop = nullptr;
  napi_get_uv_event_loop(env, &loop);
  auto *w = new ExitWatch();
  w->pidfd = pidfd;
  w->env = env;
  w->onExit = Napi::Persistent(info[3].As<Napi::Function>());
  w->poll.data = w;
  uv_poll_init(loop, &w->poll, pidfd);
  uv_poll_start(&w->poll, UV_READABLE, OnPidfd);

  fcntl(diag[0], F_SETFL, O_NONBLOCK);
  Napi::Object result = Napi::Object::New(env);
  result.Set("pid", Napi::Number::New(env, pid));
  result.Set("diagFd", Napi::Number::New(env, diag[0]));
  result.Set("consoleFd", Napi::Number::New(env, cons[0]));
  return result;
}

// getRandom64(): 8 bytes from getrandom(2), so that the CLI need not load node:crypto.
Napi::Value GetRandom64(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  uint64_t v = 0;
  if (syscall(SYS_getrandom, &v, sizeof v, 0) != static_cast<long>(sizeof v)) {
    Napi::Error::New(env, Errno("getrandom", errno)).ThrowAsJavaScriptException();
    return env.Undefined();
  }
  return Napi::BigInt::New(env, v);
}

}  // namespace

void RegisterSpawnExports(Napi::Env env, Napi::Object exports) {
  exports.Set("spawnHelper", Napi::Function::New(env, SpawnHelper, "spawnHelper"));
  exports.Set("getRandom64", Napi::Function::New(env, GetRandom64, "getRandom64"));
  RegisterExecExports(env, exports);
  RegisterNsExports(env, exports);
}

}  // namespace sn
