// oci_console.cc: open a pty and hand its master to the engine (conmon, containerd's shim) with SCM_RIGHTS; make a start gate; exec runc.
#include "oci/oci_console.h"

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

namespace sn {
namespace {

std::string Errno(const char *call, int err) { return std::string(call) + " failed: " + strerrorname_np(err); }

void Throw(Napi::Env env, const std::string &msg) { Napi::Error::New(env, msg).ThrowAsJavaScriptException(); }

// openPty(): { master, slave } — both close-on-exec, neither becomes anyone's controlling terminal here.
Napi::Value OpenPty(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  if (info.Length() != 0) {
    Napi::TypeError::New(env, "Usage: openPty()").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  int master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (master < 0) {
    Throw(env, Errno("posix_openpt", errno));
    return env.Undefined();
  }
  char name[128];
  const char *step = "grantpt";
  int slave = -1;
  if (grantpt(master) == 0 && (step = "unlockpt", unlockpt(master) == 0) &&
      (step = "ptsname_r", ptsname_r(master, name, sizeof name) == 0)) {
    step = "open(pty slave)";
    slave = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
  }
  if (slave < 0) {
    int err = errno;
    close(master);
    Throw(env, Errno(step, err));
    return env.Undefined();
  }
  Napi::Object out = Napi::Object::New(env);
  out.Set("master", Napi::Number::New(env, master));
  out.Set("slave", Napi::Number::New(env, slave));
  return out;
}

// sendFd(socketPath, name, fd): connect to the engine's listening stream socket and send one
// message: `name` as the bytes, `fd` as the one SCM_RIGHTS descriptor (runc's console-socket message).
Napi::Value SendFd(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  if (info.Length() != 3 || !info[0].IsString() || !info[1].IsString() || !info[2].IsNumber()) {
    Napi::TypeError::New(env, "Usage: sendFd(socketPath: string, name: string, fd: number)")
        .ThrowAsJavaScriptException();
    return env.Undefined();
  }
  std::string path = info[0].As<Napi::String>().Utf8Value();
  std::string name = info[1].As<Napi::String>().Utf8Value();
  int fd = info[2].As<Napi::Number>().Int32Value();
  sockaddr_un addr;
  memset(&addr, 0, sizeof addr);
  addr.sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof addr.sun_path || name.empty() || name.size() > 4096) {
    Napi::RangeError::New(env, "sendFd: socket path must be 1 to 107 bytes, name 1 to 4096")
        .ThrowAsJavaScriptException();
    return env.Undefined();
  }
  memcpy(addr.sun_path, path.data(), path.size());
  int sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (sock < 0) {
    Throw(env, Errno("socket", errno));
    return env.Undefined();
  }
  if (connect(sock, reinterpret_cast<sockaddr *>(&addr), sizeof addr) < 0) {
    int err = errno;
    close(sock);
    Throw(env, Errno("connect", err));
    return env.Undefined();
  }
  iovec iov;
  iov.iov_base = const_cast<char *>(name.data());
  iov.iov_len = name.size();
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))];
  memset(control, 0, sizeof control);
  msghdr msg;
  memset(&msg, 0, sizeof msg);
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  cmsghdr *c = CMSG_FIRSTHDR(&msg);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int));
  memcpy(CMSG_DATA(c), &fd, sizeof(int));
  ssize_t n;
  do {
    n = sendmsg(sock, &msg, MSG_NOSIGNAL);
  } while (n < 0 && errno == EINTR);
  int err = errno;
  close(sock);
  if (n < 0) {
    Throw(env, Errno("sendmsg", err));
    return env.Undefined();
  }
  if (static_cast<size_t>(n) != name.size()) {
    Throw(env, "sendmsg: short write");
    return env.Undefined();
  }
  return env.Undefined();
}

