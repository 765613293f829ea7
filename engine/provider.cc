#include "engine/provider.h"

namespace keel {

std::vector<Change> AttrDiff(const Resource& want, const Attrs& have) {
  std::vector<Change> out;
  for (const auto& [key, have_v] : have) {
    const Value* want_v = want.Get(key);
    if (!want_v) continue;
    if (*want_v == have_v) continue;
    Change c{key, std::nullopt, *want_v, ""};
    if (!have_v.is_null()) c.from = have_v;
    out.push_back(std::move(c));
  }
  return out;
}

std::vector<Change> Provider::Diff(const Resource& want, const Attrs& have, RunContext& ctx) {
  (void)ctx;
  return AttrDiff(want, have);
}

}  // namespace keel
