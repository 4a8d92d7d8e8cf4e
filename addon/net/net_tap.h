// net_tap.h: opening an existing tap interface (or adopting an open tap fd) for a net device backend.
#ifndef SN_NET_TAP_H
#define SN_NET_TAP_H

#include <cstdint>
#include <string>

namespace sn {

// Attaches to the existing tap interface ifname with IFF_TAP|IFF_NO_PI and
// every offload off, so that no frame is larger than the MTU. On success
// *fd is close-on-exec and non-blocking. Errors name the interface, the
// call and the errno: "tap 'tap0': TUNSETIFF failed: EPERM".
bool OpenTap(const std::string &ifname, int *fd, uint32_t *mtu, std::string *err);

// Checks that fd is a tap without packet-information or virtio-net headers,
// turns its offloads off and reads its MTU (in the interface's own network
// namespace when that is not ours).
bool TapFromFd(int fd, uint32_t *mtu, std::string *err);

}  // namespace sn

#endif  // SN_NET_TAP_H
