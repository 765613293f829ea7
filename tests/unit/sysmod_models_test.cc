// Reference models: the parsers/renderers of sysctl, modprobe.d,
// /etc/default/grub and grub.conf as they were before they became views
// over the text (per-line strings, copied), kept verbatim here so that a
// randomized differential test can check the new code gives the same bytes.
// The one intended difference: a modprobe.d file ending in a continuation
// line ("...\\\n" at the end) rendered an extra "\n" (not idempotent); the new
// code keeps its bytes.
#include <doctest/doctest.h>

#include <algorithm>
#include <charconv>
#include <random>

#include "engine/text_lines.h"
#include "resources/common/edit.h"
#include "resources/common/line_edits.h"
#include "resources/common/shell_file.h"
#include "resources/kernel_parameter/cmdline.h"
#include "resources/modprobe/modprobe_conf.h"
#include "resources/sysctl/sysctl_conf.h"
#include "tests/unit/support/random.h"

using namespace keel;

namespace ref_sysctl {
using keel::sysctl::KeyPath;
using keel::sysctl::NormalizeValue;
struct SysctlLine {
  bool is_assignment = false;
  std::string raw;
  std::string key;     // without the leading '-' (ignore-errors mark)
  std::string prefix;  // bytes up to the value ("net.x = ")
  std::string value;
  std::string suffix;  // trailing whitespace and '\r'
  std::string Render() const;
};

class SysctlConf {
 public:
  static SysctlConf Parse(std::string_view text);
  std::string Render() const;
  /// The value of the last assignment of `key` (the one that wins when the
  /// file is loaded); nullopt when the file does not set it.
  std::optional<std::string> Get(std::string_view key) const;
  /// Every assignment of `key` gets `value` (lines whose value is already
  /// equal after NormalizeValue keep their bytes); none: a line is appended
  /// with the spacing around '=' of the file's last assignment (default
  /// "key = value").
  void Set(std::string_view key, std::string_view value);
  /// Drops every assignment of `key`.
  void Remove(std::string_view key);

 private:
  std::vector<SysctlLine> lines_;
  bool final_newline_ = true;
};

namespace {
bool IsBlank(char c) { return c == ' ' || c == '\t'; }

SysctlLine ParseLine(std::string_view line) {
  SysctlLine out;
  out.raw = std::string(line);
  size_t end = line.size();
  while (end > 0 && (IsBlank(line[end - 1]) || line[end - 1] == '\r')) --end;
  size_t i = 0;
  while (i < end && IsBlank(line[i])) ++i;
  if (i >= end || line[i] == '#' || line[i] == ';') return out;
  size_t eq = line.find('=', i);
  if (eq == std::string_view::npos || eq >= end) return out;
  size_t k = i + (line[i] == '-' ? 1 : 0);
  size_t kend = eq;
  while (kend > k && IsBlank(line[kend - 1])) --kend;
  if (kend == k) return out;
  size_t v = eq + 1;
  while (v < end && IsBlank(line[v])) ++v;
  out.is_assignment = true;
  out.key = std::string(line.substr(k, kend - k));
  out.prefix = std::string(line.substr(0, v));
  out.value = std::string(line.substr(v, end - v));
  out.suffix = std::string(line.substr(end));
  return out;
}

}  // namespace

std::string SysctlLine::Render() const {
  if (!is_assignment) return raw;
  return prefix + value + suffix;
}

SysctlConf SysctlConf::Parse(std::string_view text) {
  SysctlConf f;
  f.lines_ = edit::ParseLines<decltype(f.lines_)::value_type>(
      text, [](std::string_view line) { return ParseLine(line); }, f.final_newline_);
  return f;
}

std::string SysctlConf::Render() const { return edit::RenderLines(lines_, final_newline_); }

std::optional<std::string> SysctlConf::Get(std::string_view key) const {
  std::string path = KeyPath(key);
  std::optional<std::string> out;
  for (const auto& l : lines_)
    if (l.is_assignment && KeyPath(l.key) == path) out = l.value;
  return out;
}

void SysctlConf::Set(std::string_view key, std::string_view value) {
  std::string path = KeyPath(key);
  std::string want = NormalizeValue(value);
  bool found = false;
  const SysctlLine* style = nullptr;
  for (auto& l : lines_) {
    if (!l.is_assignment) continue;
    style = &l;
    if (KeyPath(l.key) != path) continue;
    found = true;
    if (NormalizeValue(l.value) != want) l.value = std::string(value);
  }
  if (found) return;
  std::string between = " = ";
  if (style) {
    // The bytes between the key and the value of the last assignment.
    size_t kpos = style->prefix.find(style->key);
    if (kpos != std::string::npos) between = style->prefix.substr(kpos + style->key.size());
  }
  SysctlLine l;
  l.is_assignment = true;
  l.key = std::string(key);
  l.prefix = l.key + between;
  l.value = std::string(value);
  final_newline_ = true;
  lines_.push_back(std::move(l));
}

void SysctlConf::Remove(std::string_view key) {
  std::string path = KeyPath(key);
  std::erase_if(lines_,
                [&](const SysctlLine& l) { return l.is_assignment && KeyPath(l.key) == path; });
}

}  // namespace ref_sysctl

