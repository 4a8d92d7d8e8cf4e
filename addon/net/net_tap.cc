// net_tap.cc: TUNSETIFF/TUNGETIFF, offloads off, and the interface MTU (across network namespaces if need be).
#include "net_tap.h"

#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <pthread.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace sn {

namespace {

std::string Errno(const std::string &what, int err) { return what + " failed: " + strerrorname_np(err); }

bool MtuInThisNs(const char *ifname, uint32_t *mtu, int *err) {
  int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s < 0) {
    *err = errno;
    return false;
  }
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  strncpy(ifr.ifr_name, ifname, IFNAMSIZ - 1);
  int rc = ioctl(s, SIOCGIFMTU, &ifr);
  *err = errno;
  close(s);
  if (rc < 0) return false;
  *mtu = static_cast<uint32_t>(ifr.ifr_mtu);
  return true;
}

// The network namespace is per thread: a short-lived thread enters the
// tap's namespace, asks there, and takes the namespace with it when it ends.
struct NsQuery {
  int ns_fd;
  const char *ifname;
  uint32_t mtu;
  int err;
  bool ok;
};

void *NsQueryMain(void *arg) {
  NsQuery *q = static_cast<NsQuery *>(arg);
  if (setns(q->ns_fd, CLONE_NEWNET) < 0) {
    q->err = errno;
    q->ok = false;
    return nullptr;
  }
  q->ok = MtuInThisNs(q->ifname, &q->mtu, &q->err);
  return nullptr;
}

bool SameNs(int ns_fd) {
  struct stat a, b;
  if (fstat(ns_fd, &a) < 0 || stat("/proc/self/ns/net", &b) < 0) return true;
  return a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

bool TapMtu(int fd, const char *ifname, uint32_t *mtu, std::string *err, const std::string &who) {
  int ns_fd = ioctl(fd, TUNGETDEVNETNS);
  int rc_err = 0;
  if (ns_fd < 0 || SameNs(ns_fd)) {
    if (ns_fd >= 0) close(ns_fd);
    if (MtuInThisNs(ifname, mtu, &rc_err)) return true;
    *err = who + ": " + Errno("SIOCGIFMTU", rc_err);
    return false;
  }
  NsQuery q{ns_fd, ifname, 0, 0, false};
  pthread_t t;
  int rc = pthread_create(&t, nullptr, NsQueryMain, &q);
  if (rc == 0) pthread_join(t, nullptr);
  close(ns_fd);
  if (rc != 0) {
    *err = who + ": " + Errno("pthread_create", rc);
    return false;
  }
  if (!q.ok) {
    *err = who + ": " + Errno("SIOCGIFMTU in the interface's network namespace", q.err);
    return false;
  }
  *mtu = q.mtu;
  return true;
}

bool OffloadsOff(int fd, std::string *err, const std::string &who) {
  if (ioctl(fd, TUNSETOFFLOAD, 0UL) < 0) {
    *err = who + ": " + Errno("TUNSETOFFLOAD", errno);
    return false;
  }
  return true;
}

}  // namespace

bool OpenTap(const std::string &ifname, int *fd_out, uint32_t *mtu, std::string *err) {
  const std::string who = "tap '" + ifname + "'";
  if (ifname.empty() || ifname.size() >= IFNAMSIZ || ifname.find('/') != std::string::npos) {
    *err = who + ": an interface name has 1 to " + std::to_string(IFNAMSIZ - 1) + " characters and no '/'";
    return false;
  }
  // TUNSETIFF would create a missing interface (with privileges): the tender
  // only ever attaches to one the administrator made.
  if (if_nametoindex(ifname.c_str()) == 0) {
    *err = who + ": no such interface";
    return false;
  }
  int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) {
    *err = who + ": " + Errno("open /dev/net/tun", errno);
    return false;
  }
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
  strncpy(ifr.ifr_name, ifname.c_str(), IFNAMSIZ - 1);
  if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
    *err = who + ": " + Errno("TUNSETIFF", errno);
    close(fd);
    return false;
  }
  if (!OffloadsOff(fd, err, who) || !TapMtu(fd, ifname.c_str(), mtu, err, who)) {
    close(fd);
    return false;
  }
  *fd_out = fd;
  return true;
}

bool TapFromFd(int fd, uint32_t *mtu, std::string *err) {
  std::string who = "tap fd " + std::to_string(fd);
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  if (ioctl(fd, TUNGETIFF, &ifr) < 0) {
    *err = who + ": " + Errno("TUNGETIFF (is it a tap?)", errno);
    return false;
  }
  char name[IFNAMSIZ + 1];
  memcpy(name, ifr.ifr_name, IFNAMSIZ);
  name[IFNAMSIZ] = '\0';
  who += " ('" + std::string(name) + "')";
  const int flags = ifr.ifr_flags;
  if ((flags & IFF_TAP) == 0) {
    *err = who + ": is a tun (layer 3) device, not a tap";
    return false;
  }
  if ((flags & IFF_NO_PI) == 0) {
    *err = who + ": carries packet information headers (opened without IFF_NO_PI)";
    return false;
  }
  if (flags & IFF_VNET_HDR) {
    *err = who + ": carries virtio-net headers (opened with IFF_VNET_HDR)";
    return false;
  }
  return OffloadsOff(fd, err, who) && TapMtu(fd, name, mtu, err, who);
}

}  // namespace sn
