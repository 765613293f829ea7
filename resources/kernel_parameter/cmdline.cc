#include "resources/kernel_parameter/cmdline.h"

#include <charconv>

#include "resources/common/edit.h"
#include "resources/common/shell_file.h"

namespace keel::kparam {
namespace {

bool Blank(char c) { return c == ' ' || c == '\t' || c == '\n'; }

std::string Trim(std::string_view s) {
  size_t b = 0, e = s.size();
  while (b < e && (Blank(s[b]) || s[b] == '\r')) ++b;
  while (e > b && (Blank(s[e - 1]) || s[e - 1] == '\r')) --e;
  return std::string(s.substr(b, e - b));
}

// Removes the token [b, e) of `out` (positions valid in `out`): with the
// blanks before it; the first token with the blanks after it; the only
// token with every blank (" quiet" after a kernel image becomes "").
void RemoveToken(std::string& out, size_t b, size_t e) {
  size_t lead = b;
  while (lead > 0 && Blank(out[lead - 1])) --lead;
  if (lead > 0) {
    out.erase(lead, e - lead);
    return;
  }
  size_t trail = e;
  while (trail < out.size() && Blank(out[trail])) ++trail;
  if (trail < out.size())
    out.erase(b, trail - b);  // the first token: the blanks after it go
  else
    out.erase(lead, trail - lead);  // the only token: its blanks go too
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

bool SameName(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i] == '-' ? '_' : a[i], y = b[i] == '-' ? '_' : b[i];
    if (x != y) return false;
  }
  return true;
}

std::string_view NameOf(std::string_view token) { return token.substr(0, token.find('=')); }

std::vector<Token> Tokenize(std::string_view line) {
  std::vector<Token> out;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && Blank(line[i])) ++i;
    if (i >= line.size()) break;
    size_t b = i;
    bool quoted = false;
    while (i < line.size() && (quoted || !Blank(line[i]))) {
      if (line[i] == '"') quoted = !quoted;
      ++i;
    }
    out.push_back({b, i, line.substr(b, i - b)});
  }
  return out;
}

std::optional<std::optional<std::string>> Lookup(std::string_view line, std::string_view name) {
  std::optional<std::optional<std::string>> found;
  for (const Token& t : Tokenize(line)) {
    if (!SameName(NameOf(t.text), name)) continue;
    size_t eq = t.text.find('=');
    found = eq == std::string_view::npos ? std::optional<std::string>()
                                         : std::optional<std::string>(t.text.substr(eq + 1));
  }
  return found;
}

std::string EditCmdline(std::string_view line, const Param& want) {
  std::vector<Token> toks = Tokenize(line);
  std::vector<size_t> hits;
  for (size_t i = 0; i < toks.size(); ++i)
    if (SameName(NameOf(toks[i].text), want.name)) hits.push_back(i);
  std::string out(line);
  if (want.absent) {
    for (size_t k = hits.size(); k-- > 0;) RemoveToken(out, toks[hits[k]].begin, toks[hits[k]].end);
    return out;
  }
  std::string token = want.Token();
  if (hits.empty()) {
    size_t at = toks.empty() ? out.size() : toks.back().end;
    out.insert(at, toks.empty() ? token : " " + token);
    return out;
  }
  for (size_t k = hits.size(); k-- > 1;) RemoveToken(out, toks[hits[k]].begin, toks[hits[k]].end);
  const Token& first = toks[hits[0]];
  if (first.text != token) out.replace(first.begin, first.end - first.begin, token);
  return out;
}

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

// ---- grubby -----------------------------------------------------------------

std::vector<GrubbyEntry> ParseGrubbyInfo(std::string_view text) {
  std::vector<GrubbyEntry> out;
  edit::TextLines tl = edit::TextLines::Parse(text);
  for (const auto& raw : tl.lines) {
    std::string_view l = WithoutCr(raw);
    if (l == "non linux entry") {
      if (!out.empty()) out.back().linux = false;
      continue;
    }
    size_t eq = l.find('=');
    if (eq == std::string_view::npos) continue;
    std::string key = Trim(l.substr(0, eq));
    std::string value(l.substr(eq + 1));
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"')
      value = value.substr(1, value.size() - 2);
    if (key == "index") {
      GrubbyEntry e;
      int n = -1;
      std::from_chars(value.data(), value.data() + value.size(), n);
      e.index = n;
      out.push_back(std::move(e));
    } else if (out.empty()) {
      continue;
    } else if (key == "kernel") {
      out.back().kernel = value;
    } else if (key == "args") {
      out.back().args = value;
    }
  }
  return out;
}

std::vector<std::vector<std::string>> GrubbyCommands(const std::vector<std::string>& entries_args,
                                                     const Param& want, bool default_only) {
  bool needed = false, valued_flag = false;
  for (const auto& args : entries_args) {
    if (EditCmdline(args, want) != args) needed = true;
    for (const Token& t : Tokenize(args))
      if (SameName(NameOf(t.text), want.name) && !want.value && t.text != want.name)
        valued_flag = true;
  }
  if (!needed) return {};
  std::string target = std::string("--update-kernel=") + (default_only ? "DEFAULT" : "ALL");
  std::vector<std::vector<std::string>> out;
  if (want.absent || valued_flag) out.push_back({"grubby", target, "--remove-args=" + want.name});
  if (!want.absent) out.push_back({"grubby", target, "--args=" + want.Token()});
  return out;
}

}  // namespace keel::kparam