namespace ref_modprobe {
using namespace keel::modprobe;
struct ConfLine {
  std::string raw;                  // exact text, continuation newlines included
  std::vector<std::string> tokens;  // empty for comments and blanks
};

class ModprobeConf {
 public:
  static ModprobeConf Parse(std::string_view text);
  std::string Render() const;
  ModuleState Inspect(std::string_view module) const;
  /// Makes the file say what `spec` asks: options on one line (kept as is
  /// when it holds the same pairs in any order), one alias line per name
  /// (an "alias NAME other" line is pointed at the module), one blacklist
  /// line, one install line. New lines go after the module's last line,
  /// else at the end.
  void Apply(const ModuleSpec& spec);
  /// True when the file has no lines other than blanks.
  bool Empty() const;

 private:
  std::vector<ConfLine> lines_;
  bool final_newline_ = true;
};

namespace {
bool IsBlank(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

std::vector<std::string> Tokens(std::string_view text) {
  std::string joined;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\\' && i + 1 < text.size() && text[i + 1] == '\n') {
      joined += ' ';
      ++i;
      continue;
    }
    joined += text[i];
  }
  std::vector<std::string> out;
  size_t i = 0;
  while (i < joined.size() && IsBlank(joined[i])) ++i;
  if (i >= joined.size() || joined[i] == '#') return out;
  while (i < joined.size()) {
    while (i < joined.size() && IsBlank(joined[i])) ++i;
    size_t s = i;
    while (i < joined.size() && !IsBlank(joined[i])) ++i;
    if (i > s) out.push_back(joined.substr(s, i - s));
  }
  return out;
}

ConfLine Make(std::string text) {
  ConfLine l;
  l.tokens = Tokens(text);
  l.raw = std::move(text);
  return l;
}

std::string Rest(const std::vector<std::string>& t, size_t from) {
  std::string out;
  for (size_t i = from; i < t.size(); ++i) out += (out.empty() ? "" : " ") + t[i];
  return out;
}

enum class Kind { kOther, kOptions, kAlias, kBlacklist, kInstall };

// The kind of `l` as far as `module` is concerned (kOther when the line
// is not about it). `alias_names`: names whose alias lines this module owns.
Kind KindFor(const ConfLine& l, const std::string& key) {
  const auto& t = l.tokens;
  if (t.size() < 2) return Kind::kOther;
  if (t[0] == "options" && ModuleKey(t[1]) == key) return Kind::kOptions;
  if (t[0] == "alias" && t.size() >= 3 && ModuleKey(t[2]) == key) return Kind::kAlias;
  if (t[0] == "blacklist" && ModuleKey(t[1]) == key) return Kind::kBlacklist;
  if (t[0] == "install" && ModuleKey(t[1]) == key) return Kind::kInstall;
  return Kind::kOther;
}

Options Sorted(Options o) {
  std::sort(o.begin(), o.end());
  return o;
}

}  // namespace

ModprobeConf ModprobeConf::Parse(std::string_view text) {
  ModprobeConf f;
  std::string pending;
  bool continuing = false;
  for (std::string_view line : SplitLinesKeepEnds(text)) {
    bool terminated = line.back() == '\n';
    if (terminated) line.remove_suffix(1);
    if (!terminated) f.final_newline_ = false;
    pending += line;
    std::string_view trimmed = line;
    while (!trimmed.empty() && trimmed.back() == '\r') trimmed.remove_suffix(1);
    continuing = !trimmed.empty() && trimmed.back() == '\\' && terminated;
    if (continuing) {
      pending += '\n';
      continue;
    }
    f.lines_.push_back(Make(std::move(pending)));
    pending.clear();
  }
  if (!pending.empty()) f.lines_.push_back(Make(std::move(pending)));
  return f;
}

std::string ModprobeConf::Render() const {
  std::string out;
  for (size_t i = 0; i < lines_.size(); ++i) {
    out += lines_[i].raw;
    if (i + 1 < lines_.size() || final_newline_) out += '\n';
  }
  return out;
}

bool ModprobeConf::Empty() const {
  return std::all_of(lines_.begin(), lines_.end(), [](const ConfLine& l) {
    return l.raw.find_first_not_of(" \t\r\n") == std::string::npos;
  });
}

ModuleState ModprobeConf::Inspect(std::string_view module) const {
  ModuleState s;
  std::string key = ModuleKey(module);
  for (const auto& l : lines_) {
    switch (KindFor(l, key)) {
      case Kind::kOptions: {
        std::string rest = Rest(l.tokens, 2);
        for (auto& o : ParseOptions(rest)) s.options.push_back(std::move(o));
        break;
      }
      case Kind::kAlias:
        s.aliases.push_back(l.tokens[1]);
        break;
      case Kind::kBlacklist:
        s.blacklist = true;
        break;
      case Kind::kInstall:
        if (!s.install) s.install = Rest(l.tokens, 2);
        break;
      case Kind::kOther:
        continue;
    }
    s.mentioned = true;
  }
  return s;
}

