// net_switch_napi.h: a Switch's counters as the JavaScript object both the in-process switch and solo5-switch report.
#ifndef SN_NET_SWITCH_NAPI_H
#define SN_NET_SWITCH_NAPI_H

#include <napi.h>

#include "net_switch.h"

namespace sn {

// The counters every switch has; callers add what only they report (ports, aged).
inline Napi::Object SwitchStatsObject(Napi::Env env, const SwitchStats &s) {
  Napi::Object out = Napi::Object::New(env);
  out.Set("forwarded", static_cast<double>(s.forwarded));
  out.Set("flooded", static_cast<double>(s.flooded));
  out.Set("droppedMtu", static_cast<double>(s.dropped_mtu));
  out.Set("droppedFiltered", static_cast<double>(s.dropped_filtered));
  out.Set("macs", static_cast<double>(s.macs));
  return out;
}

}  // namespace sn

#endif  // SN_NET_SWITCH_NAPI_H
