// broker_exports.h: registration of the device broker's N-API exports (called from addon_main.cc Init).
#ifndef SN_BROKER_EXPORTS_H
#define SN_BROKER_EXPORTS_H

#include <napi.h>

#include <memory>

namespace sn {

class Guest;

// createGuestBroker. Test hooks live in the separate test addon (test/native/).
void RegisterBrokerExports(Napi::Env env, Napi::Object exports);
// createSwitch, switchAddEndpoint, switchSend, switchRemoveEndpoint, destroySwitch,
// switchCounters, openTap, tapFromFd, socketpairSeqpacket.
void RegisterNetExports(Napi::Env env, Napi::Object exports);

}  // namespace sn

#endif  // SN_BROKER_EXPORTS_H
