// Reading manifest files (engine/manifest_file.h).
#include "engine/manifest_file.h"

#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <unordered_set>

#include "engine/expr.h"
#include "engine/yaml_value.h"

namespace keel::loader {

namespace fs = std::filesystem;

namespace {

const char* const kTopLevelKeys[] = {"vars", "hierarchy", "include", "resources"};

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

// One open, one fstat, one read (more only for a file that grows). Only a
// regular file is read: a FIFO or device is refused (errno EINVAL) without
// blocking (opened O_NONBLOCK: a FIFO with no writer would wait forever).
bool ReadWholeFile(const std::string& path, std::string& out) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) return false;
  struct stat st;
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    int saved = S_ISDIR(st.st_mode) ? EISDIR : EINVAL;
    ::close(fd);
    errno = saved;
    return false;
  }
  size_t size = st.st_size > 0 ? static_cast<size_t>(st.st_size) : 0;
  out.resize(size + 1);  // the extra byte sees the end of the file in the same pass
  size_t got = 0;
  ssize_t n;
  for (;;) {
    if (got == out.size()) out.resize(out.size() * 2);
    n = ::read(fd, out.data() + got, out.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    got += static_cast<size_t>(n);
  }
  int saved = errno;
  ::close(fd);
  errno = saved;
  out.resize(got);
  if (out.capacity() > got + 4096) out.shrink_to_fit();
  return n == 0;
}

bool IsMergeKey(const yaml::Node& key) {
  return key.IsScalar() && key.Scalar() == "<<" && key.Tag() == "?";
}

}  // namespace

bool IsInside(const std::string& path, const std::string& dir) {
  if (path == dir) return true;
  if (dir == "/") return !path.empty() && path[0] == '/';
  return path.size() > dir.size() && path.compare(0, dir.size(), dir) == 0 &&
         path[dir.size()] == '/';
}

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

void ManifestReader::Fail(SourceLoc loc, std::string message) {
  if (quiet_) return;
  out_.errors.push_back(LoadError{std::move(loc), std::move(message)});
}

SourceLoc ManifestReader::Loc(const Manifest& m, const yaml::Mark& mark) const {
  if (mark.is_null()) return SourceLoc{m.display, 0, 0};
  return SourceLoc{m.display, mark.line + 1, mark.column + 1};
}

SourceLoc ManifestReader::ScalarPlace(const Manifest& m, const yaml::Node& n,
                                      std::string_view value, size_t offset) const {
  yaml::Mark mk = n.GetMark();
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

std::optional<size_t> ManifestReader::LoadFile(const std::string& display,
                                               const std::string& canonical,
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

  if (!ReadWholeFile(canonical, mf.text)) {
    Fail(from,
         "cannot read manifest " + display + ": " +
             (errno == EINVAL ? "not a regular file (a FIFO or a device)" : std::strerror(errno)));
    return std::nullopt;
  }

  text_read_ += mf.text.size();
  std::optional<yaml::Node> parsed = ParseYaml(mf);
  if (!parsed) return std::nullopt;
  yaml::Node root = *parsed;
  mf.parsed = true;
  if (!root || root.IsNull()) return index;  // an empty manifest declares nothing
  if (!root.IsMap()) {
    Fail(Loc(mf, root.GetMark()),
         "a manifest must be a map with the keys vars, hierarchy, include, resources");
    return index;
  }
  std::vector<std::string> keys(std::begin(kTopLevelKeys), std::end(kTopLevelKeys));
  std::set<std::string> seen;
  int include_pos = -1, resources_pos = -1, pos = 0;
  for (const auto& kv : root) {
    ++pos;
    SourceLoc kloc = Loc(mf, kv.first.GetMark());
    if (!kv.first.IsScalar()) {
      Fail(kloc, "a top-level key must be one of vars, hierarchy, include, resources");
      continue;
    }
    const std::string key(kv.first.Scalar());
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
      mf.hierarchy_mark = kv.first.GetMark();
    } else if (key == "include") {
      mf.include = kv.second;
      include_pos = pos;
    } else {
      mf.resources = kv.second;
      resources_pos = pos;
    }
  }
  mf.include_first = include_pos >= 0 && (resources_pos < 0 || include_pos < resources_pos);
  mf.resource_entries = mf.resources && mf.resources.IsSequence() ? mf.resources.size() : 0;
  return index;
}

void ManifestReader::Park(size_t index) {
  Manifest& m = *manifests_[index];
  if (!m.parsed || !m.doc || m.parked) return;
  m.vars = m.hierarchy = m.include = m.resources = yaml::Node();
  m.doc.reset();
  m.parked = true;
}