void ModprobeConf::Apply(const ModuleSpec& spec) {
  std::string key = ModuleKey(spec.module);
  const std::string& m = spec.module;
  std::vector<ConfLine> out;
  int last = -1;  // index in `out` of the module's last kept line
  bool options_done = false, blacklist_done = false, install_done = false;
  std::vector<std::string> aliases_done;
  auto want_alias = [&](const std::string& name) {
    return spec.aliases &&
           std::find(spec.aliases->begin(), spec.aliases->end(), name) != spec.aliases->end();
  };
  auto keep = [&](ConfLine l) {
    out.push_back(std::move(l));
    last = static_cast<int>(out.size()) - 1;
  };
  for (auto& l : lines_) {
    Kind kind = KindFor(l, key);
    // "alias NAME other": a name this module owns, pointed elsewhere.
    bool foreign_alias = kind == Kind::kOther && l.tokens.size() >= 3 && l.tokens[0] == "alias" &&
                         !spec.absent && want_alias(l.tokens[1]);
    if (kind == Kind::kOther && !foreign_alias) {
      out.push_back(std::move(l));
      continue;
    }
    if (spec.absent) continue;
    if (foreign_alias || kind == Kind::kAlias) {
      if (!spec.aliases) {
        keep(std::move(l));
        continue;
      }
      const std::string& name = l.tokens[1];
      bool dup = std::find(aliases_done.begin(), aliases_done.end(), name) != aliases_done.end();
      if (!want_alias(name) || dup) continue;
      aliases_done.push_back(name);
      keep(foreign_alias ? Make("alias " + name + " " + m) : std::move(l));
      continue;
    }
    if (kind == Kind::kOptions) {
      if (!spec.options) {
        keep(std::move(l));
        continue;
      }
      if (options_done || spec.options->empty()) continue;
      options_done = true;
      // One line holding the same pairs (any order) stays as written.
      bool same = Sorted(ParseOptions(Rest(l.tokens, 2))) == Sorted(*spec.options);
      bool only = std::count_if(lines_.begin(), lines_.end(), [&](const ConfLine& o) {
                    return KindFor(o, key) == Kind::kOptions;
                  }) == 1;
      keep(same && only ? std::move(l) : Make("options " + m + " " + RenderOptions(*spec.options)));
      continue;
    }
    if (kind == Kind::kBlacklist) {
      if (!spec.blacklist) {
        keep(std::move(l));
        continue;
      }
      if (blacklist_done || !*spec.blacklist) continue;
      blacklist_done = true;
      keep(std::move(l));
      continue;
    }
    if (kind == Kind::kInstall) {
      if (!spec.install) {
        keep(std::move(l));
        continue;
      }
      if (install_done || spec.install->empty()) continue;
      install_done = true;
      bool same = Rest(l.tokens, 2) == Rest(Tokens(*spec.install), 0);
      keep(same ? std::move(l) : Make("install " + m + " " + *spec.install));
      continue;
    }
  }
  std::vector<ConfLine> added;
  if (!spec.absent) {
    if (spec.options && !spec.options->empty() && !options_done)
      added.push_back(Make("options " + m + " " + RenderOptions(*spec.options)));
    if (spec.aliases)
      for (const auto& a : *spec.aliases)
        if (std::find(aliases_done.begin(), aliases_done.end(), a) == aliases_done.end()) {
          added.push_back(Make("alias " + a + " " + m));
          aliases_done.push_back(a);
        }
    if (spec.blacklist && *spec.blacklist && !blacklist_done)
      added.push_back(Make("blacklist " + m));
    if (spec.install && !spec.install->empty() && !install_done)
      added.push_back(Make("install " + m + " " + *spec.install));
  }
  if (!added.empty()) {
    size_t at = last >= 0 ? static_cast<size_t>(last) + 1 : out.size();
    // A file whose last line lacks '\n' gets it when a line follows.
    if (at == out.size()) final_newline_ = true;
    out.insert(out.begin() + static_cast<long>(at), added.begin(), added.end());
  }
  lines_ = std::move(out);
}

}  // namespace ref_modprobe

