// spawn_exec.cc: the CLI becoming its guest (execve of the helper in this very process) and ending by a guest's signal.
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include "sn_abi.h"
#include "spawn/spawn.h"

namespace sn {
namespace {

std::string Errno(const char *call, int err) { return std::string(call) + " failed: " + strerrorname_np(err); }

// Everything changed before the execve, so that a failed one leaves this process as it was.
struct Undo {
  std::vector<int> fds;
  std::vector<int> ignored;
  std::vector<int> cloexec;
  sigset_t mask;
  bool maskSaved = false;

  ~Undo() {
    for (int fd : fds) close(fd);
    for (int fd : cloexec) fcntl(fd, F_SETFD, FD_CLOEXEC);
    struct sigaction ign{};
    ign.sa_handler = SIG_IGN;
    for (int sig : ignored) sigaction(sig, &ign, nullptr);
    if (maskSaved) pthread_sigmask(SIG_SETMASK, &mask, nullptr);
  }
};

/*
 * execHelperInPlace(path, argv0, fds): this process becomes the helper. Each
 * fd is duplicated, without close-on-exec, to SN_FD_INPLACE_MIN or above
 * (Node's own fds, all close-on-exec, end with the execve; its threads keep
 * using the low numbers until then, so nothing is renumbered here: the
 * helper puts them in place, include/sn_abi.h). fd 0 becomes /dev/null as
 * for a spawned helper; 1 and 2 stay (close-on-exec cleared). Signals ignored here are reset to
 * their default and none is blocked, as posix_spawn does for a spawned one.
 * Returns only by throwing, having changed nothing, when execve fails.
 */
Napi::Value ExecHelperInPlace(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  if (info.Length() != 3 || !info[0].IsString() || !info[1].IsString() || !info[2].IsArray()) {
    Napi::TypeError::New(env, "Usage: execHelperInPlace(path: string, argv0: string, fds: number[])")
        .ThrowAsJavaScriptException();
    return env.Undefined();
  }
  std::string path = info[0].As<Napi::String>().Utf8Value();
  std::string argv0 = info[1].As<Napi::String>().Utf8Value();
  Napi::Array arr = info[2].As<Napi::Array>();
  std::vector<int> sources;
  for (uint32_t i = 0; i < arr.Length(); i++) {
    Napi::Value v = arr.Get(i);
    if (!v.IsNumber() || v.As<Napi::Number>().Int32Value() < 0) {
      Napi::TypeError::New(env, "Usage: execHelperInPlace: fds must be non-negative numbers")
          .ThrowAsJavaScriptException();
      return env.Undefined();
    }
    sources.push_back(v.As<Napi::Number>().Int32Value());
  }
  Undo undo;
  auto fail = [&](const std::string &msg) {
    Napi::Error::New(env, msg).ThrowAsJavaScriptException();
    return env.Undefined();
  };
  int devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (devnull < 0) return fail(Errno("open /dev/null", errno));
  sources.insert(sources.begin(), devnull);
  std::vector<std::string> args = {argv0, SN_HELPER_INPLACE_ARG};
  for (int fd : sources) {
    int high = fcntl(fd, F_DUPFD, SN_FD_INPLACE_MIN);
    int err = errno;
    if (fd == devnull) close(devnull);
    if (high < 0) return fail(Errno("fcntl(F_DUPFD)", err) + " for fd " + std::to_string(fd));
    undo.fds.push_back(high);
    args.push_back(std::to_string(high));
  }
  // The console and stderr are the guest's: Node may have marked them close-on-exec.
  for (int fd : {1, 2}) {
    int flags = fcntl(fd, F_GETFD);
    if (flags >= 0 && (flags & FD_CLOEXEC) && fcntl(fd, F_SETFD, flags & ~FD_CLOEXEC) == 0) undo.cloexec.push_back(fd);
  }
  std::vector<char *> argv;
  for (std::string &a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  char *envp[] = {nullptr};

  sigset_t none;
  sigemptyset(&none);
  for (int sig = 1; sig < NSIG; sig++) {
    struct sigaction old{};
    if (sigaction(sig, nullptr, &old) == 0 && old.sa_handler == SIG_IGN) {
      struct sigaction dfl{};
      dfl.sa_handler = SIG_DFL;
      if (sigaction(sig, &dfl, nullptr) == 0) undo.ignored.push_back(sig);
    }
  }
  pthread_sigmask(SIG_SETMASK, &none, &undo.mask);
  undo.maskSaved = true;
  execve(path.c_str(), argv.data(), envp);
  return fail(Errno(("exec " + path).c_str(), errno));
}

/*
 * dieBySignal(signo): end this process by that signal, with its default
 * action and no core (the guest, not Node, is what faulted), so that a
 * parent sees the same wait status as for the guest. Returns only when the
 * signal's default action does not end a process.
 */
Napi::Value DieBySignal(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  if (info.Length() != 1 || !info[0].IsNumber()) {
    Napi::TypeError::New(env, "Usage: dieBySignal(signo: number)").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  int sig = info[0].As<Napi::Number>().Int32Value();
  if (sig <= 0 || sig >= NSIG) {
    Napi::RangeError::New(env, "dieBySignal: no such signal").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
  struct rlimit noCore = {0, 0};
  setrlimit(RLIMIT_CORE, &noCore);
  struct sigaction dfl{};
  dfl.sa_handler = SIG_DFL;
  sigaction(sig, &dfl, nullptr);
  sigset_t one;
  sigemptyset(&one);
  sigaddset(&one, sig);
  pthread_sigmask(SIG_UNBLOCK, &one, nullptr);
  raise(sig);
  return env.Undefined();
}

// strerror(errno): glibc's words for an errno value ("No such file or directory"), or undefined.
Napi::Value StrError(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  if (info.Length() != 1 || !info[0].IsNumber()) {
    Napi::TypeError::New(env, "Usage: strerror(errno: number)").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  const char *desc = strerrordesc_np(info[0].As<Napi::Number>().Int32Value());
  return desc ? Napi::String::New(env, desc) : env.Undefined();
}

}  // namespace

void RegisterExecExports(Napi::Env env, Napi::Object exports) {
  exports.Set("execHelperInPlace", Napi::Function::New(env, ExecHelperInPlace, "execHelperInPlace"));
  exports.Set("dieBySignal", Napi::Function::New(env, DieBySignal, "dieBySignal"));
  exports.Set("strerror", Napi::Function::New(env, StrError, "strerror"));
}

}  // namespace sn
