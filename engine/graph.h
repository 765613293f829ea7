// The resource graph (the only Boost.Graph user): explicit edges from
// metaparameters, implicit edges of SPEC 5, a deterministic topological
// order, cycle reporting and Graphviz output.
#pragma once

#include <string>
#include <vector>

#include "engine/catalog.h"
#include "engine/registry.h"
#include "engine/result.h"

namespace keel {

enum class EdgeKind { kRequire, kNotify, kImplicit };

struct Edge {
  size_t from;  // converges first
  size_t to;
  EdgeKind kind;
};

class Graph {
 public:
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
  /// Direct prerequisites of resource i (all edge kinds).
  const std::vector<size_t>& deps(size_t i) const { return deps_[i]; }
  /// Resources that resource i notifies (notify edges out of i; subscribe
  /// edges into i's subscribers are included).
  const std::vector<size_t>& refresh_targets(size_t i) const { return refresh_[i]; }

  /// Resources carrying one of `tags`, plus everything they require,
  /// directly or not. result[i] == true means selected.
  std::vector<bool> SelectTags(const Catalog& catalog, const std::vector<std::string>& tags) const;

  /// Graphviz DOT: solid edges for require/before, dashed "notify" edges
  /// for notify/subscribe, dotted for implicit ones.
  std::string ToDot(const Catalog& catalog) const;

 private:
  std::vector<size_t> order_;
  std::vector<Edge> edges_;
  std::vector<std::vector<size_t>> deps_;
  std::vector<std::vector<size_t>> refresh_;
};

}  // namespace keel
