// `include` (engine/manifest_includes.h).
#include "engine/manifest_includes.h"

#include <glob.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <string_view>

namespace keel::loader {

namespace fs = std::filesystem;

namespace {

bool HasGlobChars(std::string_view p) { return p.find_first_of("*?[") != std::string_view::npos; }

// Includes nest at most this deep: the walk recurses once per level, and no
// real repository comes near it.
constexpr size_t kMaxIncludeDepth = 100;

}  // namespace

void Includes::Walk(size_t index) {
  std::vector<size_t> stack;
  WalkIncludes(index, stack);
}

std::vector<size_t> Includes::Order() const {
  std::vector<size_t> order;
  Flatten(0, order);
  return order;
}

void Includes::WalkIncludes(size_t index, std::vector<size_t>& stack) {
  stack.push_back(index);
  const Manifest& m = reader_.manifest(index);
  const yaml::Node inc = m.include;
  if (inc && !inc.IsNull()) {
    if (!inc.IsSequence()) {
      reader_.Fail(reader_.Loc(m, inc.GetMark()),
                   "'include' must be a list of paths or {path, when} maps");
    } else {
      for (const auto& entry : inc) IncludeEntry(index, entry, stack);
    }
  }
  stack.pop_back();
}

void Includes::IncludeEntry(size_t index, const yaml::Node& entry, std::vector<size_t>& stack) {
  const Manifest& m = reader_.manifest(index);
  yaml::Node path_node, when_node;
  bool has_path = false, has_when = false;
  if (entry.IsScalar()) {
    path_node = entry;
    has_path = true;
  } else if (entry.IsMap()) {
    for (const auto& kv : entry) {
      std::string key(kv.first.IsScalar() ? kv.first.Scalar() : std::string_view());
      if (key == "path") {
        path_node = kv.second;
        has_path = true;
      } else if (key == "when") {
        when_node = kv.second;
        has_when = true;
      } else {
        reader_.Fail(reader_.Loc(m, kv.first.GetMark()),
                     "unknown key '" + key + "' in include (expected path, when)");
      }
    }
    if (!has_path) {
      reader_.Fail(reader_.Loc(m, entry.GetMark()), "include entry has no 'path'");
      return;
    }
  } else {
    reader_.Fail(reader_.Loc(m, entry.GetMark()),
                 "an include entry must be a path or a {path, when} map");
    return;
  }
  Value ctx = vars_.BuildContext();
  if (has_when) {
    bool keep = true;
    if (!reader_.EvalWhen(m, when_node, ctx, keep) || !keep) return;
  }
  if (!path_node.IsScalar()) {
    reader_.Fail(reader_.Loc(m, path_node.GetMark()), "an include path must be a string");
    return;
  }
  Value pv;
  if (!reader_.ConvertValue(m, path_node, ctx, pv)) return;
  if (!pv.is_string() || pv.as_string().empty()) {
    reader_.Fail(reader_.Loc(m, path_node.GetMark()), "an include path must be a non-empty string");
    return;
  }
  const std::string& rel = pv.as_string();
  SourceLoc at = reader_.Loc(m, path_node.GetMark());
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
      reader_.out().catalog.warnings.push_back(at.str() + ": include '" + rel +
                                               "' matches no file");
  } else {
    std::string path = fs::path(rel).is_absolute() ? rel : base_real + "/" + rel;
    if (!IsInside(fs::path(path).lexically_normal().string(), reader_.repo_dir())) {
      reader_.Fail(at, "include '" + rel + "' is outside the config repo " + reader_.repo_dir());
      return;
    }
    struct stat st;
    if (::stat(path.c_str(), &st) != 0) {
      reader_.Fail(at, "included manifest " + JoinDisplay(base_display, rel) + " not found");
      return;
    }
    if (!S_ISREG(st.st_mode)) {
      reader_.Fail(
          at, "included manifest " + JoinDisplay(base_display, rel) + " is not a regular file");
      return;
    }
    rels.push_back(rel);
  }
  for (const auto& r : rels) {
    std::string path = fs::path(r).is_absolute() ? r : base_real + "/" + r;
    std::string canonical = RealPath(path);
    std::string display = JoinDisplay(base_display, r);
    if (canonical.empty()) {
      reader_.Fail(at, "cannot resolve included manifest " + display + ": " + std::strerror(errno));
      continue;
    }
    if (!IsInside(canonical, reader_.repo_dir())) {
      // Never read: its content must not reach the errors (or the journal).
      reader_.Fail(at, "included manifest " + display + " resolves to " + canonical +
                           ", outside the config repo " + reader_.repo_dir());
      continue;
    }
    std::optional<size_t> known = reader_.Find(canonical);
    if (known) {
      auto on_stack = std::find(stack.begin(), stack.end(), *known);
      if (on_stack != stack.end()) {
        std::string chain;
        for (auto it = on_stack; it != stack.end(); ++it)
          chain += reader_.manifest(*it).display + " -> ";
        chain += display;
        reader_.Fail(at, "include cycle: " + chain);
      }
      continue;  // included before: loaded once
    }
    if (stack.size() >= kMaxIncludeDepth) {
      // Name the chain: its first and last few files.
      std::string chain;
      for (size_t k = 0; k < stack.size(); ++k) {
        if (k == 3 && stack.size() > 6) {
          chain += "... (" + std::to_string(stack.size() - 6) + " more) -> ";
          k = stack.size() - 3;
        }
        chain += reader_.manifest(stack[k]).display + " -> ";
      }
      chain += display;
      reader_.Fail(
          at, "includes nested more than " + std::to_string(kMaxIncludeDepth) + " deep: " + chain);
      return;
    }
    std::optional<size_t> child = reader_.LoadFile(display, canonical, at);
    if (!child) continue;
    vars_.ReadVars(reader_.manifest(*child));
    reader_.manifest(index).children.push_back(*child);
    WalkIncludes(*child, stack);
    // Its includes are walked; a manifest without vars (whose nodes the
    // variables would still point at) needs its nodes again only for its
    // resources.
    const Manifest& cm = reader_.manifest(*child);
    if (reader_.ShouldPark() && (!cm.vars || cm.vars.IsNull())) reader_.Park(*child);
  }
}

void Includes::Flatten(size_t index, std::vector<size_t>& order) const {
  const Manifest& m = reader_.manifest(index);
  if (!m.include_first) order.push_back(index);
  for (size_t c : m.children) Flatten(c, order);
  if (m.include_first) order.push_back(index);
}

}  // namespace keel::loader
