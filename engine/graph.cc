// The resource graph over a Boost.Graph adjacency_list (setS out-edges: at
// most one edge per ordered pair; its kind is the strongest one declared).
#include "engine/graph.h"

#include <algorithm>
#include <boost/graph/adjacency_list.hpp>
#include <boost/graph/strong_components.hpp>
#include <functional>
#include <queue>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

namespace keel {
namespace {

struct EdgeProp {
  size_t index = 0;  // into Store::edges
};

using BGraph = boost::adjacency_list<boost::setS, boost::vecS, boost::bidirectionalS,
                                     boost::no_property, EdgeProp>;

int Strength(EdgeKind k) {
  switch (k) {
    case EdgeKind::kNotify:
      return 2;
    case EdgeKind::kRequire:
      return 1;
    case EdgeKind::kImplicit:
      return 0;
  }
  return 0;
}

// The boost graph plus the edge list in insertion order.
struct Store {
  explicit Store(size_t n) : g(n) {}
  BGraph g;
  std::vector<Edge> edges;

  bool Has(size_t from, size_t to) const { return boost::edge(from, to, g).second; }
  void Add(size_t from, size_t to, EdgeKind kind) {
    auto [e, found] = boost::edge(from, to, g);
    if (found) {
      Edge& existing = edges[g[e].index];
      if (Strength(kind) > Strength(existing.kind)) existing.kind = kind;
      return;
    }
    boost::add_edge(from, to, EdgeProp{edges.size()}, g);
    edges.push_back({from, to, kind});
  }
};

// Kahn's algorithm with a min-heap on manifest index: among resources
// ready at the same time, the one declared first goes first. Returns the
// partial order when there is a cycle (size < n).
std::vector<size_t> TopoOrder(const BGraph& g) {
  size_t n = boost::num_vertices(g);
  std::vector<size_t> indeg(n);
  for (size_t v = 0; v < n; ++v) indeg[v] = boost::in_degree(v, g);
  std::priority_queue<size_t, std::vector<size_t>, std::greater<>> ready;
  for (size_t v = 0; v < n; ++v)
    if (indeg[v] == 0) ready.push(v);
  std::vector<size_t> order;
  order.reserve(n);
  while (!ready.empty()) {
    size_t v = ready.top();
    ready.pop();
    order.push_back(v);
    for (auto [it, end] = boost::out_edges(v, g); it != end; ++it) {
      size_t w = boost::target(*it, g);
      if (--indeg[w] == 0) ready.push(w);
    }
  }
  return order;
}

// A cycle among the resources Kahn could not order. Every such resource
// has a predecessor that is also unordered, so walking predecessors must
// come back to a resource already seen: that loop is a real cycle. It is
// returned in edge direction, starting at its lowest manifest index.
std::vector<size_t> FindCycle(const BGraph& g, const std::vector<size_t>& partial) {
  size_t n = boost::num_vertices(g);
  std::vector<bool> ordered(n, false);
  for (size_t v : partial) ordered[v] = true;
  size_t start = 0;
  while (start < n && ordered[start]) ++start;
  if (start == n) return {};
  std::vector<size_t> walk;
  std::vector<long> seen_at(n, -1);
  size_t v = start;
  while (seen_at[v] < 0) {
    seen_at[v] = static_cast<long>(walk.size());
    walk.push_back(v);
    size_t best = n;
    for (auto [it, end] = boost::in_edges(v, g); it != end; ++it) {
      size_t u = boost::source(*it, g);
      if (!ordered[u]) best = std::min(best, u);
    }
    if (best == n) return {};  // cannot happen: v would have been ordered
    v = best;
  }
  // walk[seen_at[v]..] follows edges backwards.
  std::vector<size_t> cycle(walk.begin() + seen_at[v], walk.end());
  std::reverse(cycle.begin(), cycle.end());
  auto lowest = std::min_element(cycle.begin(), cycle.end());
  std::rotate(cycle.begin(), lowest, cycle.end());
  return cycle;
}

// Whether `to` is reachable from `from` (iterative DFS).
bool Reaches(const BGraph& g, size_t from, size_t to) {
  if (from == to) return true;
  std::vector<bool> seen(boost::num_vertices(g), false);
  std::vector<size_t> stack{from};
  seen[from] = true;
  while (!stack.empty()) {
    size_t v = stack.back();
    stack.pop_back();
    for (auto [it, end] = boost::out_edges(v, g); it != end; ++it) {
      size_t w = boost::target(*it, g);
      if (w == to) return true;
      if (!seen[w]) {
        seen[w] = true;
        stack.push_back(w);
      }
    }
  }
  return false;
}

std::string NormalizePath(std::string p) {
  while (p.size() > 1 && p.back() == '/') p.pop_back();
  return p;
}

// "/a/b/c" -> "/a/b" -> "/a" -> "/"; "" after "/".
std::string Parent(const std::string& p) {
  if (p == "/" || p.empty()) return "";
  size_t slash = p.rfind('/');
  if (slash == std::string::npos) return "";
  return slash == 0 ? "/" : p.substr(0, slash);
}

// Paths a resource writes: its type's hook.
std::vector<std::string> WrittenPaths(const Resource& r, const TypeInfo* type) {
  std::vector<std::string> out;
  if (type && type->paths)
    for (auto& p : type->paths(r)) out.push_back(NormalizePath(p));
  return out;
}

bool OwnsContent(const Resource& r, const TypeInfo& type) {
  for (const auto& a : type.content_attrs)
    if (r.Has(a)) return true;
  return false;
}

std::string Where(const Resource& r) {
  return r.loc.file.empty() ? r.id() : r.id() + " (" + r.loc.str() + ")";
}

// "site.yaml:3:5: dependency cycle: file[a] (site.yaml:3:5) -> exec[b]
// (site.yaml:5:5) -> file[a]": the place of its first resource, then each
// resource with its place.
std::string CycleMessage(const Catalog& catalog, const std::vector<size_t>& cycle) {
  if (cycle.empty()) return "dependency cycle";
  const Resource& first = catalog.resources[cycle.front()];
  std::string msg = first.loc.file.empty() ? "" : first.loc.str() + ": ";
  msg += "dependency cycle: ";
  for (size_t v : cycle) msg += Where(catalog.resources[v]) + " -> ";
  msg += first.id();
  return msg;
}

// One cycle per strongly connected component that has one (every cycle
// of the graph lies inside one), in manifest order of their first resource.
std::vector<std::string> AllCycles(const Catalog& catalog, const BGraph& g) {
  const size_t n = boost::num_vertices(g);
  std::vector<int> comp(n);
  const int count = boost::strong_components(g, comp.data());
  std::vector<size_t> size(static_cast<size_t>(count));
  for (size_t v = 0; v < n; ++v) ++size[static_cast<size_t>(comp[v])];
  std::vector<std::vector<size_t>> cycles;
  std::vector<bool> done(static_cast<size_t>(count), false);
  for (size_t v = 0; v < n; ++v) {
    const size_t c = static_cast<size_t>(comp[v]);
    if (done[c]) continue;
    if (size[c] == 1 && !boost::edge(v, v, g).second) continue;
    done[c] = true;
    std::vector<size_t> outside;  // FindCycle's "ordered" set: all but this component
    for (size_t w = 0; w < n; ++w)
      if (static_cast<size_t>(comp[w]) != c) outside.push_back(w);
    std::vector<size_t> cycle = FindCycle(g, outside);
    if (!cycle.empty()) cycles.push_back(std::move(cycle));
  }
  std::sort(cycles.begin(), cycles.end(),
            [](const auto& a, const auto& b) { return a.front() < b.front(); });
  std::vector<std::string> out;
  for (const auto& cy : cycles) out.push_back(CycleMessage(catalog, cy));
  return out;
}

std::string DotQuote(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        break;
      default:
        out += c;
    }
  }
  return out + "\"";
}

}  // namespace

