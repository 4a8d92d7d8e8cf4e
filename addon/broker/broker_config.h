// broker_config.h: turns the JavaScript BrokerConfig into a checked GuestSpec.
#ifndef SN_BROKER_CONFIG_H
#define SN_BROKER_CONFIG_H

#include <napi.h>

#include <string>

#include "broker_guest.h"
#include "napi_uint.h"

namespace sn {

struct ConfigError {
  bool usage = false;  // a type error (thrown as "Usage: ..."), else a value out of range
  std::string message;
};

// Reads and checks every field; resolves switch ids. On failure fills *e.
bool ParseBrokerConfig(const Napi::Value &v, GuestSpec *spec, ConfigError *e);

// Shared by the switch and tap exports.
bool ReadUint(const Napi::Object &o, const char *key, const std::string &where, uint64_t lo, uint64_t hi, uint64_t *out,
              ConfigError *e);

}  // namespace sn

#endif  // SN_BROKER_CONFIG_H
