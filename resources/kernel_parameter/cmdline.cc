#include "resources/kernel_parameter/cmdline.h"

#include <algorithm>
#include <charconv>

#include "resources/common/edit.h"
#include "resources/common/line_edits.h"
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
// An assignment runs over the lines up to the first line end at which it
// parses (a quote may span lines). Re-parsing after each added line is
// quadratic on a quote that never closes; instead the ends are tried at
// 1, 2, 4, ... lines, then bisected: a parse that runs out of text at one
// line end ran out at every earlier one, so the first end found is the
// same, in O(n log n) bytes.
Result<void> CheckAssignments(std::string_view text) {
  size_t pos = 0, number = 0;
  edit::LineSpan span;
  while (edit::NextLine(text, pos, span)) {
    ++number;
    std::string_view l = span.text;
    size_t p = 0;
    while (p < l.size() && (l[p] == ' ' || l[p] == '\t')) ++p;
    if (l.substr(p, 6) == "export" && p + 6 < l.size() && (l[p + 6] == ' ' || l[p + 6] == '\t')) {
      p += 6;
      while (p < l.size() && (l[p] == ' ' || l[p] == '\t')) ++p;
    }
    std::string_view rest = l.substr(p);
    std::string_view key;
    for (std::string_view k : {kCmdlineDefaultVar, kCmdlineVar})
      if (rest.size() > k.size() && rest.starts_with(k) && rest[k.size()] == '=') {
        key = k;
        break;
      }
    if (key.empty()) continue;
    shell::Assignment a;
    auto parse_to = [&](size_t end) {
      return shell::ParseAssignment(text.substr(span.begin, end - span.begin), a);
    };
    constexpr auto kOpen = shell::ParseStatus::kUnterminated;
    size_t end = span.end();
    shell::ParseStatus st = parse_to(end);
    if (st == kOpen && pos < text.size()) {
      size_t lo = end, hi = std::string_view::npos, at = pos;
      edit::LineSpan next;
      for (size_t step = 1; hi == std::string_view::npos; step *= 2) {
        size_t k = 0;
        while (k < step && edit::NextLine(text, at, next)) ++k;
        if (k == 0) break;
        if (parse_to(next.end()) != kOpen) {
          hi = next.end();
        } else {
          lo = next.end();
          if (at >= text.size()) break;
        }
      }
      // Line ends in (lo, hi): '\n' positions.
      while (hi != std::string_view::npos) {
        size_t m = text.find('\n', std::max(lo + 1, lo + (hi - lo) / 2));
        if (m == std::string_view::npos || m >= hi) m = text.rfind('\n', hi - 1);
        if (m == std::string_view::npos || m <= lo) break;
        if (parse_to(m) == kOpen)
          lo = m;
        else
          hi = m;
      }
      end = hi == std::string_view::npos ? lo : hi;
      st = parse_to(end);
    }
    if (st != shell::ParseStatus::kAssignment)
      return MakeError(
          ErrorCode::kInvalid,
          "line " + std::to_string(number) + ": " + std::string(key) +
              (st == kOpen ? ": unterminated quote" : ": not a plain assignment keel can edit"));
    if (a.dynamic)
      return MakeError(ErrorCode::kInvalid, "line " + std::to_string(number) + ": " +
                                                std::string(key) + " uses shell expansion (" +
                                                a.raw_value + "); keel edits literal values only");
    number += static_cast<size_t>(std::count(text.begin() + static_cast<long>(span.begin),
                                             text.begin() + static_cast<long>(end), '\n'));
    pos = end < text.size() ? end + 1 : text.size();
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
  return DefaultGrubCmdline(std::make_shared<const std::string>(text));
}

Result<std::string> DefaultGrubCmdline(std::shared_ptr<const std::string> text) {
  KEEL_TRY(CheckAssignments(*text));
  shell::ShellFile f = shell::ShellFile::Parse(std::move(text));
  std::string out;
  for (const char* k : {kCmdlineVar, kCmdlineDefaultVar})
    if (const shell::Assignment* a = f.Find(k)) out += (out.empty() ? "" : " ") + a->value;
  return out;
}

Result<std::string> EditDefaultGrub(std::string_view text, const Param& want) {
  auto after = EditDefaultGrubText(std::make_shared<const std::string>(text), want);
  if (!after.ok()) return after.error();
  return *after ? std::move(**after) : std::string(text);
}

Result<std::optional<std::string>> EditDefaultGrubText(std::shared_ptr<const std::string> text,
                                                       const Param& want) {
  KEEL_TRY(CheckAssignments(*text));
  shell::ShellFile f = shell::ShellFile::Parse(std::move(text));
  const shell::Assignment* lin = f.Find(kCmdlineVar);
  std::string cur = lin ? lin->value : "";
  std::string next = EditCmdline(cur, want);
  // Tokens of GRUB_CMDLINE_LINUX_DEFAULT come later on the generated
  // kernel line and would win: another value of the name goes.
  std::optional<std::string> next_default;
  if (const shell::Assignment* d = f.Find(kCmdlineDefaultVar)) {
    auto found = Lookup(d->value, want.name);
    if (found && (want.absent || *found != want.value))
      next_default = EditCmdline(d->value, Param{want.name, std::nullopt, true});
  }
  // One new text (SetText); a copy of the index only when both change.
  if (next == cur && !next_default) return std::optional<std::string>();
  std::optional<std::string> out;
  if (next == cur) {
    out = f.SetText(kCmdlineDefaultVar, *next_default, std::nullopt);
  } else if (!next_default) {
    out = f.SetText(kCmdlineVar, next, std::nullopt, shell::QuoteStyle::kDouble);
  } else {
    shell::ShellFile g = f;
    g.Set(kCmdlineVar, next, std::nullopt, shell::QuoteStyle::kDouble);
    out = g.SetText(kCmdlineDefaultVar, *next_default, std::nullopt);
    if (!out) out = *g.text();
  }
  if (out && *out == *f.text()) out.reset();
  return out;
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
  std::optional<std::string> default_value;
  struct Entry {
    std::string title;
    std::vector<KernelLine> kernels;
  };
  std::vector<Entry> entries;
  size_t pos = 0;
  edit::LineSpan span;
  for (size_t i = 0; edit::NextLine(text, pos, span); ++i) {
    std::string_view l = WithoutCr(span.text);
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
  edit::LineEdits edits(text);
  size_t pos = 0, i = 0;
  edit::LineSpan span;
  for (const KernelLine& k : *kernels) {
    while (i <= k.line && edit::NextLine(text, pos, span)) ++i;
    std::string next =
        k.args.empty() && !want.absent ? " " + want.Token() : EditCmdline(k.args, want);
    if (next == k.args) continue;
    std::string_view line = span.text;
    bool cr = !line.empty() && line.back() == '\r';
    size_t at = line.size() - (cr ? 1 : 0) - k.args.size();
    edits.Replace(span, std::string(line.substr(0, at)) + next + (cr ? "\r" : ""));
  }
  return edits.edited() ? edits.Render() : std::string(text);
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