Result<Graph> Graph::Build(const Catalog& catalog, const Registry& registry) {
  const auto& rs = catalog.resources;
  const size_t n = rs.size();
  auto lookup = [&](const RefAt& ref) -> Result<size_t> {
    auto it = catalog.index.find(ref.ref.str());
    if (it == catalog.index.end() || it->second >= n)
      return MakeError(ErrorCode::kInvalid, (ref.loc.file.empty() ? "" : ref.loc.str() + ": ") +
                                                "unknown resource " + ref.ref.str() +
                                                " in a reference");
    return it->second;
  };

  // Explicit edges, from the metaparameters.
  Store store(n);
  std::vector<std::string> problems;
  for (size_t i = 0; i < n; ++i) {
    const Resource& r = rs[i];
    auto each = [&](const std::vector<RefAt>& refs, auto add) {
      for (const RefAt& ref : refs) {
        auto j = lookup(ref);
        if (!j.ok()) {
          problems.push_back(j.error().message);
          continue;
        }
        add(*j);
      }
    };
    each(r.require, [&](size_t j) { store.Add(j, i, EdgeKind::kRequire); });
    each(r.before, [&](size_t j) { store.Add(i, j, EdgeKind::kRequire); });
    each(r.notify, [&](size_t j) { store.Add(i, j, EdgeKind::kNotify); });
    each(r.subscribe, [&](size_t j) { store.Add(j, i, EdgeKind::kNotify); });
  }

  // Resources holding paths (files, directories) by path; the "two
  // owners" rule.
  std::vector<const TypeInfo*> types(n);
  std::vector<std::vector<std::string>> written(n);
  std::unordered_map<std::string, std::vector<size_t>> files_by_path;
  std::unordered_map<std::string, size_t> content_owner;
  for (size_t i = 0; i < n; ++i) {
    types[i] = registry.Find(rs[i].type());
    written[i] = WrittenPaths(rs[i], types[i]);
    if (!types[i] || !types[i]->holds_paths) continue;
    const bool owns = OwnsContent(rs[i], *types[i]);
    for (const std::string& path : written[i]) {
      files_by_path[path].push_back(i);
      if (owns) content_owner.emplace(path, i);
    }
  }
  for (size_t i = 0; i < n; ++i) {
    if (!types[i] || !types[i]->edits_file) continue;
    for (const std::string& p : written[i]) {
      auto it = content_owner.find(p);
      if (it == content_owner.end() || it->second == i) continue;
      problems.push_back("two owners of " + p + ": " + Where(rs[it->second]) + " and " +
                         Where(rs[i]));
    }
  }
  if (!problems.empty()) {
    std::string msg;
    for (const auto& p : problems) msg += (msg.empty() ? "" : "\n") + p;
    return MakeError(
        problems.front().rfind("two owners", 0) == 0 ? ErrorCode::kConflict : ErrorCode::kInvalid,
        msg);
  }

  std::vector<size_t> explicit_order = TopoOrder(store.g);
  if (explicit_order.size() < n) {
    std::string msg;
    for (const auto& c : AllCycles(catalog, store.g)) msg += (msg.empty() ? "" : "\n") + c;
    if (msg.empty()) msg = CycleMessage(catalog, FindCycle(store.g, explicit_order));
    return MakeError(ErrorCode::kInvalid, msg);
  }

  // Implicit edges (from the types' registration): resources holding a
  // path a resource writes or uses, or one of its parent directories (a
  // file, a directory); requires_same_name (a package before the service
  // of its name). Holders are found by hashing each ancestor, never by
  // scanning.
  std::vector<Edge> candidates;
  auto candidate = [&](size_t from, size_t to) {
    if (from != to && !store.Has(from, to)) candidates.push_back({from, to, EdgeKind::kImplicit});
  };
  // Resources by type and name, for requires_same_name.
  std::unordered_map<std::string, size_t> by_name;  // type '\0' name -> index
  auto name_key = [](const std::string& type, const std::string& name) {
    std::string key = type;
    key += '\0';
    return key + name;
  };
  std::unordered_set<std::string> required_types;
  for (const TypeInfo* t : types)
    if (t) required_types.insert(t->requires_same_name.begin(), t->requires_same_name.end());
  for (size_t i = 0; i < n; ++i) {
    if (!required_types.count(rs[i].type())) continue;
    by_name.emplace(name_key(rs[i].type(), rs[i].title()), i);
    by_name.emplace(name_key(rs[i].type(), rs[i].GetString("name", rs[i].title())), i);
  }
  for (size_t i = 0; i < n; ++i) {
    std::vector<std::string> paths = written[i];
    if (types[i] && types[i]->uses)
      for (auto& p : types[i]->uses(rs[i])) paths.push_back(NormalizePath(p));
    for (const std::string& p : paths) {
      if (p.empty() || p[0] != '/') continue;
      for (std::string q = p; !q.empty(); q = Parent(q)) {
        auto it = files_by_path.find(q);
        if (it == files_by_path.end()) continue;
        for (size_t f : it->second) candidate(f, i);
      }
    }
    if (!types[i]) continue;
    for (const std::string& required : types[i]->requires_same_name) {
      auto it = by_name.find(name_key(required, rs[i].title()));
      if (it == by_name.end())
        it = by_name.find(name_key(required, rs[i].GetString("name", rs[i].title())));
      if (it != by_name.end()) candidate(it->second, i);
    }
  }

  // An implicit edge never overrides an explicit one: one that would close
  // a cycle is dropped. Fast path: all of them together are acyclic.
  Graph graph;
  const std::vector<Edge> explicit_edges = store.edges;
  for (const Edge& e : candidates) store.Add(e.from, e.to, e.kind);
  std::vector<size_t> order = TopoOrder(store.g);
  if (order.size() < n) {
    // Start again from the explicit edges. Implicit edges that agree with
    // the explicit order are safe together; the others are checked one by one.
    store = Store(n);
    for (const Edge& e : explicit_edges) store.Add(e.from, e.to, e.kind);
    std::vector<size_t> pos(n);
    for (size_t k = 0; k < n; ++k) pos[explicit_order[k]] = k;
    std::vector<Edge> backward;
    for (const Edge& e : candidates) {
      if (pos[e.from] < pos[e.to])
        store.Add(e.from, e.to, e.kind);
      else
        backward.push_back(e);
    }
    for (const Edge& e : backward)
      if (!Reaches(store.g, e.to, e.from)) store.Add(e.from, e.to, e.kind);
    order = TopoOrder(store.g);
    if (order.size() < n)  // cannot happen: every added edge was checked
      return MakeError(ErrorCode::kInternal, CycleMessage(catalog, FindCycle(store.g, order)));
  }

  graph.order_ = std::move(order);
  graph.edges_ = std::move(store.edges);
  graph.deps_.assign(n, {});
  graph.refresh_.assign(n, {});
  for (const Edge& e : graph.edges_) {
    graph.deps_[e.to].push_back(e.from);
    if (e.kind == EdgeKind::kNotify) graph.refresh_[e.from].push_back(e.to);
  }
  for (size_t i = 0; i < n; ++i) {
    std::sort(graph.deps_[i].begin(), graph.deps_[i].end());
    std::sort(graph.refresh_[i].begin(), graph.refresh_[i].end());
  }
  return graph;
}