void ManifestReader::Unpark(size_t index) {
  Manifest& m = *manifests_[index];
  if (!m.parked) return;
  m.parked = false;
  ++out_.reparsed;
  // The same text parsed the first time: no new error can come of it,
  // and the first `resources` key is the one that was kept.
  yaml::ParseError err;
  m.doc = yaml::Document::Parse(m.text, &err);
  if (!m.doc) {
    Fail(SourceLoc{m.display, 0, 0}, "internal error: the manifest no longer parses");
    return;
  }
  const yaml::Node root = m.doc->root();
  if (!root || !root.IsMap()) return;
  for (const auto& kv : root) {
    if (kv.first.IsScalar() && kv.first.Scalar() == "resources") {
      m.resources = kv.second;
      return;
    }
  }
}

void ManifestReader::Release(size_t index) {
  Manifest& m = *manifests_[index];
  m.vars = m.hierarchy = m.include = m.resources = yaml::Node();
  m.doc.reset();
  std::string().swap(m.text);
}

std::optional<size_t> ManifestReader::Find(const std::string& canonical) const {
  auto it = by_canonical_.find(canonical);
  if (it == by_canonical_.end()) return std::nullopt;
  return it->second;
}

std::optional<yaml::Node> ManifestReader::LoadDataFile(const std::string& display,
                                                       const std::string& path, Manifest*& data) {
  // Parsed as a manifest-like file so that marks and ScalarPlace work.
  data_files_.push_back(std::make_unique<Manifest>());
  data = data_files_.back().get();
  data->display = display;
  if (!ReadWholeFile(path, data->text)) {
    Fail(SourceLoc{display, 0, 0},
         "cannot read data file " + display + ": " +
             (errno == EINVAL ? "not a regular file (a FIFO or a device)" : std::strerror(errno)));
    return std::nullopt;
  }
  return ParseYaml(*data);
}

std::optional<yaml::Node> ManifestReader::ParseYaml(Manifest& m) {
  yaml::ParseError err;
  m.doc = yaml::Document::Parse(m.text, &err);
  if (m.doc) return m.doc->root();
  switch (err.kind) {
    case yaml::ParseError::kDepth:
      Fail(Loc(m, err.mark), "YAML nested too deeply (more than " +
                                 std::to_string(yaml::kMaxParseDepth) +
                                 " levels of lists and maps)");
      break;
    case yaml::ParseError::kUnterminatedQuote:
      // A truncated manifest: the quoted scalar would run to the end.
      Fail(Loc(m, err.mark), std::string("unterminated ") +
                                 (err.quote == '\'' ? "single" : "double") +
                                 "-quoted string: no closing " + err.quote +
                                 " before the end of the file (a truncated manifest?)");
      break;
    case yaml::ParseError::kSyntax:
      Fail(Loc(m, err.mark), "YAML syntax error: " + err.message);
      break;
  }
  return std::nullopt;
}

