// Variables of a load (engine/manifest_vars.h).
#include "engine/manifest_vars.h"

#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <string_view>
#include <unordered_map>

#include "engine/yaml_value.h"

namespace keel::loader {

namespace fs = std::filesystem;

namespace {

// How many values `v` stands for once written out: a list or map that
// several variables share counts at every place it appears. Shared parts
// are counted once each (`memo`, by address), so the count is quick even
// for a value that would expand to 2^60; it stops growing past `limit`.
size_t ExpandedSize(const Value& v, size_t limit, std::unordered_map<const void*, size_t>& memo,
                    int depth = 0) {
  if (v.is_scalar()) return 1;
  const void* key =
      v.is_list() ? static_cast<const void*>(&v.as_list()) : static_cast<const void*>(&v.as_map());
  if (auto it = memo.find(key); it != memo.end()) return it->second;
  if (depth > 4096) return limit + 1;  // deeper than any value keel accepts
  size_t n = 1;
  auto add = [&](const Value& e) {
    n += ExpandedSize(e, limit, memo, depth + 1);
    if (n > limit) n = limit + 1;
  };
  if (v.is_list()) {
    for (const Value& e : v.as_list()) {
      add(e);
      if (n > limit) break;
    }
  } else {
    for (const auto& [k, e] : v.as_map()) {
      add(e);
      if (n > limit) break;
    }
  }
  memo.emplace(key, n);
  return n;
}

// --var K=V: V typed as a YAML scalar ("42" int, "true" bool, "'42'" string);
// a flow list "[a, b]" becomes a list; anything else is the text as given.
Value ParseCliValue(const std::string& text) {
  if (text.empty()) return Value(std::string());
  yaml::ParseError err;
  if (std::unique_ptr<yaml::Document> doc = yaml::Document::Parse(text, &err)) {
    yaml::Node n = doc->root();
    if (n.IsScalar()) return ScalarFromYaml(n);
    if (n.IsSequence() && text.front() == '[') return FromYaml(n);
    if (n.IsNull() && (text == "~" || text == "null" || text == "Null" || text == "NULL"))
      return Value();
  }
  return Value(text);
}

}  // namespace

void Variables::SetCommandLine(const std::vector<std::pair<std::string, std::string>>& cli_vars) {
  const Value& facts = reader_.options().facts;
  facts_ctx_ = Value(Map{{"facts", facts.is_null() ? Value(Map{}) : facts}});
  for (const auto& [k, v] : cli_vars) {
    if (k.empty() || k == "facts") {
      reader_.Fail(SourceLoc{"--var", 0, 0},
                   k.empty() ? "--var needs NAME=VALUE" : "'facts' is reserved for the fact map");
      continue;
    }
    cli_vars_.Set(k, ParseCliValue(v));
  }
}

void Variables::ReadVars(const Manifest& m) {
  const yaml::Node& vars = m.vars;
  if (!vars || vars.IsNull()) return;
  if (!vars.IsMap()) {
    reader_.Fail(reader_.Loc(m, vars.GetMark()),
                 "'vars' must be a map of variable names to values");
    return;
  }
  for (const auto& kv : vars) {
    SourceLoc kloc = reader_.Loc(m, kv.first.GetMark());
    if (!kv.first.IsScalar()) {
      reader_.Fail(kloc, "a variable name must be a string");
      continue;
    }
    const std::string name(kv.first.Scalar());
    if (name == "facts") {
      reader_.Fail(kloc, "'facts' is reserved for the fact map and cannot be set in vars");
      continue;
    }
    VarDef def = DefineVar(m, kv.second, kloc);
    auto prev = manifest_index_.find(name);
    if (prev != manifest_index_.end()) {
      // Compared as written (before interpolation) when either uses variables.
      const VarDef& first = manifest_vars_[prev->second].second;
      if (first.value != def.value)
        reader_.Fail(kloc, "variable '" + name + "' is set to " + def.value.ToJson() +
                               " here but to " + first.value.ToJson() + " at " + first.loc.str());
      continue;
    }
    manifest_index_.emplace(name, manifest_vars_.size());
    manifest_vars_.emplace_back(name, std::move(def));
    ++vars_version_;
  }
}

void Variables::ReadHierarchy(const Manifest& entry) {
  const yaml::Node& h = entry.hierarchy;
  if (!h || h.IsNull()) return;
  if (!h.IsSequence()) {
    reader_.Fail(reader_.Loc(entry, h.GetMark()), "'hierarchy' must be a list of file paths");
    return;
  }
  Value ctx = BuildContext();
  std::string base_dir = DirOf(entry.display);
  for (const auto& item : h) {
    Value pv;
    if (!item.IsScalar()) {
      reader_.Fail(reader_.Loc(entry, item.GetMark()), "a hierarchy entry must be a file path");
      continue;
    }
    if (!reader_.ConvertValue(entry, item, ctx, pv)) continue;
    if (!pv.is_string() || pv.as_string().empty()) {
      reader_.Fail(reader_.Loc(entry, item.GetMark()), "a hierarchy entry must be a file path");
      continue;
    }
    std::string display = JoinDisplay(base_dir, pv.as_string());
    std::string path = fs::path(pv.as_string()).is_absolute()
                           ? pv.as_string()
                           : entry.real_dir + "/" + pv.as_string();
    if (!IsInside(fs::path(path).lexically_normal().string(), reader_.repo_dir())) {
      reader_.Fail(reader_.Loc(entry, item.GetMark()), "hierarchy file '" + pv.as_string() +
                                                           "' is outside the config repo " +
                                                           reader_.repo_dir());
      continue;
    }
    struct stat st;
    if (::stat(path.c_str(), &st) != 0) continue;  // missing files are skipped
    std::string real = RealPath(path);
    if (real.empty() || !IsInside(real, reader_.repo_dir())) {
      reader_.Fail(reader_.Loc(entry, item.GetMark()),
                   "hierarchy file " + display + " resolves to " + real +
                       ", outside the config repo " + reader_.repo_dir() + "; not read");
      continue;
    }
    if (!S_ISREG(st.st_mode)) {
      reader_.Fail(reader_.Loc(entry, item.GetMark()),
                   "hierarchy file " + display + " is not a regular file");
      continue;
    }
    Manifest* data_file = nullptr;
    std::optional<yaml::Node> loaded = reader_.LoadDataFile(display, path, data_file);
    if (!loaded) continue;
    const Manifest& data = *data_file;
    const yaml::Node& root = *loaded;
    if (!root || root.IsNull()) continue;
    if (!root.IsMap()) {
      reader_.Fail(reader_.Loc(data, root.GetMark()),
                   "a hierarchy file must be a map of variables");
      continue;
    }
    for (const auto& kv : root) {
      if (!kv.first.IsScalar()) {
        reader_.Fail(reader_.Loc(data, kv.first.GetMark()), "a variable name must be a string");
        continue;
      }
      const std::string name(kv.first.Scalar());
      if (name == "facts") {
        reader_.Fail(reader_.Loc(data, kv.first.GetMark()), "'facts' is reserved for the fact map");
        continue;
      }
      if (hier_index_.count(name)) continue;  // the first file defining it wins
      hier_index_.emplace(name, hier_vars_.size());
      hier_vars_.emplace_back(name,
                              DefineVar(data, kv.second, reader_.Loc(data, kv.first.GetMark())));
      ++vars_version_;
    }
  }
}

VarDef Variables::DefineVar(const Manifest& m, const yaml::Node& value, SourceLoc loc) {
  VarDef def{&m, value, std::move(loc)};
  // A value using only facts (or nothing) is final now; one that fails is
  // kept as written and interpolated once the other variables are known.
  ManifestReader::Quiet quiet(reader_);
  def.resolved = reader_.ConvertValue(m, value, facts_ctx_, def.value);
  return def;
}

// Each variable is resolved once (memoised in the context), depth first
// with an explicit stack, not recursion: a chain of 20,000 variables is
// linear and cannot overflow the stack. A value that fails on an undefined
// name which is itself a pending variable pushes that variable first; one
// already on the stack closes a cycle, reported at every member's place
// with the chain.
Value Variables::BuildContext(bool report) {
  if (!report && ctx_version_ == vars_version_) return ctx_cache_;
  Map ctx = cli_vars_;
  std::vector<std::pair<const std::string*, const VarDef*>> pending;
  auto take = [&](const std::string& name, const VarDef& def) {
    if (def.resolved)
      ctx.Set(name, def.value);
    else
      pending.emplace_back(&name, &def);
  };
  for (const auto& [name, def] : hier_vars_)
    if (!cli_vars_.Has(name)) take(name, def);
  for (const auto& [name, def] : manifest_vars_)
    if (!cli_vars_.Has(name) && !hier_index_.count(name)) take(name, def);
  ctx.Set("facts", reader_.options().facts.is_null() ? Value(Map{}) : reader_.options().facts);
  Value v_ctx(std::move(ctx));

  enum class St { kPending, kOnStack, kDone, kFailed };
  std::unordered_map<std::string_view, size_t> slot;  // name -> index in pending
  for (size_t i = 0; i < pending.size(); ++i) slot.emplace(*pending[i].first, i);
  std::vector<St> st(pending.size(), St::kPending);
  std::vector<size_t> stack;
  std::unordered_map<const void*, size_t> sizes;  // ExpandedSize's memo
  auto fail = [&](size_t i) {
    st[i] = St::kFailed;
    if (!report) return;
    Value ignored;
    reader_.ConvertValue(*pending[i].second->m, pending[i].second->node, v_ctx, ignored);
  };
  for (size_t root = 0; root < pending.size(); ++root) {
    if (st[root] != St::kPending) continue;
    stack.assign(1, root);
    st[root] = St::kOnStack;
    while (!stack.empty()) {
      const size_t i = stack.back();
      Value v;
      bool ok;
      {
        ManifestReader::Quiet quiet(reader_);
        ok = reader_.ConvertValue(*pending[i].second->m, pending[i].second->node, v_ctx, v);
      }
      if (ok && ExpandedSize(v, kMaxNodesPerValue, sizes) > kMaxNodesPerValue) {
        // Lists that repeat other variables' lists double at each step: a
        // chain of 60 would write out 2^60 values.
        st[i] = St::kFailed;
        if (report)
          reader_.Fail(pending[i].second->loc,
                       "variable '" + *pending[i].first +
                           "' is too large: it expands to more than " +
                           std::to_string(kMaxNodesPerValue) +
                           " values (lists or maps that repeat other variables)");
        stack.pop_back();
        continue;
      }
      if (ok) {
        v_ctx.mutable_map().Set(*pending[i].first, std::move(v));
        st[i] = St::kDone;
        stack.pop_back();
        continue;
      }
      auto dep = slot.find(reader_.last_undefined());
      if (dep != slot.end() && st[dep->second] == St::kPending) {
        st[dep->second] = St::kOnStack;
        stack.push_back(dep->second);
        continue;
      }
      if (dep != slot.end() && st[dep->second] == St::kOnStack) {
        // A cycle: the stack from the dependency up to here.
        auto from = std::find(stack.begin(), stack.end(), dep->second);
        std::string chain;
        for (auto it = from; it != stack.end(); ++it) chain += *pending[*it].first + " -> ";
        chain += *pending[dep->second].first;
        if (chain.size() > 400) chain = chain.substr(0, 397) + "...";
        for (auto it = from; it != stack.end(); ++it) {
          st[*it] = St::kFailed;
          if (report)
            reader_.Fail(pending[*it].second->loc,
                         "variable '" + *pending[*it].first +
                             "' cannot be resolved: its value depends on itself (" + chain + ")");
        }
        stack.erase(from, stack.end());
        continue;
      }
      if (dep != slot.end()) {  // uses a variable that failed (reported there)
        st[i] = St::kFailed;
        if (report)
          reader_.Fail(pending[i].second->loc,
                       "variable '" + *pending[i].first + "' cannot be resolved: it uses '" +
                           *pending[dep->second].first + "', which cannot be resolved");
        stack.pop_back();
        continue;
      }
      fail(i);  // an undefined name, a bad expression
      stack.pop_back();
    }
  }
  ctx_cache_ = v_ctx;
  ctx_version_ = vars_version_;
  return v_ctx;
}

}  // namespace keel::loader