namespace ref_kparam {
using namespace keel::kparam;
namespace {

bool Blank(char c) { return c == ' ' || c == '\t' || c == '\n'; }

std::string Trim(std::string_view s) {
  size_t b = 0, e = s.size();
  while (b < e && (Blank(s[b]) || s[b] == '\r')) ++b;
  while (e > b && (Blank(s[e - 1]) || s[e - 1] == '\r')) --e;
  return std::string(s.substr(b, e - b));
}

// The raw value of `key` in a /etc/default/grub line, for the check that
// each assignment of the variables keel reads parses (a quote that never
// closes makes ShellFile keep the line opaque; keel must not then append
// a second assignment and leave the broken one in place).
Result<void> CheckAssignments(std::string_view text) {
  edit::TextLines tl = edit::TextLines::Parse(text);
  const auto& L = tl.lines;
  for (size_t i = 0; i < L.size(); ++i) {
    std::string_view l = L[i];
    size_t p = 0;
    while (p < l.size() && (l[p] == ' ' || l[p] == '\t')) ++p;
    if (l.substr(p, 6) == "export" && p + 6 < l.size() && (l[p + 6] == ' ' || l[p + 6] == '\t')) {
      p += 6;
      while (p < l.size() && (l[p] == ' ' || l[p] == '\t')) ++p;
    }
    std::string_view rest = l.substr(p);
    std::string key;
    for (const char* k : {kCmdlineDefaultVar, kCmdlineVar})
      if (rest.substr(0, std::string_view(k).size() + 1) == std::string(k) + "=") {
        key = k;
        break;
      }
    if (key.empty()) continue;
    std::string joined(l);
    shell::Assignment a;
    size_t end = i;
    shell::ParseStatus st = shell::ParseAssignment(joined, a);
    while (st == shell::ParseStatus::kUnterminated && end + 1 < L.size()) {
      ++end;
      joined += '\n';
      joined += L[end];
      st = shell::ParseAssignment(joined, a);
    }
    if (st != shell::ParseStatus::kAssignment)
      return MakeError(ErrorCode::kInvalid, "line " + std::to_string(i + 1) + ": " + key +
                                                (st == shell::ParseStatus::kUnterminated
                                                     ? ": unterminated quote"
                                                     : ": not a plain assignment keel can edit"));
    if (a.dynamic)
      return MakeError(ErrorCode::kInvalid, "line " + std::to_string(i + 1) + ": " + key +
                                                " uses shell expansion (" + a.raw_value +
                                                "); keel edits literal values only");
    i = end;
  }
  return {};
}

}  // namespace

// ---- /etc/default/grub ------------------------------------------------------

Result<std::string> DefaultGrubCmdline(std::string_view text) {
  KEEL_TRY(CheckAssignments(text));
  shell::ShellFile f = shell::ShellFile::Parse(text);
  std::string out;
  for (const char* k : {kCmdlineVar, kCmdlineDefaultVar})
    if (const shell::Assignment* a = f.Find(k)) out += (out.empty() ? "" : " ") + a->value;
  return out;
}

Result<std::string> EditDefaultGrub(std::string_view text, const Param& want) {
  KEEL_TRY(CheckAssignments(text));
  shell::ShellFile f = shell::ShellFile::Parse(text);
  const shell::Assignment* lin = f.Find(kCmdlineVar);
  std::string cur = lin ? lin->value : "";
  std::string next = EditCmdline(cur, want);
  if (next != cur) f.Set(kCmdlineVar, next, std::nullopt, shell::QuoteStyle::kDouble);
  if (const shell::Assignment* d = f.Find(kCmdlineDefaultVar)) {
    // Tokens of GRUB_CMDLINE_LINUX_DEFAULT come later on the generated
    // kernel line and would win: another value of the name goes.
    auto found = Lookup(d->value, want.name);
    if (found && (want.absent || *found != want.value)) {
      std::string nd = EditCmdline(d->value, Param{want.name, std::nullopt, true});
      f.Set(kCmdlineDefaultVar, nd, std::nullopt);
    }
  }
  std::string out = f.Render();
  return out == text ? std::string(text) : out;
}

// ---- /boot/grub/grub.conf ---------------------------------------------------

namespace {

struct ConfLine {
  std::string keyword;  // first word ("" for blank or comment)
  size_t value_at = 0;  // where the text after the keyword and its separator starts
};

ConfLine Classify(std::string_view l) {
  ConfLine c;
  size_t p = 0;
  while (p < l.size() && (l[p] == ' ' || l[p] == '\t')) ++p;
  if (p >= l.size() || l[p] == '#') return c;
  size_t e = p;
  while (e < l.size() && l[e] != ' ' && l[e] != '\t' && l[e] != '=' && l[e] != '\r') ++e;
  c.keyword = std::string(l.substr(p, e - p));
  while (e < l.size() && (l[e] == ' ' || l[e] == '\t' || l[e] == '=')) ++e;
  c.value_at = e;
  return c;
}

// Where the arguments of a kernel line start (just after the image path,
// options such as --type=netbsd skipped); npos when there is no image.
size_t ArgsStart(std::string_view l, size_t value_at) {
  size_t p = value_at;
  while (p < l.size()) {
    while (p < l.size() && (l[p] == ' ' || l[p] == '\t')) ++p;
    size_t e = p;
    while (e < l.size() && l[e] != ' ' && l[e] != '\t' && l[e] != '\r') ++e;
    if (e == p) return std::string_view::npos;
    if (l.substr(p, 2) != "--") return e;
    p = e;
  }
  return std::string_view::npos;
}

std::string_view WithoutCr(std::string_view l) {
  return !l.empty() && l.back() == '\r' ? l.substr(0, l.size() - 1) : l;
}

}  // namespace

Result<std::vector<KernelLine>> KernelLines(std::string_view text, bool default_only) {
  edit::TextLines tl = edit::TextLines::Parse(text);
  std::optional<std::string> default_value;
  struct Entry {
    std::string title;
    std::vector<KernelLine> kernels;
  };
  std::vector<Entry> entries;
  for (size_t i = 0; i < tl.lines.size(); ++i) {
    std::string_view l = WithoutCr(tl.lines[i]);
    ConfLine c = Classify(l);
    if (c.keyword == "default" && entries.empty() && !default_value) {
      default_value = Trim(l.substr(c.value_at));
    } else if (c.keyword == "title") {
      entries.push_back({Trim(l.substr(c.value_at)), {}});
    } else if (c.keyword == "kernel" && !entries.empty()) {
      size_t at = ArgsStart(l, c.value_at);
      if (at != std::string_view::npos)
        entries.back().kernels.push_back({i, std::string(l.substr(at))});
    }
  }
  std::vector<KernelLine> out;
  if (!default_only) {
    for (auto& e : entries)
      for (auto& k : e.kernels) out.push_back(std::move(k));
    if (out.empty())
      return MakeError(ErrorCode::kInvalid, entries.empty() ? "no boot entry (no `title` line)"
                                                            : "no `kernel` line in any of the " +
                                                                  std::to_string(entries.size()) +
                                                                  " boot entries");
    return out;
  }
  int n = 0;
  if (default_value) {
    std::string v = default_value->substr(0, default_value->find_first_of(" \t"));
    auto [ptr, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
    if (ec != std::errc() || ptr != v.data() + v.size() || n < 0)
      return MakeError(ErrorCode::kInvalid,
                       "default=" + v +
                           " does not name an entry by number; use entries: all or a numeric "
                           "default");
  }
  if (static_cast<size_t>(n) >= entries.size())
    return MakeError(ErrorCode::kInvalid, "default=" + std::to_string(n) + " names entry " +
                                              std::to_string(n) + " (counted from 0), but there " +
                                              (entries.size() == 1 ? "is " : "are ") +
                                              std::to_string(entries.size()) + " `title` entries");
  if (entries[n].kernels.empty())
    return MakeError(ErrorCode::kInvalid, "the default entry " + std::to_string(n) + " (title " +
                                              entries[n].title + ") has no `kernel` line");
  return std::move(entries[n].kernels);
}

Result<std::string> EditGrubConf(std::string_view text, const Param& want, bool default_only) {
  auto kernels = KernelLines(text, default_only);
  if (!kernels.ok()) return kernels.error();
  edit::TextLines tl = edit::TextLines::Parse(text);
  bool changed = false;
  for (const KernelLine& k : *kernels) {
    std::string next =
        k.args.empty() && !want.absent ? " " + want.Token() : EditCmdline(k.args, want);
    if (next == k.args) continue;
    std::string& line = tl.lines[k.line];
    bool cr = !line.empty() && line.back() == '\r';
    size_t at = line.size() - (cr ? 1 : 0) - k.args.size();
    line = line.substr(0, at) + next + (cr ? "\r" : "");
    changed = true;
  }
  return changed ? tl.Render() : std::string(text);
}

}  // namespace ref_kparam

// ---- the differential tests --------------------------------------------------

namespace {

using keel::testing::Chance;
using keel::testing::Pick;
using keel::testing::Rng;

// A random file from `pool` lines: CR, trailing blanks, a missing final
// newline, blank lines and duplicates come from the pool and from here.
std::string RandomText(Rng& rng, const std::vector<std::string>& pool, size_t max_lines) {
  std::string out;
  size_t n = std::uniform_int_distribution<size_t>(0, max_lines)(rng);
  for (size_t i = 0; i < n; ++i) {
    std::string l = Pick(rng, pool);
    if (Chance(rng, 10)) l += Chance(rng, 50) ? " " : "\t";
    if (Chance(rng, 10)) l += "\r";
    out += l;
    if (i + 1 < n || Chance(rng, 70)) out += '\n';
  }
  return out;
}

std::string Show(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '\n')
      out += "\\n";
    else if (c == '\r')
      out += "\\r";
    else if (c == '\t')
      out += "\\t";
    else
      out += c;
  }
  return out;
}

