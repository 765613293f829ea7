// The resource graph: at most one edge per ordered pair (its kind is the
// strongest one declared); Boost.Graph's strong components name the cycles.
#include "engine/graph.h"

#include <algorithm>
#include <boost/graph/compressed_sparse_row_graph.hpp>
#include <boost/graph/strong_components.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <queue>
#include <span>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

namespace keel {
namespace {

// The out-edges of each resource (positions) in compressed sparse row
// form: the targets of v are targets[begin[v]..begin[v+1]). Boost's
// adjacency_list with an edge property allocates that property per edge
// (and setS a tree node per edge): at 100,000 resources it was ~48 MB;
// this is 4 bytes per edge and per resource.
struct Adjacency {
  std::vector<uint32_t> begin;  // n + 1
  std::vector<uint32_t> targets;
  size_t size() const { return begin.empty() ? 0 : begin.size() - 1; }
  struct Range {
    const uint32_t* b;
    const uint32_t* e;
    const uint32_t* begin() const { return b; }
    const uint32_t* end() const { return e; }
  };
  Range operator[](size_t v) const {
    return {targets.data() + begin[v], targets.data() + begin[v + 1]};
  }
};

Adjacency MakeAdjacency(size_t n, const std::vector<Edge>& edges) {
  Adjacency a;
  a.begin.assign(n + 1, 0);
  for (const Edge& e : edges) ++a.begin[e.from + 1];
  for (size_t v = 0; v < n; ++v) a.begin[v + 1] += a.begin[v];
  a.targets.resize(edges.size());
  std::vector<uint32_t> fill(a.begin.begin(), a.begin.end() - 1);
  for (const Edge& e : edges) a.targets[fill[e.from]++] = static_cast<uint32_t>(e.to);
  return a;
}

// Characters of many short strings, in chunks that never move: a view
// handed out stays valid while more are added.
class PathChars {
 public:
  std::string_view Add(std::string_view s) {
    if (s.size() > room_) {
      const size_t size = std::max(s.size(), kChunk);
      chunks_.push_back(std::make_unique<char[]>(size));
      next_ = chunks_.back().get();
      room_ = size;
    }
    std::copy(s.begin(), s.end(), next_);
    std::string_view added(next_, s.size());
    next_ += s.size();
    room_ -= s.size();
    return added;
  }

 private:
  static constexpr size_t kChunk = 64 * 1024;
  std::vector<std::unique_ptr<char[]>> chunks_;
  char* next_ = nullptr;
  size_t room_ = 0;
};

// Out-edges that grow one by one (the slow path of Build only).
using DynamicAdjacency = std::vector<std::vector<uint32_t>>;

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

uint32_t PairHash(size_t from, size_t to) {
  uint64_t k = (static_cast<uint64_t>(from) << 32) ^ static_cast<uint64_t>(to);
  k *= 0x9E3779B97F4A7C15ULL;
  return static_cast<uint32_t>(k >> 32);
}

// The edges in insertion order, at most one per ordered pair (its kind is
// the strongest one declared), and the adjacency they make.
struct Store {
  std::vector<Edge> edges;
  PositionIndex pairs;  // (from, to) -> position in edges

