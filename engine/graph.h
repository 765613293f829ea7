// The resource graph (the only Boost.Graph user): explicit edges from
// metaparameters, implicit edges of SPEC 5, a deterministic topological
// order, cycle reporting and Graphviz output.
#pragma once

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "engine/catalog.h"
#include "engine/registry.h"
#include "engine/result.h"

namespace keel {

enum class EdgeKind : uint8_t { kRequire, kNotify, kImplicit };

// Resource positions as 32 bits (a catalog holds fewer than 4 billion):
// 12 bytes an edge, not 24; the edge lists are the graph's peak memory.
struct Edge {
  uint32_t from;  // converges first
  uint32_t to;
  EdgeKind kind;
};

class Graph {
 public:
  /// Positions of resources: a run of one of the graph's flat arrays.
  class Positions {
   public:
    Positions(const size_t* b, const size_t* e) : b_(b), e_(e) {}
    const size_t* begin() const { return b_; }
    const size_t* end() const { return e_; }
    size_t size() const { return static_cast<size_t>(e_ - b_); }
    bool empty() const { return b_ == e_; }
    bool operator==(const std::vector<size_t>& v) const {
      return std::equal(b_, e_, v.begin(), v.end());
    }

   private:
    const size_t* b_;
    const size_t* e_;
  };

  /// Builds the graph of `catalog` (indices are positions in
  /// catalog.resources). Errors, one per line of the message: every cycle
  /// ("site.yaml:3:5: dependency cycle: file[a] (site.yaml:3:5) -> exec[b]
  /// (site.yaml:9:5) -> file[a]", one per strongly connected component), a
  /// `file` with content/source/template and an editing resource on the
  /// same path (naming both places).
  static Result<Graph> Build(const Catalog& catalog, const Registry& registry);

  /// Topological order; among independent resources, manifest order.
  const std::vector<size_t>& order() const { return order_; }
  const std::vector<Edge>& edges() const { return edges_; }
  /// Direct prerequisites of resource i (all edge kinds), ascending.
  Positions deps(size_t i) const { return Run(deps_, deps_at_, i); }
  /// Resources that resource i notifies (notify edges out of i; subscribe
  /// edges into i's subscribers are included), ascending.
  Positions refresh_targets(size_t i) const { return Run(refresh_, refresh_at_, i); }

  /// Resources carrying one of `tags`, plus everything they require,
  /// directly or not. result[i] == true means selected.
  std::vector<bool> SelectTags(const Catalog& catalog, const std::vector<std::string>& tags) const;

  /// Graphviz DOT: solid edges for require/before, dashed "notify" edges
  /// for notify/subscribe, dotted for implicit ones.
  std::string ToDot(const Catalog& catalog) const;

 private:
  std::vector<size_t> order_;
  std::vector<Edge> edges_;
  static Positions Run(const std::vector<size_t>& flat, const std::vector<size_t>& at, size_t i) {
    if (i + 1 >= at.size()) return {nullptr, nullptr};
    return {flat.data() + at[i], flat.data() + at[i + 1]};
  }
  // Flat (compressed sparse row): resource i's are flat[at[i]..at[i+1]).
  std::vector<size_t> deps_, deps_at_;
  std::vector<size_t> refresh_, refresh_at_;
};

}  // namespace keel