// Lines of modprobe files: options, aliases (also of other modules),
// blacklist, install, comments, blanks, continuation lines.
const std::vector<std::string>& ModprobePool() {
  static const std::vector<std::string> pool = {"options m a=1",
                                                "options m-x b=2 c=\"x y\"",
                                                "options m_x a=1",
                                                "options m a=1 b=2",
                                                "options m b=2 a=1",
                                                "options  m\ta=1",
                                                "alias e0 m",
                                                "alias e1 other",
                                                "alias e0 other",
                                                "alias e2 m_x",
                                                "blacklist m",
                                                "blacklist m_x",
                                                "blacklist  m",
                                                "install m /bin/true",
                                                "install m  /bin/true  ",
                                                "install m /bin/false x",
                                                "# options m a=1",
                                                "",
                                                "  \t",
                                                "options m a=1 \\",
                                                "  b=2",
                                                "options m \\",
                                                "a=1",
                                                "alias \\",
                                                "e2 m",
                                                "softdep m pre: x",
                                                "options",
                                                "blacklist",
                                                "  # blacklist m",
                                                "\\",
                                                "remove m /bin/true",
                                                "alias e0 m \\"};
  return pool;
}

// A random resource of one of `modules`.
modprobe::ModuleSpec RandomSpec(Rng& rng, const std::vector<std::string>& modules) {
  modprobe::ModuleSpec spec;
  spec.module = Pick(rng, modules);
  spec.absent = Chance(rng, 10);
  if (Chance(rng, 60)) {
    static const std::vector<modprobe::Options> opts = {
        {}, {{"a", "1"}}, {{"a", "1"}, {"b", "2"}}, {{"b", "2"}, {"a", "1"}}, {{"c", "x y"}}};
    spec.options = Pick(rng, opts);
  }
  if (Chance(rng, 40)) {
    static const std::vector<std::vector<std::string>> al = {{}, {"e0"}, {"e0", "e2"}, {"e1"}};
    spec.aliases = Pick(rng, al);
  }
  if (Chance(rng, 40)) spec.blacklist = Chance(rng, 50);
  if (Chance(rng, 30)) {
    static const std::vector<std::string> ins = {"", "/bin/true", "/bin/false x", "  /bin/true"};
    spec.install = Pick(rng, ins);
  }
  return spec;
}

}  // namespace

