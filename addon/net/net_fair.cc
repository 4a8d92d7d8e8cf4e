// net_fair.cc: admission by equal shares plus a reserve for light sources (see net_fair.h).
#include "net_fair.h"

#include <algorithm>

namespace sn {

void FairShare::Reset(uint32_t slots) {
  slots_ = slots;
  // An eighth of the queue stays for sources that hold (almost) nothing;
  // "almost" is a quarter of that, so a few newcomers fit at once.
  reserve_ = std::max<uint32_t>(1, slots / 8);
  light_ = std::max<uint32_t>(1, reserve_ / 4);
  // owner_ is filled in by the first Took(): a source that never queues anything costs nothing.
  std::vector<uint32_t>().swap(owner_);
  active_.clear();
}

uint32_t FairShare::Held(uint32_t src) const {
  for (const auto &a : active_)
    if (a.first == src) return a.second;
  return 0;
}

bool FairShare::Admit(uint32_t src, uint32_t space, uint32_t others, uint32_t units) const {
  if (units == 0 || space < units || slots_ == 0) return false;
  if (others == 0) return true;
  const uint32_t held = Held(src);
  const uint32_t sources = static_cast<uint32_t>(active_.size()) + (held == 0 ? 1 : 0);
  // A frame larger than a whole share still fits into an empty one, so a
  // source of jumbo frames is slowed to one at a time, never shut out.
  const uint32_t share = std::max<uint32_t>(units, (slots_ - reserve_) / sources);
  if (held + units > share) return false;
  return space >= reserve_ + units || held < light_;
}

void FairShare::Took(uint32_t idx, uint32_t src) {
  if (slots_ == 0) return;
  if (owner_.empty()) owner_.assign(slots_, 0);
  owner_[idx & (slots_ - 1)] = src;
  for (auto &a : active_) {
    if (a.first == src) {
      a.second++;
      return;
    }
  }
  active_.emplace_back(src, 1);
}

void FairShare::Freed(uint32_t from, uint32_t to) {
  if (slots_ == 0 || owner_.empty()) return;
  // The caller checked that the consumer moved forward by at most slots.
  for (uint32_t i = from; i != to; i++) {
    const uint32_t src = owner_[i & (slots_ - 1)];
    for (size_t k = 0; k < active_.size(); k++) {
      if (active_[k].first != src) continue;
      if (--active_[k].second == 0) {
        active_[k] = active_.back();
        active_.pop_back();
      }
      break;
    }
  }
}

}  // namespace sn