std::vector<bool> Graph::SelectTags(const Catalog& catalog,
                                    const std::vector<std::string>& tags) const {
  const size_t n = catalog.resources.size();
  std::vector<bool> selected(n, false);
  std::vector<size_t> stack;
  for (size_t i = 0; i < n; ++i) {
    const auto& rt = catalog.resources[i].tags;
    bool hit = std::any_of(rt.begin(), rt.end(), [&](const std::string& t) {
      return std::find(tags.begin(), tags.end(), t) != tags.end();
    });
    if (hit) {
      selected[i] = true;
      stack.push_back(i);
    }
  }
  while (!stack.empty()) {
    size_t v = stack.back();
    stack.pop_back();
    if (v >= deps_.size()) continue;
    for (size_t d : deps_[v]) {
      if (!selected[d]) {
        selected[d] = true;
        stack.push_back(d);
      }
    }
  }
  return selected;
}

std::string Graph::ToDot(const Catalog& catalog) const {
  std::string out = "digraph keel {\n  rankdir=LR;\n  node [shape=box, fontname=\"monospace\"];\n";
  for (size_t v : order_) {
    std::string id = DotQuote(catalog.resources[v].id());
    out += "  " + id + " [label=" + id + "];\n";
  }
  for (const Edge& e : edges_) {
    out += "  " + DotQuote(catalog.resources[e.from].id()) + " -> " +
           DotQuote(catalog.resources[e.to].id());
    switch (e.kind) {
      case EdgeKind::kRequire:
        out += " [style=solid]";
        break;
      case EdgeKind::kNotify:
        out += " [style=dashed, label=\"notify\"]";
        break;
      case EdgeKind::kImplicit:
        out += " [style=dotted]";
        break;
    }
    out += ";\n";
  }
  out += "}\n";
  return out;
}

}  // namespace keel