TEST_CASE("sysmod models: sysctl_conf renders what the line-vector model rendered") {
  const std::vector<std::string> pool = {
      "net.a = 1",     "  net.b=2  ",   "-net.a = 3", "net/a\t=\t4",
      "# net.a = 5",   "; net.b = 6",   "",           "   ",
      "noequals",      "=novalue",      "net.c = ",   "kernel.x = a  b\tc",
      "net.a.b = 1",   "- net.b = 7",   "--x=1",      "net.a=1=2",
      "\tnet.c\t=\t9", "net.b = 2 # c", "/net/a = 8", ".net.a = 0"};
  const std::vector<std::string> keys = {"net.a",   "net/a", "net.b",   "net.c", "kernel.x",
                                         "net.a.b", "-x",    "new.key", "/net/b"};
  const std::vector<std::string> values = {"1", " 1 ", "a b", "a  b", "", "2", "9", "a\tb"};
  Rng rng(20261202);
  for (int iter = 0; iter < 20000; ++iter) {
    std::string text = RandomText(rng, pool, 8);
    auto ref = ref_sysctl::SysctlConf::Parse(text);
    auto now = sysctl::SysctlConf::Parse(text);
    REQUIRE(now.Render() == text);
    int ops = std::uniform_int_distribution<int>(1, 3)(rng);
    std::string trace;
    for (int o = 0; o < ops; ++o) {
      const std::string& k = Pick(rng, keys);
      if (Chance(rng, 75)) {
        const std::string& v = Pick(rng, values);
        ref.Set(k, v);
        now.Set(k, v);
        trace += " set " + k + "=" + v;
      } else {
        ref.Remove(k);
        now.Remove(k);
        trace += " remove " + k;
      }
      for (const auto& q : keys) REQUIRE(now.Get(q) == ref.Get(q));
    }
    INFO("text: ", Show(text), " ops:", trace);
    REQUIRE(Show(now.Render()) == Show(ref.Render()));
  }
}

TEST_CASE("sysctl index: Get and InPlace answer as a scan and an edit do") {
  const std::vector<std::string> pool = {
      "net.a = 1",     "  net.b=2  ",   "-net.a = 3", "net/a\t=\t4",
      "# net.a = 5",   "; net.b = 6",   "",           "   ",
      "noequals",      "=novalue",      "net.c = ",   "kernel.x = a  b\tc",
      "net.a.b = 1",   "- net.b = 7",   "--x=1",      "net.a=1=2",
      "\tnet.c\t=\t9", "net.b = 2 # c", "/net/a = 8", ".net.a = 0",
      "net.a = 1"};
  const std::vector<std::string> keys = {"net.a",   "net/a", "net.b",   "net.c", "kernel.x",
                                         "net.a.b", "-x",    "new.key", "/net/b"};
  const std::vector<std::string> values = {"1", " 1 ", "a b", "a  b", "", "2", "9", "a\tb"};
  Rng rng(20261206);
  int in_place = 0;
  for (int iter = 0; iter < 20000; ++iter) {
    std::string text = RandomText(rng, pool, 8);
    auto index = sysctl::SysctlIndex::Build(text);
    for (const auto& k : keys) {
      INFO("text: ", Show(text), " key: ", k);
      CHECK(index.Get(k) == sysctl::SysctlConf::Parse(text).Get(k));
      const std::string& v = Pick(rng, values);
      auto f = sysctl::SysctlConf::Parse(text);
      f.Set(k, v);
      const bool unchanged = !f.edited() || f.Render() == text;
      // Never "in place" when the edit changes the file; and always when
      // it does not and the key is there.
      CHECK(index.InPlace(k, v) == (unchanged && index.Get(k).has_value()));
      in_place += index.InPlace(k, v);
    }
  }
  CHECK(in_place > 1000);
}

