// switchd_sock.cc: creating the solo5-switch listening socket owner-only, and removing it only while it is still ours.
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "switchd.h"

namespace sn {

namespace {

std::string Errno(const std::string &what, int err) { return what + " failed: " + strerrorname_np(err); }

// Whether a process accepts connections on the socket at sa; false with
// *err empty when nobody does (a stale socket left by a daemon that died).
bool SomeoneListens(const struct sockaddr_un &sa, const std::string &path, std::string *err) {
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) {
    *err = Errno("socket", errno);
    return true;
  }
  int rc = connect(fd, reinterpret_cast<const struct sockaddr *>(&sa), sizeof sa);
  int e = errno;
  close(fd);
  if (rc < 0 && e == ECONNREFUSED) return false;
  if (rc == 0 || e == EAGAIN || e == EINPROGRESS)
    *err = path + ": another process is listening on this socket";
  else
    *err = path + ": " + Errno("connect to the existing socket", e);
  return true;
}

}  // namespace

int SwitchdListen(const std::string &path, uint32_t mode, int64_t gid, dev_t *dev, ino_t *ino, std::string *err) {
  struct sockaddr_un sa;
  memset(&sa, 0, sizeof sa);
  sa.sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof sa.sun_path || path.find('\0') != std::string::npos) {
    *err = path + ": a socket path must be 1 to " + std::to_string(sizeof sa.sun_path - 1) + " bytes";
    return -1;
  }
  memcpy(sa.sun_path, path.data(), path.size());
  struct stat st;
  if (lstat(path.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode)) {
      *err = path + ": exists and is not a socket (refusing to replace it)";
      return -1;
    }
    if (SomeoneListens(sa, path, err)) return -1;
    if (unlink(path.c_str()) < 0 && errno != ENOENT) {
      *err = path + ": " + Errno("unlink of the stale socket", errno);
      return -1;
    }
  } else if (errno != ENOENT) {
    *err = path + ": " + Errno("lstat", errno);
    return -1;
  }
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) {
    *err = Errno("socket", errno);
    return -1;
  }
  // The file bind(2) creates takes the socket's own mode (less the umask),
  // so it is never wider than asked, not even for an instant.
  if (fchmod(fd, mode & 0777) < 0) {
    *err = Errno("fchmod of the socket", errno);
    close(fd);
    return -1;
  }
  if (bind(fd, reinterpret_cast<struct sockaddr *>(&sa), sizeof sa) < 0) {
    *err = path + ": " + Errno("bind", errno);
    close(fd);
    return -1;
  }
  // Nobody can connect before listen(2), so widening the mode past the umask
  // and giving the file its group happen while it is still closed to all.
  const char *step = nullptr;
  if (lstat(path.c_str(), &st) < 0)
    step = "lstat";
  else if (gid >= 0 && lchown(path.c_str(), static_cast<uid_t>(-1), static_cast<gid_t>(gid)) < 0)
    step = "chown";
  else if ((st.st_mode & 0777) != (mode & 0777) && chmod(path.c_str(), mode & 0777) < 0)
    step = "chmod";
  else if (listen(fd, 128) < 0)
    step = "listen";
  if (step != nullptr) {
    *err = path + ": " + Errno(step, errno);
    close(fd);
    unlink(path.c_str());
    return -1;
  }
  *dev = st.st_dev;
  *ino = st.st_ino;
  return fd;
}

bool SwitchdUnlink(const std::string &path, dev_t dev, ino_t ino) {
  struct stat st;
  if (lstat(path.c_str(), &st) < 0 || !S_ISSOCK(st.st_mode) || st.st_dev != dev || st.st_ino != ino) return false;
  return unlink(path.c_str()) == 0;
}

}  // namespace sn
