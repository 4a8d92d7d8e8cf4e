// napi_uint.h: the one check of a JavaScript number as an integer in a range, shared by the addon and the test addon.
#ifndef SN_NAPI_UINT_H
#define SN_NAPI_UINT_H

#include <napi.h>

#include <cmath>
#include <cstdint>

namespace sn {

// True when v is a number holding an integer in [lo, hi]; NaN and fractions fail.
inline bool IsUint(const Napi::Value &v, uint64_t lo, uint64_t hi, uint64_t *out) {
  if (!v.IsNumber()) return false;
  const double d = v.As<Napi::Number>().DoubleValue();
  if (!(d >= static_cast<double>(lo)) || !(d <= static_cast<double>(hi)) || std::floor(d) != d) return false;
  *out = static_cast<uint64_t>(d);
  return true;
}

}  // namespace sn

#endif  // SN_NAPI_UINT_H