TEST_CASE("sysmod models: modprobe_conf renders what the line-vector model rendered") {
  const std::vector<std::string>& pool = ModprobePool();
  const std::vector<std::string> modules = {"m", "m-x", "m_x", "other"};
  Rng rng(7);
  int edited_open = 0;
  for (int iter = 0; iter < 30000; ++iter) {
    std::string text = RandomText(rng, pool, 8);
    modprobe::ModuleSpec spec = RandomSpec(rng, modules);
    INFO("text: ", Show(text), " module ", spec.module, spec.absent ? " absent" : "");
    auto ref = ref_modprobe::ModprobeConf::Parse(text);
    auto now = modprobe::ModprobeConf::Parse(text);
    // A file ending in a continuation line: the old model added a '\n'.
    const bool open_end = ref.Render() != text;
    REQUIRE(now.Render() == text);
    for (const auto& mod : modules) {
      auto a = ref.Inspect(mod), b = now.Inspect(mod);
      REQUIRE(a.options == b.options);
      REQUIRE(a.aliases == b.aliases);
      REQUIRE(a.blacklist == b.blacklist);
      REQUIRE(a.install == b.install);
      REQUIRE(a.mentioned == b.mentioned);
    }
    std::map<std::string, modprobe::ModuleState> all = {{"m", {}}, {"m_x", {}}, {"other", {}}};
    now.InspectAll(all);
    for (auto& [k, st] : all) {
      auto a = ref.Inspect(k);
      REQUIRE(a.options == st.options);
      REQUIRE(a.aliases == st.aliases);
      REQUIRE(a.mentioned == st.mentioned);
    }
    ref.Apply(spec);
    now.Apply(spec);
    std::string want = ref.Render();
    if (open_end && !now.edited()) {
      CHECK(Show(want) == Show(text + "\n"));  // the old quirk, now gone
      want = text;
    }
    if (open_end && now.edited()) ++edited_open;
    REQUIRE(Show(now.Render()) == Show(want));
    REQUIRE(ref.Empty() == modprobe::ModprobeConf::Blank(now.Render()));
  }
  CHECK(edited_open > 100);
}

TEST_CASE("modprobe index: Inspect and InPlace answer as a scan and an edit do") {
  const std::vector<std::string>& pool = ModprobePool();
  const std::vector<std::string> modules = {"m", "m-x", "m_x", "other"};
  Rng rng(20261207);
  int in_place = 0, missed = 0;
  for (int iter = 0; iter < 30000; ++iter) {
    std::string text = RandomText(rng, pool, 8);
    auto index = modprobe::ModprobeIndex::Build(text);
    for (const auto& mod : modules) {
      INFO("text: ", Show(text), " module ", mod);
      auto a = modprobe::ModprobeConf::Parse(text).Inspect(mod), b = index.Inspect(mod);
      CHECK(a.options == b.options);
      CHECK(a.aliases == b.aliases);
      CHECK(a.blacklist == b.blacklist);
      CHECK(a.install == b.install);
      CHECK(a.mentioned == b.mentioned);
    }
    modprobe::ModuleSpec spec = RandomSpec(rng, modules);
    INFO("text: ", Show(text), " module ", spec.module, spec.absent ? " absent" : "", " options ",
         spec.options ? modprobe::RenderOptions(*spec.options) : "-", " aliases ",
         spec.aliases ? std::to_string(spec.aliases->size()) : "-", " blacklist ",
         spec.blacklist ? (*spec.blacklist ? "1" : "0") : "-", " install ",
         spec.install.value_or("-"));
    auto full = modprobe::ModprobeConf::Parse(text);
    full.Apply(spec);
    INFO("after: ", Show(full.Render()));
    // "In place" is never wrong, and rarely missed.
    if (index.InPlace(spec)) {
      CHECK_FALSE(full.edited());
      ++in_place;
    } else if (!full.edited()) {
      ++missed;
    }
    // And on the edited file (the next run's), for the same spec.
    std::string after = full.Render();
    auto again = modprobe::ModprobeIndex::Build(after);
    auto full2 = modprobe::ModprobeConf::Parse(after);
    full2.Apply(spec);
    if (again.InPlace(spec)) {
      CHECK_FALSE(full2.edited());
      ++in_place;
    } else if (!full2.edited()) {
      ++missed;
    }
  }
  CAPTURE(missed);
  CHECK(in_place > 10000);
  CHECK(missed * 20 < in_place);
}

TEST_CASE("sysmod models: modprobe file ending in a continuation line is a fixed point") {
  std::string text = "# x\noptions m a=1 \\\n";
  modprobe::ModuleSpec spec{.module = "m", .options = modprobe::Options{{"a", "1"}}};
  auto f = modprobe::ModprobeConf::Parse(text);
  f.Apply(spec);
  CHECK_FALSE(f.edited());
  CHECK(f.Render() == text);
  // Appending after it ends the continuation first (what modprobe reads).
  modprobe::ModuleSpec other{.module = "n", .blacklist = true};
  auto g = modprobe::ModprobeConf::Parse(text);
  g.Apply(other);
  CHECK(g.Render() == text + "\nblacklist n\n");
}

