// The order of one chain (pure): where keel's rules go among the rules it
// does not manage. keel's rules (recognised by their comment) are sorted
// by (order, title); a managed rule already in the right relative place
// stays (the longest run of them in order is kept), the others move; an
// unmanaged rule keeps its place after the kept managed rule before it
// (or at the head), unless the chain is purged. A rule keel adds goes
// right after the managed rule before it in the sort (after that rule's
// unmanaged followers), i.e. right before the next managed rule; in a
// chain without managed rules it is appended. The result of a plan,
// planned again, is unchanged (no rule moves twice).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "resources/firewall/ipt_save.h"

namespace keel::fw {

struct Want {
  std::string comment;  // identity in the chain
  std::string args;     // the rule's canonical text (after "-A CHAIN ")
  int64_t order = 50;
  std::string title;
  bool present = true;  // false: ensure absent
  bool active = true;   // false: leave its live rule exactly as found (failed/skipped resource)
};

struct WantStatus {
  bool found = false;    // a live rule carries its comment
  bool changed = false;  // found with other text (live_args holds it)
  bool moved = false;    // found out of order
  std::string live_args;
  size_t from = 0, to = 0;           // 1-based positions (0 = none)
  std::vector<std::string> removed;  // args of rules removed for it (absent, duplicates)
};

struct ChainPlan {
  std::vector<std::string> before;  // args of the live rules
  std::vector<std::string> after;   // args after the plan
  std::vector<WantStatus> wants;    // per Want, in input order
  std::vector<std::string> purged;  // args of unmanaged rules removed by purge
  bool changed() const { return before != after; }
};

/// Plans one chain. `same(i, rule)` decides whether a live rule whose text
/// differs from wants[i].args is nevertheless the same rule (it is then
/// left as found); it is asked only when the texts differ.
ChainPlan PlanChain(const std::vector<const Rule*>& live, const std::vector<Want>& wants,
                    bool purge, const std::function<bool(size_t, const Rule&)>& same);

}  // namespace keel::fw
