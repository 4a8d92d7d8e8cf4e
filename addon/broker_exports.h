// broker_exports.h: registration of the device broker's N-API exports (called from addon_main.cc Init).
#ifndef SN_BROKER_EXPORTS_H
#define SN_BROKER_EXPORTS_H

#include <napi.h>

#include <memory>

namespace sn {

class Guest;

// createGuestBroker, and the test-only debugMapRead / debugMapWrite / debugBench*.
void RegisterBrokerExports(Napi::Env env, Napi::Object exports);
// createSwitch, switchAddEndpoint, switchSend, switchRemoveEndpoint, destroySwitch,
// switchCounters, openTap, tapFromFd.
void RegisterNetExports(Napi::Env env, Napi::Object exports);
// The guest behind a BrokerHandle object, or null (type-tag checked).
std::shared_ptr<Guest> GuestOfHandle(const Napi::Value &v);
// Test-support exports that act as a guest from inside the tender.
void RegisterDebugExports(Napi::Env env, Napi::Object exports);
void RegisterDebugBenchExports(Napi::Env env, Napi::Object exports);

}  // namespace sn

#endif  // SN_BROKER_EXPORTS_H