// setControllingTty(fd): make the terminal on `fd` the caller's controlling terminal (the caller
// must lead its session), so that ^C typed at the engine's end signals the container.
Napi::Value SetControllingTty(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  if (info.Length() != 1 || !info[0].IsNumber()) {
    Napi::TypeError::New(env, "Usage: setControllingTty(fd: number)").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  if (ioctl(info[0].As<Napi::Number>().Int32Value(), TIOCSCTTY, 0) < 0) Throw(env, Errno("ioctl(TIOCSCTTY)", errno));
  return env.Undefined();
}

// openGate(path): a new FIFO (0600) at path, opened read-write (so never blocking, never at EOF) and
// close-on-exec: the start gate a monitorless container's helper waits on until `start` writes a byte.
Napi::Value OpenGate(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  if (info.Length() != 1 || !info[0].IsString()) {
    Napi::TypeError::New(env, "Usage: openGate(path: string)").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  std::string path = info[0].As<Napi::String>().Utf8Value();
  if (mkfifo(path.c_str(), 0600) < 0) {
    Throw(env, Errno("mkfifo", errno));
    return env.Undefined();
  }
  int fd = open(path.c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0) {
    int err = errno;
    unlink(path.c_str());
    Throw(env, Errno("open gate", err));
    return env.Undefined();
  }
  return Napi::Number::New(env, fd);
}

// execFile(path, argv): replace this process with path (argv[0] as given), keeping pid, environment and
// fds 0-2: solo5-oci hands an ordinary container to runc this way, so the engine's signals and waitpid
// reach runc itself. Node ignores SIGPIPE and may block signals; runc gets them as a fresh process would.
Napi::Value ExecFile(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  if (info.Length() != 2 || !info[0].IsString() || !info[1].IsArray()) {
    Napi::TypeError::New(env, "Usage: execFile(path: string, argv: string[])").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  std::string file = info[0].As<Napi::String>().Utf8Value();
  Napi::Array list = info[1].As<Napi::Array>();
  std::vector<std::string> strs;
  for (uint32_t i = 0; i < list.Length(); i++) {
    Napi::Value v = list.Get(i);
    if (!v.IsString()) {
      Napi::TypeError::New(env, "execFile: argv holds strings only").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    strs.push_back(v.As<Napi::String>().Utf8Value());
  }
  std::vector<char *> argv;
  for (auto &a : strs) argv.push_back(a.data());
  argv.push_back(nullptr);
  struct sigaction dfl{}, old{};
  dfl.sa_handler = SIG_DFL;
  sigaction(SIGPIPE, &dfl, &old);
  sigset_t none, oldMask;
  sigemptyset(&none);
  pthread_sigmask(SIG_SETMASK, &none, &oldMask);
  // Node marks its stdio close-on-exec; runc must write to the caller's.
  for (int fd = 0; fd <= 2; fd++) {
    int flags = fcntl(fd, F_GETFD);
    if (flags >= 0 && (flags & FD_CLOEXEC) != 0) fcntl(fd, F_SETFD, flags & ~FD_CLOEXEC);
  }
  execv(file.c_str(), argv.data());
  int err = errno;
  // Still node: put back what it had.
  pthread_sigmask(SIG_SETMASK, &oldMask, nullptr);
  sigaction(SIGPIPE, &old, nullptr);
  Throw(env, Errno("execv", err));
  return env.Undefined();
}

}  // namespace

void RegisterOciExports(Napi::Env env, Napi::Object exports) {
  exports.Set("openPty", Napi::Function::New(env, OpenPty, "openPty"));
  exports.Set("sendFd", Napi::Function::New(env, SendFd, "sendFd"));
  exports.Set("setControllingTty", Napi::Function::New(env, SetControllingTty, "setControllingTty"));
  exports.Set("openGate", Napi::Function::New(env, OpenGate, "openGate"));
  exports.Set("execFile", Napi::Function::New(env, ExecFile, "execFile"));
}

}  // namespace sn