  std::optional<size_t> Find(size_t from, size_t to) const {
    return pairs.Find(PairHash(from, to),
                      [&](size_t e) { return edges[e].from == from && edges[e].to == to; });
  }
  bool Has(size_t from, size_t to) const { return Find(from, to).has_value(); }
  void Add(size_t from, size_t to, EdgeKind kind) {
    if (auto e = Find(from, to)) {
      Edge& existing = edges[*e];
      if (Strength(kind) > Strength(existing.kind)) existing.kind = kind;
      return;
    }
    pairs.Insert(PairHash(from, to), edges.size());
    edges.push_back({static_cast<uint32_t>(from), static_cast<uint32_t>(to), kind});
  }
};

// Kahn's algorithm with a min-heap on manifest index: among resources
// ready at the same time, the one declared first goes first. Returns the
// partial order when there is a cycle (size < n).
std::vector<size_t> TopoOrder(const Adjacency& out) {
  const size_t n = out.size();
  std::vector<uint32_t> indeg(n, 0);
  for (uint32_t w : out.targets) ++indeg[w];
  std::priority_queue<size_t, std::vector<size_t>, std::greater<>> ready;
  for (size_t v = 0; v < n; ++v)
    if (indeg[v] == 0) ready.push(v);
  std::vector<size_t> order;
  order.reserve(n);
  while (!ready.empty()) {
    size_t v = ready.top();
    ready.pop();
    order.push_back(v);
    for (uint32_t w : out[v])
      if (--indeg[w] == 0) ready.push(w);
  }
  return order;
}

// A cycle among the resources Kahn could not order. Every such resource
// has a predecessor that is also unordered, so walking predecessors must
// come back to a resource already seen: that loop is a real cycle. It is
// returned in edge direction, starting at its lowest manifest index.
std::vector<size_t> FindCycle(const Adjacency& out, const std::vector<size_t>& partial) {
  const size_t n = out.size();
  std::vector<bool> ordered(n, false);
  for (size_t v : partial) ordered[v] = true;
  size_t start = 0;
  while (start < n && ordered[start]) ++start;
  if (start == n) return {};
  // The lowest unordered predecessor of each resource (error path only).
  std::vector<size_t> pred(n, n);
  for (size_t u = 0; u < n; ++u)
    if (!ordered[u])
      for (uint32_t w : out[u]) pred[w] = std::min(pred[w], u);
  std::vector<size_t> walk;
  std::vector<long> seen_at(n, -1);
  size_t v = start;
  while (seen_at[v] < 0) {
    seen_at[v] = static_cast<long>(walk.size());
    walk.push_back(v);
    if (pred[v] == n) return {};  // cannot happen: v would have been ordered
    v = pred[v];
  }
  // walk[seen_at[v]..] follows edges backwards.
  std::vector<size_t> cycle(walk.begin() + seen_at[v], walk.end());
  std::reverse(cycle.begin(), cycle.end());
  auto lowest = std::min_element(cycle.begin(), cycle.end());
  std::rotate(cycle.begin(), lowest, cycle.end());
  return cycle;
}

// Whether `to` is reachable from `from` (iterative DFS).
bool Reaches(const DynamicAdjacency& out, size_t from, size_t to) {
  if (from == to) return true;
  std::vector<bool> seen(out.size(), false);
  std::vector<size_t> stack{from};
  seen[from] = true;
  while (!stack.empty()) {
    size_t v = stack.back();
    stack.pop_back();
    for (uint32_t w : out[v]) {
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
std::string_view Parent(std::string_view p) {
  if (p == "/" || p.empty()) return {};
  size_t slash = p.rfind('/');
  if (slash == std::string_view::npos) return {};
  return slash == 0 ? p.substr(0, 1) : p.substr(0, slash);
}

bool OwnsContent(const Resource& r, const TypeInfo& type) {
  for (const auto& a : type.content_attrs)
    if (r.Has(a)) return true;
  return false;
}

std::string Where(const Resource& r) {
  return r.loc.file().empty() ? r.id() : r.id() + " (" + r.loc.str() + ")";
}

// "site.yaml:3:5: dependency cycle: file[a] (site.yaml:3:5) -> exec[b]
// (site.yaml:5:5) -> file[a]": the place of its first resource, then each
// resource with its place.
std::string CycleMessage(const Catalog& catalog, const std::vector<size_t>& cycle) {
  if (cycle.empty()) return "dependency cycle";
  const Resource& first = catalog.resources[cycle.front()];
  std::string msg = first.loc.file().empty() ? "" : first.loc.str() + ": ";
  msg += "dependency cycle: ";
  for (size_t v : cycle) msg += Where(catalog.resources[v]) + " -> ";
  msg += first.id();
  return msg;
}

// One cycle per strongly connected component that has one (every cycle
// of the graph lies inside one), in manifest order of their first resource.
std::vector<std::string> AllCycles(const Catalog& catalog, const Adjacency& out) {
  const size_t n = out.size();
  // Boost's strongly connected components over a compressed sparse row
  // copy of the edges (built on this error path only).
  std::vector<std::pair<size_t, size_t>> pairs;
  for (size_t v = 0; v < n; ++v)
    for (uint32_t w : out[v]) pairs.emplace_back(v, w);
  const boost::compressed_sparse_row_graph<boost::directedS> g(boost::edges_are_unsorted_multi_pass,
                                                               pairs.begin(), pairs.end(), n);
  std::vector<int> comp(n);
  const int count = boost::strong_components(
      g, boost::make_iterator_property_map(comp.begin(), boost::get(boost::vertex_index, g)));
  std::vector<size_t> size(static_cast<size_t>(count));
  for (size_t v = 0; v < n; ++v) ++size[static_cast<size_t>(comp[v])];
  std::vector<std::vector<size_t>> cycles;
  std::vector<bool> done(static_cast<size_t>(count), false);
  for (size_t v = 0; v < n; ++v) {
    const size_t c = static_cast<size_t>(comp[v]);
    if (done[c]) continue;
    if (size[c] == 1 && std::find(out[v].begin(), out[v].end(), v) == out[v].end()) continue;
    done[c] = true;
    std::vector<size_t> outside;  // FindCycle's "ordered" set: all but this component
    for (size_t w = 0; w < n; ++w)
      if (static_cast<size_t>(comp[w]) != c) outside.push_back(w);
    std::vector<size_t> cycle = FindCycle(out, outside);
    if (!cycle.empty()) cycles.push_back(std::move(cycle));
  }
  std::sort(cycles.begin(), cycles.end(),
            [](const auto& a, const auto& b) { return a.front() < b.front(); });
  std::vector<std::string> messages;
  for (const auto& cy : cycles) messages.push_back(CycleMessage(catalog, cy));
  return messages;
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
  if (n >= UINT32_MAX)  // Edge holds 32-bit positions
    return MakeError(ErrorCode::kInvalid,
                     "a catalog of " + std::to_string(n) + " resources is too large for one run");
  auto lookup = [&](const RefAt& ref, const Resource& holder) -> Result<size_t> {
    auto pos = catalog.Position(ref.type(), ref.title());
    if (!pos || *pos >= n) {
      SourceLoc loc = ref.Loc(holder.loc.file());
      return MakeError(ErrorCode::kInvalid, (loc.file.empty() ? "" : loc.str() + ": ") +
                                                "unknown resource " + ref.str() +
                                                " in a reference");
    }
    return *pos;
  };

  // Explicit edges, from the metaparameters.
  Store store;
  size_t declared = 0;  // explicit edges at most; implicit ones are about one per resource
  for (const Resource& r : rs)
    declared += r.require.size() + r.before.size() + r.notify.size() + r.subscribe.size();
  store.edges.reserve(declared + n);
  std::vector<std::string> problems;
  for (size_t i = 0; i < n; ++i) {
    const Resource& r = rs[i];
    auto each = [&](const CompactVec<RefAt>& refs, auto add) {
      for (const RefAt& ref : refs) {
        auto j = lookup(ref, r);
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
  // The paths each resource writes (its type's hook), flat: resource i's
  // are written[written_at[i]..written_at[i+1]), views into chunks of
  // their characters (a std::string each was 80 bytes a path, 8 MB at
  // 100,000 resources, at the run's peak).
  std::vector<const TypeInfo*> types(n);
  PathChars written_chars;
  std::vector<std::string_view> written;
  std::vector<size_t> written_at(n + 1, 0);
  written.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    types[i] = registry.Find(rs[i].type());
    if (types[i] && types[i]->paths)
      for (auto& p : types[i]->paths(rs[i]))
        written.push_back(written_chars.Add(NormalizePath(std::move(p))));
    written_at[i + 1] = written.size();
  }
  auto written_by = [&](size_t i) {
    return std::span<const std::string_view>(written.data() + written_at[i],
                                             written_at[i + 1] - written_at[i]);
  };
  // The resources holding each path, in manifest order: a chain through
  // `holders` from the path's first to its last, and the first of them
  // that owns the path's content (kNone: none).
  struct Holder {
    uint32_t resource;
    uint32_t next;  // kNone: the path's last
  };
  constexpr uint32_t kNone = UINT32_MAX;
  struct PathHolders {
    uint32_t first, last, owner;
  };
  std::vector<Holder> holders;
  std::unordered_map<std::string_view, PathHolders> files_by_path;
  for (size_t i = 0; i < n; ++i) {
    if (!types[i] || !types[i]->holds_paths) continue;
    const bool owns = OwnsContent(rs[i], *types[i]);
    for (std::string_view path : written_by(i)) {
      const auto h = static_cast<uint32_t>(holders.size());
      holders.push_back({static_cast<uint32_t>(i), kNone});
      auto [it, fresh] = files_by_path.try_emplace(path, PathHolders{h, h, kNone});
      if (!fresh) {
        holders[it->second.last].next = h;
        it->second.last = h;
      }
      if (owns && it->second.owner == kNone) it->second.owner = static_cast<uint32_t>(i);
    }
  }
  for (size_t i = 0; i < n; ++i) {
    if (!types[i] || !types[i]->edits_file) continue;
    for (std::string_view p : written_by(i)) {
      auto it = files_by_path.find(p);
      if (it == files_by_path.end() || it->second.owner == kNone || it->second.owner == i) continue;
      problems.push_back("two owners of " + std::string(p) + ": " + Where(rs[it->second.owner]) +
                         " and " + Where(rs[i]));
    }
  }
  if (!problems.empty()) {
    std::string msg;
    for (const auto& p : problems) msg += (msg.empty() ? "" : "\n") + p;
    return MakeError(
        problems.front().rfind("two owners", 0) == 0 ? ErrorCode::kConflict : ErrorCode::kInvalid,
        msg);
  }

  std::vector<size_t> explicit_order = TopoOrder(MakeAdjacency(n, store.edges));
  if (explicit_order.size() < n) {
    const Adjacency out = MakeAdjacency(n, store.edges);
    std::string msg;
    for (const auto& c : AllCycles(catalog, out)) msg += (msg.empty() ? "" : "\n") + c;
    if (msg.empty()) msg = CycleMessage(catalog, FindCycle(out, explicit_order));
    return MakeError(ErrorCode::kInvalid, msg);
  }

  // Implicit edges (from the types' registration): resources holding a
  // path a resource writes or uses, or one of its parent directories (a
  // file, a directory); requires_same_name (a package before the service
  // of its name). Holders are found by hashing each ancestor, never by
  // scanning.
  std::vector<Edge> candidates;
  auto candidate = [&](size_t from, size_t to) {
    if (from != to && !store.Has(from, to))
      candidates.push_back(
          {static_cast<uint32_t>(from), static_cast<uint32_t>(to), EdgeKind::kImplicit});
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
    auto held = [&](std::string_view p) {  // the path and each of its parents
      if (p.empty() || p[0] != '/') return;
      for (std::string_view q = p; !q.empty(); q = Parent(q)) {
        auto it = files_by_path.find(q);
        if (it == files_by_path.end()) continue;
        for (uint32_t h = it->second.first; h != kNone; h = holders[h].next)
          candidate(holders[h].resource, i);
      }
    };
    for (std::string_view p : written_by(i)) held(p);
    if (types[i] && types[i]->uses)
      for (auto& p : types[i]->uses(rs[i])) held(NormalizePath(std::move(p)));
    if (!types[i]) continue;
    for (const std::string& required : types[i]->requires_same_name) {
      auto it = by_name.find(name_key(required, rs[i].title()));
      if (it == by_name.end())
        it = by_name.find(name_key(required, rs[i].GetString("name", rs[i].title())));
      if (it != by_name.end()) candidate(it->second, i);
    }
  }

  // The paths are not needed any more: freed before the edges grow.
  files_by_path = {};
  holders = {};
  written = {};
  written_chars = PathChars();
  written_at = {};

  // An implicit edge never overrides an explicit one: one that would close
  // a cycle is dropped. Fast path: all of them together are acyclic.
  Graph graph;
  // The explicit edges are store.edges' first ones: an implicit edge is
  // appended, or finds one already there (it never changes its kind).
  const size_t explicit_count = store.edges.size();
  for (const Edge& e : candidates) store.Add(e.from, e.to, e.kind);
  std::vector<size_t> order = TopoOrder(MakeAdjacency(n, store.edges));
  if (order.size() < n) {
    // Start again from the explicit edges. Implicit edges that agree with
    // the explicit order are safe together; the others are checked one by one.
    std::vector<Edge> explicit_edges(store.edges.begin(),
                                     store.edges.begin() + static_cast<long>(explicit_count));
    store = Store();
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
    DynamicAdjacency out(n);
    for (const Edge& e : store.edges) out[e.from].push_back(static_cast<uint32_t>(e.to));
    for (const Edge& e : backward) {
      if (Reaches(out, e.to, e.from)) continue;
      const size_t had = store.edges.size();
      store.Add(e.from, e.to, e.kind);
      if (store.edges.size() > had) out[e.from].push_back(static_cast<uint32_t>(e.to));
    }
    order = TopoOrder(MakeAdjacency(n, store.edges));
    if (order.size() < n)  // cannot happen: every added edge was checked
      return MakeError(ErrorCode::kInternal,
                       CycleMessage(catalog, FindCycle(MakeAdjacency(n, store.edges), order)));
  }

  graph.order_ = std::move(order);
  graph.edges_ = std::move(store.edges);
  // deps: every edge by its target; refresh: notify edges by their source.
  auto flatten = [n](const std::vector<Edge>& edges, bool notify_only, bool by_target,
                     std::vector<size_t>& flat, std::vector<size_t>& at) {
    at.assign(n + 1, 0);
    for (const Edge& e : edges)
      if (!notify_only || e.kind == EdgeKind::kNotify) ++at[(by_target ? e.to : e.from) + 1];
    for (size_t v = 0; v < n; ++v) at[v + 1] += at[v];
    flat.resize(at[n]);
    std::vector<size_t> fill(at.begin(), at.end() - 1);
    for (const Edge& e : edges)
      if (!notify_only || e.kind == EdgeKind::kNotify)
        flat[fill[by_target ? e.to : e.from]++] = by_target ? e.from : e.to;
    for (size_t v = 0; v < n; ++v)
      std::sort(flat.begin() + static_cast<long>(at[v]),
                flat.begin() + static_cast<long>(at[v + 1]));
  };
  flatten(graph.edges_, false, true, graph.deps_, graph.deps_at_);
  flatten(graph.edges_, true, false, graph.refresh_, graph.refresh_at_);
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
    for (size_t d : deps(v)) {
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
