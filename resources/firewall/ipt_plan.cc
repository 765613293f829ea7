#include "resources/firewall/ipt_plan.h"

#include <algorithm>
#include <map>
#include <numeric>

namespace keel::fw {
namespace {

// Indices (into `seq`) of one longest strictly increasing subsequence.
std::vector<size_t> Lis(const std::vector<size_t>& seq) {
  std::vector<size_t> tails, prev(seq.size(), SIZE_MAX);
  for (size_t i = 0; i < seq.size(); ++i) {
    auto it = std::lower_bound(tails.begin(), tails.end(), i,
                               [&](size_t a, size_t) { return seq[a] < seq[i]; });
    if (it != tails.begin()) prev[i] = *(it - 1);
    if (it == tails.end())
      tails.push_back(i);
    else
      *it = i;
  }
  std::vector<size_t> out;
  for (size_t i = tails.empty() ? SIZE_MAX : tails.back(); i != SIZE_MAX; i = prev[i])
    out.push_back(i);
  std::reverse(out.begin(), out.end());
  return out;
}

}  // namespace

ChainPlan PlanChain(const std::vector<const Rule*>& live, const std::vector<Want>& wants,
                    bool purge, const std::function<bool(size_t, const Rule&)>& same) {
  ChainPlan plan;
  plan.wants.resize(wants.size());
  for (const Rule* r : live) plan.before.push_back(r->args);

  // The sort of keel's rules: present and active ones by (order, title).
  std::vector<size_t> sorted;
  for (size_t i = 0; i < wants.size(); ++i)
    if (wants[i].present && wants[i].active) sorted.push_back(i);
  std::stable_sort(sorted.begin(), sorted.end(), [&](size_t a, size_t b) {
    if (wants[a].order != wants[b].order) return wants[a].order < wants[b].order;
    return wants[a].title < wants[b].title;
  });
  std::vector<size_t> rank(wants.size(), SIZE_MAX);
  for (size_t k = 0; k < sorted.size(); ++k) rank[sorted[k]] = k;
  std::map<std::string, size_t> by_comment;
  for (size_t i = 0; i < wants.size(); ++i) by_comment.emplace(wants[i].comment, i);

  enum class Kind { kUnmanaged, kManaged, kRemove, kPurge };
  std::vector<Kind> kind(live.size(), Kind::kUnmanaged);
  std::vector<size_t> owner(live.size(), SIZE_MAX);
  std::vector<bool> claimed(wants.size(), false);
  for (size_t j = 0; j < live.size(); ++j) {
    std::string c = live[j]->Comment();
    auto it = c.empty() ? by_comment.end() : by_comment.find(c);
    if (it == by_comment.end()) {
      if (purge) kind[j] = Kind::kPurge;
      continue;
    }
    size_t w = it->second;
    owner[j] = w;
    if (!wants[w].active) continue;  // left exactly as found
    WantStatus& st = plan.wants[w];
    if (!wants[w].present || claimed[w]) {
      kind[j] = Kind::kRemove;
      st.removed.push_back(live[j]->args);
      if (!claimed[w]) st.from = j + 1;
      claimed[w] = true;
      continue;
    }
    claimed[w] = true;
    kind[j] = Kind::kManaged;
    st.found = true;
    st.from = j + 1;
    st.live_args = live[j]->args;
    if (live[j]->args != wants[w].args && !same(w, *live[j])) st.changed = true;
  }

  // Managed rules in the right relative order stay; the others move.
  std::vector<size_t> managed_pos, managed_rank;
  for (size_t j = 0; j < live.size(); ++j)
    if (kind[j] == Kind::kManaged) {
      managed_pos.push_back(j);
      managed_rank.push_back(rank[owner[j]]);
    }
  std::vector<bool> kept(live.size(), false);
  for (size_t k : Lis(managed_rank)) kept[managed_pos[k]] = true;

  // Unmanaged rules that stay, anchored after the kept managed rule before them.
  std::map<size_t, std::vector<size_t>> anchored;  // rank+1 (0 = head) -> live indices
  size_t anchor = 0;
  for (size_t j = 0; j < live.size(); ++j) {
    if (kind[j] == Kind::kManaged && kept[j]) anchor = rank[owner[j]] + 1;
    if (kind[j] == Kind::kUnmanaged) anchored[anchor].push_back(j);
    if (kind[j] == Kind::kPurge) plan.purged.push_back(live[j]->args);
  }
  auto emit_anchored = [&](size_t key) {
    for (size_t j : anchored[key]) plan.after.push_back(live[j]->args);
  };
  emit_anchored(0);
  for (size_t k = 0; k < sorted.size(); ++k) {
    size_t w = sorted[k];
    WantStatus& st = plan.wants[w];
    plan.after.push_back(st.found && !st.changed ? st.live_args : wants[w].args);
    st.to = plan.after.size();
    if (st.found) {
      size_t j = st.from - 1;
      st.moved = !kept[j];
    }
    emit_anchored(k + 1);
  }
  return plan;
}

}  // namespace keel::fw
