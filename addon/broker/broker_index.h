// broker_index.h: the checks every queue index read from guest memory passes before the tender uses it.
#ifndef SN_BROKER_INDEX_H
#define SN_BROKER_INDEX_H

#include <cstdint>
#include <string>

namespace sn {

/*
 * The tender keeps its own copy of the index it owns on each queue, and the
 * last value it saw of the guest's. A guest index is a protocol violation
 * when it claims more than `slots` entries or when it moves backwards; on a
 * violation these return false with one line saying what the guest did.
 */

inline bool MovedBack(const char *what, uint32_t v, uint32_t *seen, uint32_t slots, std::string *why) {
  if (v - *seen > slots) {
    *why = std::string(what) + " index " + std::to_string(v) + " is behind " + std::to_string(*seen) +
           ", where it was before (indices only move forward)";
    return true;
  }
  *seen = v;
  return false;
}

// A producer index the guest wrote (req, tx); *avail = entries to consume.
inline bool CheckProducer(const char *what, uint32_t prod, uint32_t cons, uint32_t *seen, uint32_t slots,
                          uint32_t *avail, std::string *why) {
  *avail = prod - cons;
  if (*avail > slots) {
    *why = std::string(what) + " index " + std::to_string(prod) + " is more than " + std::to_string(slots) +
           " slots ahead of the consumer index " + std::to_string(cons);
    return false;
  }
  return !MovedBack(what, prod, seen, slots, why);
}

// A consumer index the guest wrote (cpl, rx); *space = free slots to produce into.
inline bool CheckConsumer(const char *what, uint32_t cons, uint32_t prod, uint32_t *seen, uint32_t slots,
                          uint32_t *space, std::string *why) {
  const uint32_t used = prod - cons;
  if (used > slots) {
    *why = std::string(what) + " index " + std::to_string(cons) + " is not within " + std::to_string(slots) +
           " slots behind the producer index " + std::to_string(prod);
    return false;
  }
  if (MovedBack(what, cons, seen, slots, why)) return false;
  *space = slots - used;
  return true;
}

}  // namespace sn

#endif  // SN_BROKER_INDEX_H