// The entries of a map with YAML merge keys (`<<: *defaults`, or a list of
// them) expanded, as YAML 1.1 defines them (the parser keeps `<<` as a
// plain key): keys written in the map win over merged ones, an earlier
// merged map over a later one. Merged entries follow the written ones.
std::vector<Entry> ManifestReader::Entries(const Manifest& m, const yaml::Node& map, int depth) {
  std::vector<Entry> out;
  out.reserve(map.size());
  std::vector<yaml::Node> merges;
  for (const auto& kv : map) {
    if (IsMergeKey(kv.first))
      merges.push_back(kv.second);
    else
      out.emplace_back(kv.first, kv.second);
  }
  if (merges.empty()) return out;
  std::unordered_set<std::string_view> have;
  for (const auto& e : out)
    if (e.first.IsScalar()) have.insert(e.first.Scalar());
  auto add = [&](const yaml::Node& src) {
    if (!src.IsMap() || depth > kMaxDepth) {
      Fail(Loc(m, src.GetMark()), "a merge key '<<' needs a map or a list of maps");
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

bool ManifestReader::Convert(const Manifest& m, const yaml::Node& n, const Value& ctx, Value& out,
                             int depth, size_t& nodes, ExprCache* cache) {
  if (++nodes > kMaxNodesPerValue || depth > kMaxDepth) {
    nodes = kMaxNodesPerValue + 1;  // ConvertValue reports it once
    return false;
  }
  switch (n.Type()) {
    case yaml::NodeType::Null:
      out = Value();
      return true;
    case yaml::NodeType::Scalar: {
      Value v = ScalarFromYaml(n);
      if (v.is_string() && HasBraces(v.as_string())) {
        size_t offset = 0;
        Result<Value> r = Interpolate(v.as_string(), ctx, &offset, cache);
        if (!r.ok()) {
          if (last_undefined_.empty()) last_undefined_ = UndefinedVariableIn(r.error().message);
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
    case yaml::NodeType::Sequence: {
      List list;
      list.reserve(n.size());
      bool ok = true;
      for (const auto& item : n) {
        Value e;
        ok = Convert(m, item, ctx, e, depth + 1, nodes, cache) && ok;
        list.push_back(std::move(e));
        if (nodes > kMaxNodesPerValue) return false;
      }
      out = Value(std::move(list));
      return ok;
    }
    case yaml::NodeType::Map: {
      Map map;
      bool ok = true;
      for (const auto& kv : Entries(m, n)) {
        if (!kv.first.IsScalar()) {
          Fail(Loc(m, kv.first.GetMark()), "a map key must be a string");
          ok = false;
          continue;
        }
        Value e;
        ok = Convert(m, kv.second, ctx, e, depth + 1, nodes, cache) && ok;
        map.Set(std::string(kv.first.Scalar()), std::move(e));
        if (nodes > kMaxNodesPerValue) return false;
      }
      out = Value(std::move(map));
      return ok;
    }
  }
  return true;
}

// `when` must be a boolean: a YAML true/false, or an expression (or one
// {{ }}) whose value is one. A string such as "no", "false" or "0", a
// number, a list... is an error naming its type, never a truth test.
bool ManifestReader::EvalWhen(const Manifest& m, const yaml::Node& n, const Value& ctx,
                              bool& keep) {
  if (!n.IsScalar()) {
    Fail(Loc(m, n.GetMark()), "'when' expects an expression or true/false");
    return false;
  }
  Value v = ScalarFromYaml(n);
  if (v.is_null()) {
    Fail(Loc(m, n.GetMark()), "'when' has no expression");
    return false;
  }
  if (v.is_string()) {
    const std::string& text = v.as_string();
    size_t offset = 0;
    Result<Value> r =
        HasBraces(text) ? Interpolate(text, ctx, &offset) : EvaluateExpression(text, ctx, &offset);
    if (!r.ok()) {
      Fail(ScalarPlace(m, n, text, offset), r.error().message);
      return false;
    }
    v = std::move(r).value();
  }
  if (!v.is_bool()) {
    std::string shown = v.is_string() ? v.ToJson() : v.ToString();
    if (shown.size() > 60) shown = shown.substr(0, 57) + "...";
    Fail(Loc(m, n.GetMark()), "'when' must be true or false, got " +
                                  std::string(KindName(v.kind())) +
                                  (v.is_null() ? std::string() : " " + shown) +
                                  " (compare it: x == \"yes\", x != 0, x in [...])");
    return false;
  }
  keep = v.as_bool();
  return true;
}

bool ManifestReader::ConvertValue(const Manifest& m, const yaml::Node& n, const Value& ctx,
                                  Value& out, ExprCache* cache) {
  size_t nodes = 0;
  last_undefined_.clear();
  // The parser knows the expanded size: a value of aliases of aliases (a
  // "billion laughs") is refused before it is walked.
  bool ok = n.expanded_size() > kMaxNodesPerValue ? (nodes = kMaxNodesPerValue + 1, false)
                                                  : Convert(m, n, ctx, out, 0, nodes, cache);
  if (nodes > kMaxNodesPerValue) {
    Fail(Loc(m, n.GetMark()), "value too large or nested too deeply (more than " +
                                  std::to_string(kMaxNodesPerValue) + " nodes or " +
                                  std::to_string(kMaxDepth) + " levels once aliases are expanded)");
    out = Value();
    return false;
  }
  return ok;
}

std::optional<std::string> ManifestReader::ResolveRepoPath(const Manifest& m,
                                                           const std::string& attr,
                                                           const std::string& given,
                                                           const SourceLoc& at) {
  fs::path joined = fs::path(given).is_absolute() ? fs::path(given) : fs::path(m.real_dir) / given;
  std::string lexical = joined.lexically_normal().string();
  if (lexical.size() > 1 && lexical.back() == '/') lexical.pop_back();
  if (!IsInside(lexical, repo_real_)) {
    Fail(at, attr + " '" + given + "' is outside the config repo " + repo_real_);
    return std::nullopt;
  }
  std::string real = RealPath(lexical);
  if (real.empty()) {
    Fail(at, attr + " '" + given + "' not found (" + lexical + ")");
    return std::nullopt;
  }
  if (!IsInside(real, repo_real_)) {
    Fail(at,
         attr + " '" + given + "' resolves to " + real + ", outside the config repo " + repo_real_);
    return std::nullopt;
  }
  return real;
}

}  // namespace keel::loader
