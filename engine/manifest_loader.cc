// YAML manifests -> Catalog (SPEC 2). See manifest_loader.h for the contract.
//
// Loading runs in phases so that every variable is known before any
// resource is interpolated:
//   1. parse the entry manifest (top-level keys, its `vars`);
//   2. read the `hierarchy` files (paths interpolated with facts, --var and
//      the entry manifest's vars);
//   3. walk `include` depth first (paths and `when` see the variables known
//      so far: --var, hierarchy, and the `vars` of manifests already loaded);
//   4. resolve the variables: for each name the winning definition
//      (--var > first hierarchy file > `vars`); a value may use facts and
//      other variables, interpolated in dependency order;
//   5. build the resources of every manifest, in manifest order (a file's
//      includes come before its own resources when `include` is written
//      before `resources`, after them otherwise; a file is loaded once);
//   6. resolve references.
// Errors are collected in the order found; no phase stops the others except
// when the entry manifest cannot be read or parsed.
#include "engine/manifest_loader.h"

#include <glob.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <set>
#include <sstream>
#include <string_view>
#include <unordered_map>
#include <unordered_set>

#include "engine/expr.h"
#include "engine/yaml_value.h"

namespace keel {

namespace {

namespace fs = std::filesystem;

constexpr int kMaxDepth = 512;
constexpr size_t kMaxNodesPerValue = 1'000'000;

const char* const kTopLevelKeys[] = {"vars", "hierarchy", "include", "resources"};

bool HasGlobChars(std::string_view p) { return p.find_first_of("*?[") != std::string_view::npos; }

bool HasBraces(std::string_view s) { return s.find("{{") != std::string_view::npos; }

std::string RealPath(const std::string& p) {
  char buf[PATH_MAX];
  if (::realpath(p.c_str(), buf) == nullptr) return "";
  return buf;
}

// "a/b" joined with "c" -> "a/b/c"; an absolute `rel` stays as it is; the
// result is lexically normalised ("./x" -> "x").
std::string JoinDisplay(const std::string& dir, const std::string& rel) {
  fs::path p = fs::path(rel).is_absolute() || dir.empty() ? fs::path(rel) : fs::path(dir) / rel;
  std::string s = p.lexically_normal().string();
  return s.empty() ? std::string(".") : s;
}

std::string DirOf(const std::string& display) { return fs::path(display).parent_path().string(); }

// Manifest basename without .yaml/.yml: the automatic tag.
std::string BaseTag(const std::string& display) {
  std::string base = fs::path(display).filename().string();
  for (std::string_view ext : {".yaml", ".yml"}) {
    if (base.size() > ext.size() && base.compare(base.size() - ext.size(), ext.size(), ext) == 0) {
      base.resize(base.size() - ext.size());
      break;
    }
  }
  return base;
}

bool IsInside(const std::string& path, const std::string& dir) {
  if (path == dir) return true;
  if (dir == "/") return !path.empty() && path[0] == '/';
  return path.size() > dir.size() && path.compare(0, dir.size(), dir) == 0 &&
         path[dir.size()] == '/';
}

using Entry = std::pair<YAML::Node, YAML::Node>;

bool IsMergeKey(const YAML::Node& key) {
  return key.IsScalar() && key.Tag() == "?" && key.Scalar() == "<<";
}

struct Manifest {
  std::string display;    // as shown in messages
  std::string canonical;  // realpath, for cycle and repeat detection
  std::string real_dir;   // realpath of its directory (source/template base)
  std::string text;
  std::string tag;  // basename without .yaml
  bool parsed = false;
  YAML::Node vars, hierarchy, include, resources;
  YAML::Mark hierarchy_mark;
  bool include_first = false;    // `include` written before `resources`
  std::vector<size_t> children;  // manifests this one included, in order
};

// One definition of a variable in `vars` or a hierarchy file. `value` is
// final when `resolved`; otherwise it holds the text still to interpolate
// (the value uses other variables) and `node` is converted again later.
struct VarDef {
  const Manifest* m = nullptr;
  YAML::Node node;
  SourceLoc loc;
  Value value;
  bool resolved = false;
};

class Loader {
 public:
  explicit Loader(const LoadOptions& o) : opts_(o) {}
  LoadResult Run();

 private:
  void Fail(SourceLoc loc, std::string message) {
    if (quiet_) return;
    out_.errors.push_back(LoadError{std::move(loc), std::move(message)});
  }
  SourceLoc Loc(const Manifest& m, const YAML::Mark& mark) const {
    if (mark.is_null()) return SourceLoc{m.display, 0, 0};
    return SourceLoc{m.display, mark.line + 1, mark.column + 1};
  }
  SourceLoc ScalarPlace(const Manifest& m, const YAML::Node& n, std::string_view value,
                        size_t offset) const;

  std::optional<size_t> LoadFile(const std::string& display, const std::string& canonical,
                                 const SourceLoc& from);
  void ReadVars(Manifest& m);
  void ReadHierarchy(const Manifest& entry);
  void WalkIncludes(size_t index, std::vector<size_t>& stack);
  void IncludeEntry(size_t index, const YAML::Node& entry, std::vector<size_t>& stack);
  void Flatten(size_t index, std::vector<size_t>& order) const;
  VarDef DefineVar(const Manifest& m, const YAML::Node& value, SourceLoc loc);
  /// The variables (--var > hierarchy > vars) plus facts. Values that use
  /// other variables are interpolated in dependency order; with `report`,
  /// those that cannot be (undefined names, cycles) are reported.
  Value BuildContext(bool report = false);