TEST_CASE("sysmod models: /etc/default/grub edits equal the old model's, errors included") {
  const std::vector<std::string> pool = {"GRUB_TIMEOUT=5",
                                         "GRUB_CMDLINE_LINUX=\"ro quiet\"",
                                         "GRUB_CMDLINE_LINUX='a b=1'",
                                         "GRUB_CMDLINE_LINUX=quiet",
                                         "export GRUB_CMDLINE_LINUX=\"x\"",
                                         "GRUB_CMDLINE_LINUX_DEFAULT=\"quiet splash x=2\"",
                                         "GRUB_CMDLINE_LINUX_DEFAULT=''",
                                         "GRUB_CMDLINE_LINUX=\"rd.lvm.lv=a",
                                         "GRUB_CMDLINE_LINUX='open",
                                         "b c\"",
                                         "d'",
                                         "\"",
                                         "# comment",
                                         "",
                                         "GRUB_CMDLINE_LINUX=\"$x\"",
                                         "GRUB_CMDLINE_LINUX=\"a\" # c",
                                         "GRUB_CMDLINE_LINUX=\"a \\",
                                         "GRUB_CMDLINE_LINUX=a\\",
                                         "b\"",
                                         "GRUB_CMDLINE_LINUX=\"a $(b\"",
                                         "GRUB_CMDLINE_LINUX=`x",
                                         "if true; then",
                                         "  GRUB_CMDLINE_LINUX=\"in block\"",
                                         "fi",
                                         "GRUB_CMDLINE_LINUXX=1",
                                         "GRUB_CMDLINE_LINUX=\"x=1 x=2 quiet\"  "};
  const std::vector<std::string> names = {"quiet", "x",      "b",           "rd.lvm.lv",
                                          "ro",    "splash", "crash-kernel"};
  Rng rng(99);
  for (int iter = 0; iter < 20000; ++iter) {
    std::string text = RandomText(rng, pool, 7);
    kparam::Param p;
    p.name = Pick(rng, names);
    p.absent = Chance(rng, 25);
    if (!p.absent && Chance(rng, 60)) p.value = Chance(rng, 50) ? "1" : "2";
    INFO("text: ", Show(text), " param ", p.name);
    auto a = ref_kparam::EditDefaultGrub(text, p);
    auto b = kparam::EditDefaultGrub(text, p);
    REQUIRE(a.ok() == b.ok());
    if (a.ok())
      REQUIRE(Show(*a) == Show(*b));
    else
      REQUIRE(a.error().message == b.error().message);
    auto c = ref_kparam::DefaultGrubCmdline(text);
    auto d = kparam::DefaultGrubCmdline(text);
    REQUIRE(c.ok() == d.ok());
    if (c.ok())
      REQUIRE(*c == *d);
    else
      REQUIRE(c.error().message == d.error().message);
  }
}

TEST_CASE("sysmod models: grub.conf edits equal the old model's") {
  const std::vector<std::string> pool = {"default=0",
                                         "default=1",
                                         "default=saved",
                                         "timeout=5",
                                         "title a",
                                         "title b",
                                         "\tkernel /vmlinuz ro root=/dev/sda1 quiet",
                                         "kernel /vmlinuz",
                                         "kernel --type=netbsd /x x=1",
                                         "\tkernel /vmlinuz x=1 x=2",
                                         "  initrd /initrd",
                                         "# kernel /vmlinuz quiet",
                                         "",
                                         "kernel"};
  const std::vector<std::string> names = {"quiet", "x", "ro", "root"};
  Rng rng(5);
  for (int iter = 0; iter < 20000; ++iter) {
    std::string text = RandomText(rng, pool, 8);
    kparam::Param p;
    p.name = Pick(rng, names);
    p.absent = Chance(rng, 25);
    if (!p.absent && Chance(rng, 60)) p.value = Chance(rng, 50) ? "1" : "/dev/sdb";
    bool def = Chance(rng, 50);
    INFO("text: ", Show(text), " param ", p.name);
    auto a = ref_kparam::EditGrubConf(text, p, def);
    auto b = kparam::EditGrubConf(text, p, def);
    REQUIRE(a.ok() == b.ok());
    if (a.ok())
      REQUIRE(Show(*a) == Show(*b));
    else
      REQUIRE(a.error().message == b.error().message);
    auto c = ref_kparam::KernelLines(text, def);
    auto d = kparam::KernelLines(text, def);
    REQUIRE(c.ok() == d.ok());
    if (c.ok()) {
      REQUIRE(c->size() == d->size());
      for (size_t i = 0; i < c->size(); ++i) REQUIRE((*c)[i].args == (*d)[i].args);
    }
  }
}

TEST_CASE("sysmod models: an unclosed quote over a million lines is checked in linear time") {
  std::string text = "GRUB_CMDLINE_LINUX=\"ro quiet\nGRUB_TIMEOUT=5\n";
  text.append(1000000, '\n');
  auto r = kparam::EditDefaultGrub(text, kparam::Param{"x", "1", false});
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message == "line 1: GRUB_CMDLINE_LINUX: unterminated quote");
  text += "x\"\n";
  CHECK(kparam::DefaultGrubCmdline(text).ok());
  // The same answers as the old model (quadratic here) on a smaller file.
  std::string small = "GRUB_CMDLINE_LINUX=\"ro quiet\n";
  small.append(20000, '\n');
  for (int closed = 0; closed < 2; ++closed) {
    auto a = ref_kparam::EditDefaultGrub(small, kparam::Param{"x", "1", false});
    auto b = kparam::EditDefaultGrub(small, kparam::Param{"x", "1", false});
    REQUIRE(a.ok() == b.ok());
    CHECK((a.ok() ? *a == *b : a.error().message == b.error().message));
    small += "x\" y\nGRUB_CMDLINE_LINUX=\"a\n\n\"\n";
  }
}
