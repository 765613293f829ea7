// Owed refreshes: claims recorded before a change, settled after it.
#include "engine/owed_ledger.h"

#include <algorithm>

#include "engine/state.h"

namespace keel {

void OwedLedger::Note(const std::string& id) {
  if (std::find(order_.begin(), order_.end(), id) == order_.end()) order_.push_back(id);
}

void OwedLedger::Load(const std::vector<std::string>& on_disk,
                      const std::vector<std::string>& keep) {
  for (const auto& id : keep) {
    Note(id);
    owed_.insert(id);
  }
  persisted_ = on_disk;
}

std::vector<std::string> OwedLedger::Ids() const {
  std::vector<std::string> out;
  for (const auto& id : order_) {
    auto c = claims_.find(id);
    if (owed_.count(id) || (c != claims_.end() && c->second > 0)) out.push_back(id);
  }
  return out;
}

Result<void> OwedLedger::Persist() {
  std::vector<std::string> ids = Ids();
  if (ids == persisted_ || sink_ == nullptr) {
    if (sink_ == nullptr) persisted_ = std::move(ids);
    return {};
  }
  KEEL_TRY(sink_->SetOwedRefreshes(ids));
  persisted_ = std::move(ids);
  return {};
}

Result<void> OwedLedger::Claim(const std::vector<std::string>& ids) {
  for (const auto& id : ids) {
    Note(id);
    ++claims_[id];
  }
  auto r = Persist();
  if (!r.ok()) {
    for (const auto& id : ids) --claims_[id];
    return r;
  }
  return {};
}

Result<void> OwedLedger::Resolve(const std::vector<std::string>& ids, bool keep) {
  for (const auto& id : ids) {
    auto c = claims_.find(id);
    if (c != claims_.end() && c->second > 0) --c->second;
    if (keep) {
      Note(id);
      owed_.insert(id);
    }
  }
  return Persist();
}

Result<void> OwedLedger::Delivered(const std::string& id) {
  owed_.erase(id);
  return Persist();
}

}  // namespace keel