  std::vector<Entry> Entries(const Manifest& m, const YAML::Node& map, int depth = 0);
  bool Convert(const Manifest& m, const YAML::Node& n, const Value& ctx, Value& out, int depth,
               size_t& nodes);
  bool ConvertValue(const Manifest& m, const YAML::Node& n, const Value& ctx, Value& out) {
    size_t nodes = 0;
    bool ok = Convert(m, n, ctx, out, 0, nodes);
    if (nodes > kMaxNodesPerValue) {
      Fail(Loc(m, n.Mark()), "value too large or nested too deeply (more than " +
                                 std::to_string(kMaxNodesPerValue) + " nodes or " +
                                 std::to_string(kMaxDepth) + " levels once aliases are expanded)");
      out = Value();
      return false;
    }
    return ok;
  }
  bool EvalWhen(const Manifest& m, const YAML::Node& n, const Value& ctx, bool& keep);
  void ParseRefs(const Manifest& m, const char* meta, const YAML::Node& n,
                 std::vector<RefAt>& refs);
  bool RefsFromValue(const Manifest& m, const char* meta, const Value& v, const SourceLoc& loc,
                     std::vector<RefAt>& refs);
  void Resources(const Manifest& m);
  void Resource1(const Manifest& m, const YAML::Node& entry);
  void CheckDroppedAttrs(const Manifest& m, const TypeInfo& type,
                         const std::vector<Entry>& entries);
  void ResolveFileSources(const Manifest& m, Resource& r);
  void ResolveRefs();

  const LoadOptions& opts_;
  LoadResult out_;
  std::string repo_real_;
  std::vector<std::unique_ptr<Manifest>> manifests_;
  std::unordered_map<std::string, size_t> by_canonical_;

  Value facts_ctx_;  // {facts}: the context of variable values
  Map cli_vars_;
  std::vector<std::pair<std::string, VarDef>> hier_vars_;      // first file wins
  std::vector<std::pair<std::string, VarDef>> manifest_vars_;  // no two values
  std::unordered_map<std::string, size_t> hier_index_, manifest_index_;
  std::vector<std::unique_ptr<Manifest>> data_files_;  // hierarchy files, kept for marks
  size_t vars_version_ = 0, ctx_version_ = static_cast<size_t>(-1);
  Value ctx_cache_;
  int quiet_ = 0;  // >0: Fail() records nothing (trial interpolation)
  Value ctx_;      // the final variables: merged vars + facts

  std::unordered_map<std::string, size_t> identities_;  // type '\0' identity -> index
  std::unordered_map<std::string, SourceLoc> dropped_;  // ref -> where declared (when false)
  std::unordered_set<std::string> broken_;  // refs declared with errors that kept them out
};

// Where offset `offset` of a scalar's value is in the file. Exact for plain
// scalars on one line and for literal blocks (`|`); for quoted scalars exact
// unless escapes or line breaks come before the offset; for folded blocks
// and multi-line plain scalars the line of the scalar's start.
SourceLoc Loader::ScalarPlace(const Manifest& m, const YAML::Node& n, std::string_view value,
                              size_t offset) const {
  YAML::Mark mk = n.Mark();
  SourceLoc loc = Loc(m, mk);
  if (mk.is_null() || mk.pos < 0 || static_cast<size_t>(mk.pos) >= m.text.size()) return loc;
  offset = std::min(offset, value.size());
  char c = m.text[mk.pos];
  if (c == '"' || c == '\'') {
    loc.col += 1 + static_cast<int>(offset);
    return loc;
  }
  if (c == '|' || c == '>') {
    size_t line_start = value.rfind('\n', offset == 0 ? std::string_view::npos : offset - 1);
    line_start = (line_start == std::string_view::npos || offset == 0) ? 0 : line_start + 1;
    int newlines = static_cast<int>(std::count(value.begin(), value.begin() + line_start, '\n'));
    // The block's indentation: that of its first non-blank content line.
    size_t p = m.text.find('\n', mk.pos);
    size_t indent = 0;
    while (p != std::string::npos) {
      ++p;
      indent = 0;
      while (p + indent < m.text.size() && m.text[p + indent] == ' ') ++indent;
      if (p + indent >= m.text.size() || m.text[p + indent] != '\n') break;
      p = p + indent;
    }
    loc.line += 1 + newlines;
    loc.col = static_cast<int>(indent + (offset - line_start)) + 1;
    return loc;
  }
  loc.col += static_cast<int>(offset);
  return loc;
}

std::optional<size_t> Loader::LoadFile(const std::string& display, const std::string& canonical,
                                       const SourceLoc& from) {
  auto m = std::make_unique<Manifest>();
  m->display = display;
  m->canonical = canonical;
  m->real_dir = DirOf(canonical);
  m->tag = BaseTag(display);
  size_t index = manifests_.size();
  by_canonical_[canonical] = index;
  manifests_.push_back(std::move(m));
  Manifest& mf = *manifests_.back();

  std::ifstream in(canonical, std::ios::binary);
  if (!in) {
    Fail(from, "cannot read manifest " + display + ": " + std::strerror(errno));
    return std::nullopt;
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  mf.text = ss.str();

  YAML::Node root;
  try {
    root = YAML::Load(mf.text);
  } catch (const YAML::Exception& e) {
    Fail(Loc(mf, e.mark), "YAML syntax error: " + e.msg);
    return std::nullopt;
  }
  mf.parsed = true;
  if (!root || root.IsNull()) return index;  // an empty manifest declares nothing
  if (!root.IsMap()) {
    Fail(Loc(mf, root.Mark()),
         "a manifest must be a map with the keys vars, hierarchy, include, resources");
    return index;
  }
  std::vector<std::string> keys(std::begin(kTopLevelKeys), std::end(kTopLevelKeys));
  std::set<std::string> seen;
  int include_pos = -1, resources_pos = -1, pos = 0;
  for (const auto& kv : root) {
    ++pos;
    SourceLoc kloc = Loc(mf, kv.first.Mark());
    if (!kv.first.IsScalar()) {
      Fail(kloc, "a top-level key must be one of vars, hierarchy, include, resources");
      continue;
    }
    const std::string& key = kv.first.Scalar();
    if (std::find(keys.begin(), keys.end(), key) == keys.end()) {
      std::string msg = "unknown top-level key '" + key + "'";
      std::string near = ClosestName(key, keys);
      msg += near.empty() ? " (expected vars, hierarchy, include or resources)"
                          : " (did you mean '" + near + "'?)";
      Fail(kloc, msg);
      continue;
    }
    if (!seen.insert(key).second) {
      Fail(kloc, "duplicate top-level key '" + key + "'");
      continue;
    }
    if (key == "vars") {
      mf.vars = kv.second;
    } else if (key == "hierarchy") {
      if (index != 0) {
        Fail(kloc, "'hierarchy' is only allowed in the entry manifest");
        continue;
      }
      mf.hierarchy = kv.second;
      mf.hierarchy_mark = kv.first.Mark();
    } else if (key == "include") {
      mf.include = kv.second;
      include_pos = pos;
    } else {
      mf.resources = kv.second;
      resources_pos = pos;
    }
  }
  mf.include_first = include_pos >= 0 && (resources_pos < 0 || include_pos < resources_pos);
  ReadVars(mf);
  return index;
}

void Loader::ReadVars(Manifest& m) {
  const YAML::Node& vars = m.vars;
  if (!vars || vars.IsNull()) return;
  if (!vars.IsMap()) {
    Fail(Loc(m, vars.Mark()), "'vars' must be a map of variable names to values");
    return;
  }
  for (const auto& kv : vars) {
    SourceLoc kloc = Loc(m, kv.first.Mark());
    if (!kv.first.IsScalar()) {
      Fail(kloc, "a variable name must be a string");
      continue;
    }
    const std::string& name = kv.first.Scalar();
    if (name == "facts") {
      Fail(kloc, "'facts' is reserved for the fact map and cannot be set in vars");
      continue;
    }
    VarDef def = DefineVar(m, kv.second, kloc);
    auto prev = manifest_index_.find(name);
    if (prev != manifest_index_.end()) {
      // Compared as written (before interpolation) when either uses variables.
      const VarDef& first = manifest_vars_[prev->second].second;
      if (first.value != def.value)
        Fail(kloc, "variable '" + name + "' is set to " + def.value.ToJson() + " here but to " +
                       first.value.ToJson() + " at " + first.loc.str());
      continue;
    }
    manifest_index_.emplace(name, manifest_vars_.size());
    manifest_vars_.emplace_back(name, std::move(def));
    ++vars_version_;
  }
}

void Loader::ReadHierarchy(const Manifest& entry) {
  const YAML::Node& h = entry.hierarchy;
  if (!h || h.IsNull()) return;
  if (!h.IsSequence()) {
    Fail(Loc(entry, h.Mark()), "'hierarchy' must be a list of file paths");
    return;
  }
  Value ctx = BuildContext();
  std::string base_dir = DirOf(entry.display);
  for (const auto& item : h) {
    Value pv;
    if (!item.IsScalar()) {
      Fail(Loc(entry, item.Mark()), "a hierarchy entry must be a file path");
      continue;
    }
    if (!ConvertValue(entry, item, ctx, pv)) continue;
    if (!pv.is_string() || pv.as_string().empty()) {
      Fail(Loc(entry, item.Mark()), "a hierarchy entry must be a file path");
      continue;
    }
    std::string display = JoinDisplay(base_dir, pv.as_string());
    std::string path = fs::path(pv.as_string()).is_absolute()
                           ? pv.as_string()
                           : entry.real_dir + "/" + pv.as_string();
    struct stat st;
    if (::stat(path.c_str(), &st) != 0) continue;  // missing files are skipped
    if (!S_ISREG(st.st_mode)) {
      Fail(Loc(entry, item.Mark()), "hierarchy file " + display + " is not a regular file");
      continue;
    }
    // Parse as a manifest-like file so that marks and ScalarPlace work.
    data_files_.push_back(std::make_unique<Manifest>());
    Manifest& data = *data_files_.back();
    data.display = display;
    std::ifstream in(path, std::ios::binary);
    std::ostringstream ss;
    ss << in.rdbuf();
    data.text = ss.str();
    YAML::Node root;
    try {
      root = YAML::Load(data.text);
    } catch (const YAML::Exception& e) {
      Fail(Loc(data, e.mark), "YAML syntax error: " + e.msg);
      continue;
    }
    if (!root || root.IsNull()) continue;
    if (!root.IsMap()) {
      Fail(Loc(data, root.Mark()), "a hierarchy file must be a map of variables");
      continue;
    }
    for (const auto& kv : root) {
      if (!kv.first.IsScalar()) {
        Fail(Loc(data, kv.first.Mark()), "a variable name must be a string");
        continue;
      }
      const std::string& name = kv.first.Scalar();
      if (name == "facts") {
        Fail(Loc(data, kv.first.Mark()), "'facts' is reserved for the fact map");
        continue;
      }
      if (hier_index_.count(name)) continue;  // the first file defining it wins
      hier_index_.emplace(name, hier_vars_.size());
      hier_vars_.emplace_back(name, DefineVar(data, kv.second, Loc(data, kv.first.Mark())));
      ++vars_version_;
    }
  }
}

VarDef Loader::DefineVar(const Manifest& m, const YAML::Node& value, SourceLoc loc) {
  VarDef def{&m, value, std::move(loc)};
  // A value using only facts (or nothing) is final now; one that fails is
  // kept as written and interpolated once the other variables are known.
  ++quiet_;
  def.resolved = ConvertValue(m, value, facts_ctx_, def.value);
  --quiet_;
  return def;
}

Value Loader::BuildContext(bool report) {
  if (!report && ctx_version_ == vars_version_) return ctx_cache_;
  Map ctx = cli_vars_;
  std::vector<const VarDef*> pending;
  std::vector<const std::string*> pending_names;
  auto take = [&](const std::string& name, const VarDef& def) {
    if (def.resolved) {
      ctx.Set(name, def.value);
    } else {
      pending.push_back(&def);
      pending_names.push_back(&name);
    }
  };
  for (const auto& [name, def] : hier_vars_)
    if (!cli_vars_.Has(name)) take(name, def);
  for (const auto& [name, def] : manifest_vars_)
    if (!cli_vars_.Has(name) && !hier_index_.count(name)) take(name, def);
  ctx.Set("facts", opts_.facts.is_null() ? Value(Map{}) : opts_.facts);
  Value v_ctx(std::move(ctx));
  // Values using other variables: interpolate those whose names are all
  // known, repeat while that makes progress (dependency order, any depth).
  while (!pending.empty()) {
    bool progress = false;
    for (size_t i = 0; i < pending.size();) {
      Value v;
      ++quiet_;
      bool ok = ConvertValue(*pending[i]->m, pending[i]->node, v_ctx, v);
      --quiet_;
      if (ok) {
        v_ctx.mutable_map().Set(*pending_names[i], std::move(v));
        pending.erase(pending.begin() + i);
        pending_names.erase(pending_names.begin() + i);
        progress = true;
      } else {
        ++i;
      }
    }
    if (!progress) break;
  }
  if (report) {
    // Undefined names or a cycle: report at the place of each.
    for (const VarDef* def : pending) {
      size_t first = out_.errors.size();
      Value v;
      ConvertValue(*def->m, def->node, v_ctx, v);
      for (size_t i = first; i < out_.errors.size(); ++i)
        for (const std::string* name : pending_names)
          if (out_.errors[i].message == "undefined variable '" + *name + "'")
            out_.errors[i].message = "variable '" + *name + "' cannot be resolved: its value " +
                                     "depends on itself (a cycle of variables)";
    }
  }
  ctx_cache_ = v_ctx;
  ctx_version_ = vars_version_;
  return v_ctx;
}

void Loader::WalkIncludes(size_t index, std::vector<size_t>& stack) {
  stack.push_back(index);
  const Manifest& m = *manifests_[index];
  const YAML::Node inc = m.include;
  if (inc && !inc.IsNull()) {
    if (!inc.IsSequence()) {
      Fail(Loc(m, inc.Mark()), "'include' must be a list of paths or {path, when} maps");
    } else {
      for (const auto& entry : inc) IncludeEntry(index, entry, stack);
    }
  }
  stack.pop_back();
}

void Loader::IncludeEntry(size_t index, const YAML::Node& entry, std::vector<size_t>& stack) {
  const Manifest& m = *manifests_[index];
  YAML::Node path_node, when_node;
  bool has_path = false, has_when = false;
  if (entry.IsScalar()) {
    path_node = entry;
    has_path = true;
  } else if (entry.IsMap()) {
    for (const auto& kv : entry) {
      std::string key = kv.first.IsScalar() ? kv.first.Scalar() : "";
      if (key == "path") {
        path_node = kv.second;
        has_path = true;
      } else if (key == "when") {
        when_node = kv.second;
        has_when = true;
      } else {
        Fail(Loc(m, kv.first.Mark()), "unknown key '" + key + "' in include (expected path, when)");
      }
    }
    if (!has_path) {
      Fail(Loc(m, entry.Mark()), "include entry has no 'path'");
      return;
    }
  } else {
    Fail(Loc(m, entry.Mark()), "an include entry must be a path or a {path, when} map");
    return;
  }
  Value ctx = BuildContext();
  if (has_when) {
    bool keep = true;
    if (!EvalWhen(m, when_node, ctx, keep) || !keep) return;
  }
  if (!path_node.IsScalar()) {
    Fail(Loc(m, path_node.Mark()), "an include path must be a string");
    return;
  }
  Value pv;
  if (!ConvertValue(m, path_node, ctx, pv)) return;
  if (!pv.is_string() || pv.as_string().empty()) {
    Fail(Loc(m, path_node.Mark()), "an include path must be a non-empty string");
    return;
  }
  const std::string& rel = pv.as_string();
  SourceLoc at = Loc(m, path_node.Mark());
  std::string base_display = DirOf(m.display);
  std::string base_real = m.real_dir;
  std::vector<std::string> rels;  // relative to the including file (or absolute)
  if (HasGlobChars(rel)) {
    bool absolute = fs::path(rel).is_absolute();
    std::string pattern = absolute ? rel : base_real + "/" + rel;
    glob_t g{};
    int rc = ::glob(pattern.c_str(), GLOB_ERR, nullptr, &g);
    std::vector<std::string> found;
    if (rc == 0)
      for (size_t i = 0; i < g.gl_pathc; ++i) found.push_back(g.gl_pathv[i]);
    ::globfree(&g);
    std::sort(found.begin(), found.end());
    for (const auto& f : found) {
      struct stat st;
      if (::stat(f.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
      rels.push_back(absolute ? f : f.substr(base_real == "/" ? 1 : base_real.size() + 1));
    }
    if (rels.empty())
      out_.catalog.warnings.push_back(at.str() + ": include '" + rel + "' matches no file");
  } else {
    std::string path = fs::path(rel).is_absolute() ? rel : base_real + "/" + rel;
    struct stat st;
    if (::stat(path.c_str(), &st) != 0) {
      Fail(at, "included manifest " + JoinDisplay(base_display, rel) + " not found");
      return;
    }
    if (!S_ISREG(st.st_mode)) {
      Fail(at, "included manifest " + JoinDisplay(base_display, rel) + " is not a regular file");
      return;
    }
    rels.push_back(rel);
  }
  for (const auto& r : rels) {
    std::string path = fs::path(r).is_absolute() ? r : base_real + "/" + r;
    std::string canonical = RealPath(path);
    std::string display = JoinDisplay(base_display, r);
    if (canonical.empty()) {
      Fail(at, "cannot resolve included manifest " + display + ": " + std::strerror(errno));
      continue;
    }
    auto known = by_canonical_.find(canonical);
    if (known != by_canonical_.end()) {
      auto on_stack = std::find(stack.begin(), stack.end(), known->second);
      if (on_stack != stack.end()) {
        std::string chain;
        for (auto it = on_stack; it != stack.end(); ++it)
          chain += manifests_[*it]->display + " -> ";
        chain += display;
        Fail(at, "include cycle: " + chain);
      }
      continue;  // included before: loaded once
    }
    std::optional<size_t> child = LoadFile(display, canonical, at);
    if (!child) continue;
    manifests_[index]->children.push_back(*child);
    WalkIncludes(*child, stack);
  }
}

void Loader::Flatten(size_t index, std::vector<size_t>& order) const {
  const Manifest& m = *manifests_[index];
  if (!m.include_first) order.push_back(index);
  for (size_t c : m.children) Flatten(c, order);
  if (m.include_first) order.push_back(index);
}

// The entries of a map with YAML merge keys (`<<: *defaults`, or a list of
// them) expanded, as YAML 1.1 defines them (yaml-cpp 0.7 keeps `<<` as a
// plain key): keys written in the map win over merged ones, an earlier
// merged map over a later one. Merged entries follow the written ones.
std::vector<Entry> Loader::Entries(const Manifest& m, const YAML::Node& map, int depth) {
  std::vector<Entry> out;
  out.reserve(map.size());
  std::vector<YAML::Node> merges;
  for (const auto& kv : map) {
    if (IsMergeKey(kv.first))
      merges.push_back(kv.second);
    else
      out.emplace_back(kv.first, kv.second);
  }
  if (merges.empty()) return out;
  std::unordered_set<std::string> have;
  for (const auto& e : out)
    if (e.first.IsScalar()) have.insert(e.first.Scalar());
  auto add = [&](const YAML::Node& src) {
    if (!src.IsMap() || depth > kMaxDepth) {
      Fail(Loc(m, src.Mark()), "a merge key '<<' needs a map or a list of maps");
      return;
    }
    for (auto& e : Entries(m, src, depth + 1))
      if (e.first.IsScalar() && have.insert(e.first.Scalar()).second) out.push_back(std::move(e));
  };
  for (const auto& mv : merges) {
    if (mv.IsSequence()) {
      for (const auto& item : mv) add(item);
    } else {
      add(mv);
    }
  }
  return out;
}

bool Loader::Convert(const Manifest& m, const YAML::Node& n, const Value& ctx, Value& out,
                     int depth, size_t& nodes) {
  if (++nodes > kMaxNodesPerValue || depth > kMaxDepth) {
    nodes = kMaxNodesPerValue + 1;  // ConvertValue reports it once
    return false;
  }
  switch (n.Type()) {
    case YAML::NodeType::Undefined:
    case YAML::NodeType::Null:
      out = Value();
      return true;
    case YAML::NodeType::Scalar: {
      Value v = ScalarFromYaml(n);
      if (v.is_string() && HasBraces(v.as_string())) {
        size_t offset = 0;
        Result<Value> r = Interpolate(v.as_string(), ctx, &offset);
        if (!r.ok()) {
          Fail(ScalarPlace(m, n, v.as_string(), offset), r.error().message);
          out = std::move(v);
          return false;
        }
        out = std::move(r).value();
      } else {
        out = std::move(v);
      }
      return true;
    }
    case YAML::NodeType::Sequence: {
      List list;
      list.reserve(n.size());
      bool ok = true;
      for (const auto& item : n) {
        Value e;
        ok = Convert(m, item, ctx, e, depth + 1, nodes) && ok;
        list.push_back(std::move(e));
        if (nodes > kMaxNodesPerValue) return false;
      }
      out = Value(std::move(list));
      return ok;
    }
    case YAML::NodeType::Map: {
      Map map;
      bool ok = true;
      for (const auto& kv : Entries(m, n)) {
        if (!kv.first.IsScalar()) {
          Fail(Loc(m, kv.first.Mark()), "a map key must be a string");
          ok = false;
          continue;
        }
        Value e;
        ok = Convert(m, kv.second, ctx, e, depth + 1, nodes) && ok;
        map.Set(kv.first.Scalar(), std::move(e));
        if (nodes > kMaxNodesPerValue) return false;
      }
      out = Value(std::move(map));
      return ok;
    }
  }
  return true;
}

bool Loader::EvalWhen(const Manifest& m, const YAML::Node& n, const Value& ctx, bool& keep) {
  if (!n.IsScalar()) {
    Fail(Loc(m, n.Mark()), "'when' expects an expression or true/false");
    return false;
  }
  Value v = ScalarFromYaml(n);
  if (v.is_null()) {
    Fail(Loc(m, n.Mark()), "'when' has no expression");
    return false;
  }
  if (!v.is_string()) {
    keep = IsTruthy(v);
    return true;
  }
  const std::string& text = v.as_string();
  size_t offset = 0;
  Result<Value> r =
      HasBraces(text) ? Interpolate(text, ctx, &offset) : EvaluateExpression(text, ctx, &offset);
  if (!r.ok()) {
    Fail(ScalarPlace(m, n, text, offset), r.error().message);
    return false;
  }
  keep = IsTruthy(*r);
  return true;
}

bool Loader::RefsFromValue(const Manifest& m, const char* meta, const Value& v,
                           const SourceLoc& loc, std::vector<RefAt>& refs) {
  if (v.is_list()) {
    bool ok = true;
    for (const auto& e : v.as_list()) ok = RefsFromValue(m, meta, e, loc, refs) && ok;
    return ok;
  }
  if (!v.is_string()) {
    Fail(loc, std::string("'") + meta +
                  "' expects a reference type[title] or a list of them, got " + KindName(v.kind()));
    return false;
  }
  std::optional<Ref> ref = Ref::Parse(v.as_string());
  if (!ref) {
    Fail(loc, "malformed reference '" + v.as_string() + "' in " + meta + " (expected type[title])");
    return false;
  }
  refs.push_back(RefAt{std::move(*ref), loc});
  return true;
}

void Loader::ParseRefs(const Manifest& m, const char* meta, const YAML::Node& n,
                       std::vector<RefAt>& refs) {
  if (n.IsSequence()) {
    for (const auto& item : n) {
      Value v;
      if (!ConvertValue(m, item, ctx_, v)) continue;
      RefsFromValue(m, meta, v, Loc(m, item.Mark()), refs);
    }
    return;
  }
  Value v;
  if (!ConvertValue(m, n, ctx_, v)) return;
  if (v.is_null()) return;
  RefsFromValue(m, meta, v, Loc(m, n.Mark()), refs);
}

void Loader::Resources(const Manifest& m) {
  const YAML::Node& res = m.resources;
  if (!res || res.IsNull()) return;
  if (!res.IsSequence()) {
    Fail(Loc(m, res.Mark()), "'resources' must be a list");
    return;
  }
  for (const auto& entry : res) Resource1(m, entry);
}

// Names of a dropped resource's attributes are still checked: a typo must
// not hide until the day `when` turns true.
void Loader::CheckDroppedAttrs(const Manifest& m, const TypeInfo& type,
                               const std::vector<Entry>& entries) {
  for (size_t i = 1; i < entries.size(); ++i) {
    const Entry& kv = entries[i];
    if (!kv.first.IsScalar()) continue;
    const std::string& name = kv.first.Scalar();
    const auto& metas = MetaParamNames();
    if (type.schema.Find(name) || std::find(metas.begin(), metas.end(), name) != metas.end())
      continue;
    std::vector<std::string> valid = type.schema.AttrNames();
    valid.insert(valid.end(), metas.begin(), metas.end());
    std::string msg = "unknown attribute '" + name + "' for type " + type.schema.name;
    std::string near = ClosestName(name, valid);
    if (!near.empty()) msg += " (did you mean '" + near + "'?)";
    Fail(Loc(m, kv.first.Mark()), msg);
  }
}

void Loader::Resource1(const Manifest& m, const YAML::Node& entry) {
  if (!entry.IsMap()) {
    Fail(Loc(m, entry.Mark()), "a resource must be a map whose first key is its type");
    return;
  }
  const std::vector<Entry> entries = Entries(m, entry);
  if (entries.empty()) {
    Fail(Loc(m, entry.Mark()), "a resource must be a map whose first key is its type");
    return;
  }
  const YAML::Node type_node = entries[0].first;
  const YAML::Node title_node = entries[0].second;
  SourceLoc loc = Loc(m, type_node.Mark());
  if (!type_node.IsScalar()) {
    Fail(loc, "a resource must be a map whose first key is its type");
    return;
  }
  const std::string& type_name = type_node.Scalar();
  const TypeInfo* type = opts_.registry ? opts_.registry->Find(type_name) : nullptr;
  if (!type) {
    std::string msg = "unknown resource type '" + type_name + "'";
    std::string near = opts_.registry ? ClosestName(type_name, opts_.registry->Names()) : "";
    if (!near.empty()) msg += " (did you mean '" + near + "'?)";
    Fail(loc, msg);
    return;
  }
  if (!title_node.IsDefined() || title_node.IsNull()) {
    Fail(loc, "resource " + type_name + " has no title");
    return;
  }
  if (!title_node.IsScalar()) {
    Fail(Loc(m, title_node.Mark()), "the title of a " + type_name + " must be a string");
    return;
  }

  // when, before anything is interpolated: a dropped resource is not.
  bool keep = true;
  bool when_ok = true;
  for (size_t i = 1; i < entries.size(); ++i) {
    if (entries[i].first.IsScalar() && entries[i].first.Scalar() == "when") {
      when_ok = EvalWhen(m, entries[i].second, ctx_, keep);
      break;
    }
  }

  Value title_v;
  if (!ConvertValue(m, title_node, ctx_, title_v)) return;
  if (!title_v.is_scalar() || title_v.is_null() || title_v.ToString().empty()) {
    Fail(Loc(m, title_node.Mark()), "the title of a " + type_name + " must be a non-empty string");
    return;
  }
  Resource r;
  r.ref = Ref{type_name, title_v.ToString()};
  r.loc = loc;
  if (!when_ok) {
    broken_.insert(r.ref.str());
    CheckDroppedAttrs(m, *type, entries);
    return;
  }
  if (!keep) {
    dropped_.emplace(r.ref.str(), loc);
    CheckDroppedAttrs(m, *type, entries);
    return;
  }
  r.manifest_path = m.display;
  r.repo_dir = repo_real_;

  std::set<std::string> failed;  // attributes whose value did not interpolate
  std::set<std::string> keys;
  for (size_t i = 1; i < entries.size(); ++i) {
    const Entry& kv = entries[i];
    SourceLoc kloc = Loc(m, kv.first.Mark());
    if (!kv.first.IsScalar()) {
      Fail(kloc, "an attribute name must be a string");
      continue;
    }
    const std::string& name = kv.first.Scalar();
    if (!keys.insert(name).second) {
      Fail(kloc, "duplicate attribute '" + name + "'");
      continue;
    }
    const YAML::Node& val = kv.second;
    if (name == "when") continue;
    if (name == "require") {
      ParseRefs(m, "require", val, r.require);
    } else if (name == "before") {
      ParseRefs(m, "before", val, r.before);
    } else if (name == "notify") {
      ParseRefs(m, "notify", val, r.notify);
    } else if (name == "subscribe") {
      ParseRefs(m, "subscribe", val, r.subscribe);
    } else if (name == "tags") {
      Value v;
      if (!ConvertValue(m, val, ctx_, v)) continue;
      if (v.is_list()) {
        for (const auto& t : v.as_list()) {
          if (!t.is_scalar() || t.is_null()) {
            Fail(kloc, "'tags' expects a list of strings");
            break;
          }
          r.tags.push_back(t.ToString());
        }
      } else if (v.is_scalar() && !v.is_null()) {
        r.tags.push_back(v.ToString());
      } else {
        Fail(kloc, "'tags' expects a list of strings");
      }
    } else if (name == "noop" || name == "sensitive") {
      Value v;
      if (!ConvertValue(m, val, ctx_, v)) continue;
      if (!v.is_bool()) {
        Fail(Loc(m, val.Mark()),
             "'" + name + "' expects true or false, got " + KindName(v.kind()) +
                 (v.is_scalar() && !v.is_null() ? " '" + v.ToString() + "'" : std::string()));
        continue;
      }
      (name == "noop" ? r.noop : r.sensitive) = v.as_bool();
    } else {
      Value v;
      if (!ConvertValue(m, val, ctx_, v)) failed.insert(name);
      r.attrs.Set(name, std::move(v));
      r.attr_locs.emplace_back(name, kloc);
    }
  }
  for (std::string t : {type_name, m.tag})
    if (std::find(r.tags.begin(), r.tags.end(), t) == r.tags.end()) r.tags.push_back(std::move(t));

  std::vector<AttrProblem> problems = PrepareResource(*type, r);
  for (const auto& p : problems) {
    if (!p.attr.empty() && failed.count(p.attr)) continue;  // already reported
    Fail(p.attr.empty() ? r.loc : r.LocOf(p.attr), p.message);
  }
  if (problems.empty() && failed.empty() && type_name == "file") ResolveFileSources(m, r);

  std::string id = r.ref.str();
  auto dup = out_.catalog.index.find(id);
  if (dup != out_.catalog.index.end()) {
    Fail(r.loc, "duplicate resource " + id + ": also declared at " +
                    out_.catalog.resources[dup->second].loc.str());
    return;
  }
  if (problems.empty() && failed.empty()) {
    std::string key = type_name;
    key += '\0';
    key += ResourceIdentity(*type, r);
    auto [it, inserted] = identities_.emplace(std::move(key), out_.catalog.resources.size());
    if (!inserted) {
      const Resource& other = out_.catalog.resources[it->second];
      Fail(r.loc,
           "duplicate resource " + id + ": same " +
               (type->schema.Namevar() ? type->schema.Namevar()->name : std::string("name")) +
               " '" + ResourceIdentity(*type, r) + "' as " + other.id() + " declared at " +
               other.loc.str());
      broken_.insert(id);
      return;
    }
  }
  out_.catalog.Add(std::move(r));
}

void Loader::ResolveFileSources(const Manifest& m, Resource& r) {
  for (const char* attr : {"source", "template"}) {
    Value* v = r.attrs.Find(attr);
    if (!v || !v->is_string() || v->as_string().empty()) continue;
    const std::string& given = v->as_string();
    SourceLoc at = r.LocOf(attr);
    fs::path joined =
        fs::path(given).is_absolute() ? fs::path(given) : fs::path(m.real_dir) / given;
    std::string lexical = joined.lexically_normal().string();
    if (lexical.size() > 1 && lexical.back() == '/') lexical.pop_back();
    if (!IsInside(lexical, repo_real_)) {
      Fail(at, std::string(attr) + " '" + given + "' is outside the config repo " + repo_real_);
      continue;
    }
    std::string real = RealPath(lexical);
    if (real.empty()) {
      Fail(at, std::string(attr) + " '" + given + "' not found (" + lexical + ")");
      continue;
    }
    if (!IsInside(real, repo_real_)) {
      Fail(at, std::string(attr) + " '" + given + "' resolves to " + real +
                   ", outside the config repo " + repo_real_);
      continue;
    }
    *v = Value(real);
  }
}

void Loader::ResolveRefs() {
  const Catalog& cat = out_.catalog;
  std::vector<std::string> types =
      opts_.registry ? opts_.registry->Names() : std::vector<std::string>{};
  // Titles by type, built on the first unknown reference; suggestions are
  // offered for the first few only (each costs a pass over the titles).
  std::unordered_map<std::string, std::vector<std::string>> titles;
  int suggestions_left = 50;
  auto check = [&](const std::vector<RefAt>& refs, const char* meta) {
    for (const auto& ra : refs) {
      if (cat.Find(ra.ref)) continue;
      std::string id = ra.ref.str();
      if (broken_.count(id)) continue;  // its own error was reported
      auto d = dropped_.find(id);
      if (d != dropped_.end()) {
        Fail(ra.loc, std::string(meta) + " " + id + ": that resource is not declared because its " +
                         "'when' is false (" + d->second.str() + ")");
        continue;
      }
      std::string msg = std::string("unknown reference ") + id + " in " + meta;
      if (opts_.registry && !opts_.registry->Find(ra.ref.type)) {
        std::string near = ClosestName(ra.ref.type, types);
        msg += ": no resource type '" + ra.ref.type + "'";
        if (!near.empty()) msg += " (did you mean '" + near + "'?)";
      } else if (ra.ref.title.size() > 3 && suggestions_left-- > 0) {
        if (titles.empty())
          for (const auto& r : cat.resources) titles[r.ref.type].push_back(r.ref.title);
        auto t = titles.find(ra.ref.type);
        std::string near = t == titles.end() ? "" : ClosestName(ra.ref.title, t->second);
        if (!near.empty()) msg += " (did you mean " + Ref{ra.ref.type, near}.str() + "?)";
      }
      Fail(ra.loc, msg);
    }
  };
  for (const auto& r : cat.resources) {
    check(r.require, "require");
    check(r.before, "before");
    check(r.notify, "notify");
    check(r.subscribe, "subscribe");
  }
}

// --var K=V: V typed as a YAML scalar ("42" int, "true" bool, "'42'" string);
// a flow list "[a, b]" becomes a list; anything else is the text as given.
Value ParseCliValue(const std::string& text) {
  if (text.empty()) return Value(std::string());
  try {
    YAML::Node n = YAML::Load(text);
    if (n.IsScalar()) return ScalarFromYaml(n);
    if (n.IsSequence() && text.front() == '[') return FromYaml(n);
    if (n.IsNull() && (text == "~" || text == "null" || text == "Null" || text == "NULL"))
      return Value();
  } catch (const YAML::Exception&) {
  }
  return Value(text);
}

LoadResult Loader::Run() {
  std::string given = opts_.entry_path.empty() ? std::string("site.yaml") : opts_.entry_path;
  std::string display = given;
  struct stat st;
  if (::stat(given.c_str(), &st) == 0 && S_ISDIR(st.st_mode))
    display = JoinDisplay(given, "site.yaml");
  out_.catalog.entry_path = display;
  std::string canonical = RealPath(display);
  if (canonical.empty()) {
    Fail(SourceLoc{display, 0, 0}, std::string("cannot read manifest: ") + std::strerror(errno));
    return std::move(out_);
  }
  repo_real_ = DirOf(canonical);
  out_.catalog.repo_dir = repo_real_;

  facts_ctx_ = Value(Map{{"facts", opts_.facts.is_null() ? Value(Map{}) : opts_.facts}});
  for (const auto& [k, v] : opts_.cli_vars) {
    if (k.empty() || k == "facts") {
      Fail(SourceLoc{"--var", 0, 0},
           k.empty() ? "--var needs NAME=VALUE" : "'facts' is reserved for the fact map");
      continue;
    }
    cli_vars_.Set(k, ParseCliValue(v));
  }

  std::optional<size_t> entry = LoadFile(display, canonical, SourceLoc{display, 0, 0});
  if (!entry || !manifests_[0]->parsed) return std::move(out_);
  ReadHierarchy(*manifests_[0]);
  std::vector<size_t> stack;
  WalkIncludes(0, stack);
  ctx_ = BuildContext(/*report=*/true);

  std::vector<size_t> order;
  Flatten(0, order);
  for (size_t i : order)
    if (manifests_[i]->parsed) Resources(*manifests_[i]);
  ResolveRefs();
  return std::move(out_);
}

}  // namespace

LoadResult LoadManifests(const LoadOptions& options) { return Loader(options).Run(); }

}  // namespace keel
