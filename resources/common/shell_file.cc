#include "resources/common/shell_file.h"

#include <algorithm>
#include <limits>

namespace keel::shell {
namespace {

// A quoted value or command may span lines; bash would reject a file whose
// quote never closes, so stop looking after this many lines.
constexpr size_t kMaxContinuation = 1000;
constexpr size_t kMaxChunk = (size_t{1} << 30) - 1;

bool IsBlank(char c) { return c == ' ' || c == '\t' || c == '\r'; }
bool IsKeyStart(char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_'; }
bool IsKeyChar(char c) { return IsKeyStart(c) || (c >= '0' && c <= '9'); }
bool IsSafeBare(char c) {
  return IsKeyChar(c) || c == '.' || c == '/' || c == ':' || c == ',' || c == '-' || c == '+' ||
         c == '@' || c == '%';
}
bool IsOperator(char c) {
  return c == ';' || c == '&' || c == '|' || c == '(' || c == ')' || c == '<' || c == '>' ||
         c == '\n';
}

// `KEY=word` with a plain word and nothing after it (the common line):
// an assignment, recognised without building an Assignment.
bool PlainAssignment(std::string_view l) {
  size_t i = 0, n = l.size();
  if (n && l[n - 1] == '\r') --n;
  while (i < n && (l[i] == ' ' || l[i] == '\t')) ++i;
  if (i >= n || !IsKeyStart(l[i])) return false;
  while (i < n && IsKeyChar(l[i])) ++i;
  if (i >= n || l[i] != '=') return false;
  for (++i; i < n; ++i)
    if (!IsSafeBare(l[i])) return false;
  return true;
}

// A trailer that is only blanks, a comment, or `;` and a comment: the line
// holds nothing but the assignment.
bool CleanTrailer(std::string_view t) {
  size_t i = 0;
  while (i < t.size() && IsBlank(t[i])) ++i;
  if (i < t.size() && t[i] == ';') {
    ++i;
    while (i < t.size() && IsBlank(t[i])) ++i;
  }
  return i == t.size() || t[i] == '#';
}

struct HereDoc {
  std::string delim;
  bool strip_tabs = false;
};

// What a chunk of shell code does to the structure around it.
struct CodeScan {
  bool unterminated = false;  // a quote, expansion or `\` continues on the next line
  bool unsure = false;        // a construct this scanner does not follow
  int depth = 0;              // blocks opened minus closed (if/case/loops/{ }/( ))
  std::vector<HereDoc> heredocs;
  // The blocks open after the chunk, innermost last: kFunctionBody or
  // kOtherBlock (given the blocks open before it).
  std::vector<char> blocks;
  // A command that may stop the sourcing of the file: `exit` or `logout`
  // anywhere (a function holding it may be called), `return` outside a
  // function body, `exec` (it may replace the shell). Set commands are
  // words in command position; in $( ) or ` ` they are a subshell's.
  std::string_view stops;
};

constexpr char kFunctionBody = 'f';
constexpr char kOtherBlock = 'b';

bool OneOf(std::string_view w, std::initializer_list<std::string_view> set) {
  return std::find(set.begin(), set.end(), w) != set.end();
}

// True when the rest of a simple command is only redirections (`exec
// 3>/dev/null 2>&1`: the shell goes on); false when a word might be a
// command (`exec prog`: the shell is replaced) or when unsure.
bool OnlyRedirections(std::string_view t) {
  size_t j = 0;
  const size_t n = t.size();
  for (;;) {
    while (j < n && IsBlank(t[j])) ++j;
    if (j >= n || t[j] == '\n' || t[j] == ';' || t[j] == '#' ||
        (t[j] == '&' && !(j + 1 < n && t[j + 1] == '>')) ||
        (t[j] == '|' && !(j + 1 < n && t[j + 1] == '|')))
      return true;
    if (t[j] == '|') return true;  // `||`: the next command
    // [n] or {name} before the operator.
    if (t[j] == '{') {
      while (j < n && t[j] != '}' && (IsKeyChar(t[j]) || t[j] == '{')) ++j;
      if (j >= n || t[j] != '}') return false;
      ++j;
    } else {
      while (j < n && t[j] >= '0' && t[j] <= '9') ++j;
    }
    if (j >= n || (t[j] != '<' && t[j] != '>' && t[j] != '&')) return false;
    while (j < n && (t[j] == '<' || t[j] == '>' || t[j] == '&' || t[j] == '|')) ++j;
    while (j < n && IsBlank(t[j])) ++j;
    size_t target = j;
    while (j < n && !IsBlank(t[j]) && !IsOperator(t[j])) {
      if (t[j] == '\'' || t[j] == '"' || t[j] == '`' || t[j] == '\\') return false;
      ++j;
    }
    if (j == target) return false;
  }
}

CodeScan ScanCode(std::string_view t, const std::vector<char>& open_blocks) {
  CodeScan cs;
  cs.blocks = open_blocks;
  const size_t n = t.size();
  size_t i = 0;
  bool cmd = true;       // at the start of a command: a reserved word counts
  bool fn_name = false;  // after `function`: the next word is the name
  bool fn_body = false;  // a function was named: the next block is its body
  int paren = 0;
  auto open_block = [&] {
    cs.blocks.push_back(fn_body ? kFunctionBody : kOtherBlock);
    fn_body = false;
  };
  auto close_block = [&] {
    if (!cs.blocks.empty()) cs.blocks.pop_back();
  };
  // Skips `( )` after a function's name (at i).
  auto skip_parens = [&] {
    size_t k = i;
    while (k < n && IsBlank(t[k])) ++k;
    if (k >= n || t[k] != '(') return false;
    ++k;
    while (k < n && IsBlank(t[k])) ++k;
    if (k >= n || t[k] != ')') return false;
    i = k + 1;
    return true;
  };
  auto expansion = [&](size_t after, char close, bool in_dq) {
    size_t k = after;
    Scan s = ScanExpansion(t, k, close, in_dq, 0);
    if (s == Scan::kUnterminated) cs.unterminated = true;
    if (s == Scan::kUnsure) cs.unsure = true;
    i = k;
    cmd = false;
    return s == Scan::kOk;
  };
  while (i < n) {
    const char c = t[i];
    if (c == '\\') {
      if (i + 1 >= n || (i + 2 == n && t[i + 1] == '\r')) {
        cs.unterminated = true;
        return cs;
      }
      i += 2;
      cmd = false;
      continue;
    }
    if (c == '\'') {
      size_t q = t.find('\'', i + 1);
      if (q == std::string_view::npos) {
        cs.unterminated = true;
        return cs;
      }
      i = q + 1;
      cmd = false;
      continue;
    }
    if (c == '"' || c == '`') {
      if (!expansion(i + 1, c, c == '"')) return cs;
      continue;
    }
    if (c == '$' && i + 1 < n && (t[i + 1] == '(' || t[i + 1] == '{')) {
      if (!expansion(i + 2, t[i + 1] == '(' ? ')' : '}', false)) return cs;
      continue;
    }
    if (c == '$' && i + 1 < n && t[i + 1] == '\'') {
      size_t k = i + 2;
      while (k < n && t[k] != '\'') k += t[k] == '\\' ? 2 : 1;
      if (k >= n) {
        cs.unterminated = true;
        return cs;
      }
      i = k + 1;
      cmd = false;
      continue;
    }
    if (c == '#' && (i == 0 || IsBlank(t[i - 1]) || IsOperator(t[i - 1]))) {
      size_t nl = t.find('\n', i);
      i = nl == std::string_view::npos ? n : nl;
      continue;
    }
    if (c == '<' && i + 1 < n && t[i + 1] == '<' && (i + 2 >= n || t[i + 2] != '<')) {
      HereDoc h;
      i += 2;
      if (i < n && t[i] == '-') h.strip_tabs = true, ++i;
      while (i < n && IsBlank(t[i])) ++i;
      while (i < n && !IsBlank(t[i]) && !IsOperator(t[i])) {
        if (t[i] != '\'' && t[i] != '"' && t[i] != '\\') h.delim += t[i];
        ++i;
      }
      if (h.delim.empty()) {
        cs.unsure = true;
        return cs;
      }
      cs.heredocs.push_back(std::move(h));
      cmd = false;
      continue;
    }
    if (c == '(') {
      if (cmd) ++paren, ++cs.depth, open_block();
      cmd = true;
      ++i;
      continue;
    }
    if (c == ')') {
      if (paren > 0) --paren, --cs.depth, close_block();
      cmd = true;
      ++i;
      continue;
    }
    if (c == '\n' || c == ';' || c == '&' || c == '|') {
      cmd = true;
      ++i;
      continue;
    }
    if (c == '<' || c == '>' || IsBlank(c)) {
      ++i;
      continue;
    }
    size_t start = i;
    while (i < n && !IsBlank(t[i]) && !IsOperator(t[i]) && t[i] != '\'' && t[i] != '"' &&
           t[i] != '`' && t[i] != '\\' && t[i] != '$')
      ++i;
    if (i == start) {  // a lone '$'
      ++i;
      cmd = false;
      continue;
    }
    std::string_view w = t.substr(start, i - start);
    if (fn_name) {
      fn_name = false;
      fn_body = true;
      skip_parens();
      cmd = true;  // `function name {`: the brace opens the body
      continue;
    }
    if (!cmd) continue;
    if (skip_parens()) {  // `name() {`: a function definition
      fn_body = true;
      cmd = true;
      continue;
    }
    if (OneOf(w, {"if", "case", "for", "while", "until", "select", "{"})) {
      ++cs.depth;
      open_block();
    } else if (OneOf(w, {"fi", "esac", "done", "}"})) {
      --cs.depth;
      close_block();
    }
    if (cs.stops.empty()) {
      const bool in_function =
          std::find(cs.blocks.begin(), cs.blocks.end(), kFunctionBody) != cs.blocks.end();
      if (OneOf(w, {"exit", "logout"}) || (w == "return" && !in_function) ||
          (w == "exec" && !OnlyRedirections(t.substr(i))))
        cs.stops = w;
    }
    if (w == "function") {
      fn_name = true;
      cmd = false;
    } else {
      // `builtin exit`, `command exec`: the next word is the command.
      cmd = OneOf(w, {"if", "then", "else", "elif", "do", "while", "until", "{", "}", "!", "fi",
                      "done", "esac", "time", "builtin", "command"});
    }
  }
  return cs;
}

}  // namespace

bool Satisfies(const Assignment& a, std::string_view value, std::optional<QuoteStyle> requested) {
  if (a.dynamic || a.value != value) return false;
  if (requested && *requested != a.style) {
    // A bare word asked for but the value cannot be one: whatever quoting
    // the line has is as good as it gets.
    if (*requested == QuoteStyle::kNone && !SafeUnquoted(value)) return true;
    return false;
  }
  return true;
}

ShellFile ShellFile::Parse(std::string_view text) {
  return Parse(std::make_shared<const std::string>(text));
}

ShellFile ShellFile::Parse(std::shared_ptr<const std::string> text) {
  ShellFile f;
  f.text_ = std::move(text);
  f.Index();
  return f;
}

size_t ShellFile::LineOf(size_t off) const {
  const std::string& t = *text_;
  return static_cast<size_t>(
             std::count(t.begin(), t.begin() + static_cast<std::ptrdiff_t>(off), '\n')) +
         1;
}

void ShellFile::Index() {
  entries_.clear();
  parsed_.clear();
  names_.reset();
  lookups_ = 0;
  unsure_.reset();
  stop_.reset();
  const std::string_view t = *text_;
  const size_t n = t.size();
  if (n >= std::numeric_limits<uint32_t>::max()) {
    unsure_ = "the file is too large to edit (4 GiB or more)";
    return;
  }
  auto line_end = [&](size_t pos) {  // one past the line's '\n' (or n)
    size_t nl = t.find('\n', pos);
    return nl == std::string_view::npos ? n : nl + 1;
  };
  auto body = [&](size_t from, size_t to) {  // chunk text without its final '\n'
    std::string_view s = t.substr(from, to - from);
    if (!s.empty() && s.back() == '\n') s.remove_suffix(1);
    return s;
  };
  auto push = [&](size_t off, size_t end, Kind k) {
    if (end - off > kMaxChunk) {
      if (!unsure_) unsure_ = "line " + std::to_string(LineOf(off)) + ": a chunk of over 1 GiB";
      return;
    }
    entries_.push_back(Entry{static_cast<uint32_t>(off), static_cast<uint32_t>(end - off),
                             static_cast<uint32_t>(k)});
  };
  auto unsure = [&](size_t off, const std::string& why) {
    if (!unsure_) unsure_ = "line " + std::to_string(LineOf(off)) + ": " + why;
  };
  // At most one chunk a line: reserved once (no regrowth, no slack).
  entries_.reserve(static_cast<size_t>(std::count(t.begin(), t.end(), '\n')) + 1);
  int depth = 0;
  std::vector<char> blocks;  // the blocks open (CodeScan::blocks)
  size_t top = 0;            // the entry that opened the top-level block we are in
  std::vector<HereDoc> pending;
  size_t pos = 0;
  Assignment a;
  while (pos < n) {
    size_t next = line_end(pos);
    std::string_view line = body(pos, next);
    if (!pending.empty()) {  // a here-document body: text, not code
      std::string_view l = line;
      if (pending.front().strip_tabs)
        while (!l.empty() && l.front() == '\t') l.remove_prefix(1);
      if (l == pending.front().delim) pending.erase(pending.begin());
      pos = next;
      continue;
    }
    size_t b = 0;
    while (b < line.size() && IsBlank(line[b])) ++b;
    if (b == line.size() || line[b] == '#') {
      pos = next;
      continue;
    }
    if (PlainAssignment(line)) {
      push(pos, next, depth > 0 ? kNested : kAssign);
      pos = next;
      continue;
    }
    // An assignment, perhaps continued by a quote over several lines.
    size_t end = next;
    ParseStatus st = ParseAssignment(line, a);
    for (size_t k = 0; st == ParseStatus::kUnterminated && end < n && k < kMaxContinuation; ++k) {
      end = line_end(end);
      st = ParseAssignment(body(pos, end), a);
    }
    if (st == ParseStatus::kAssignment && CleanTrailer(a.trailer)) {
      push(pos, end, depth > 0 ? kNested : kAssign);
      pos = end;
      continue;
    }
    // Other code, perhaps continued over several lines.
    end = next;
    CodeScan cs = ScanCode(body(pos, end), blocks);
    for (size_t k = 0; cs.unterminated && end < n && k < kMaxContinuation; ++k) {
      end = line_end(end);
      cs = ScanCode(body(pos, end), blocks);
    }
    if (depth == 0) top = entries_.size();
    push(pos, end, kCode);
    if (!cs.stops.empty() && !stop_) {
      // The sourcing may end here: a new assignment goes before the
      // top-level command that holds the stop (a function holding `exit`
      // is defined before any call of it).
      stop_ = top;
      stop_word_ = std::string(cs.stops);
      stop_delta_ = static_cast<size_t>(cs.stops.data() - t.data()) - entries_[top].off;
    }
    blocks = std::move(cs.blocks);
    if (cs.unterminated) unsure(pos, "a quote, expansion or continued line that does not end");
    if (cs.unsure)
      unsure(pos,
             "shell code keel does not follow (here-document or `case` inside "
             "$( ), or deep nesting)");
    depth += cs.depth;
    if (depth < 0) unsure(pos, "a block closes that was not opened");
    for (auto& h : cs.heredocs) pending.push_back(std::move(h));
    pos = end;
  }
  if (!pending.empty()) unsure(n, "a here-document (<<" + pending.front().delim + ") never ends");
  if (depth > 0) unsure(n, "the file ends inside an unclosed block (if, case, loop, { or ( )");
}

std::string_view ShellFile::KeyOf(const Entry& e) const {
  std::string_view c = Chunk(e);
  size_t i = 0;
  while (i < c.size() && (c[i] == ' ' || c[i] == '\t')) ++i;
  if (c.substr(i, 6) == "export" && i + 6 < c.size() && (c[i + 6] == ' ' || c[i + 6] == '\t')) {
    i += 6;
    while (i < c.size() && (c[i] == ' ' || c[i] == '\t')) ++i;
  }
  size_t k = i;
  while (k < c.size() && IsKeyChar(c[k])) ++k;
  return c.substr(i, k - i);
}

ShellFile::Mention ShellFile::MentionIn(const Entry& e, std::string_view key) const {
  std::string_view c = Chunk(e);
  const bool code = e.kind == kCode;
  // The command word of a code chunk (export / unset make a bare name harmless).
  std::string_view first;
  if (code) {
    size_t i = 0;
    while (i < c.size() && IsBlank(c[i])) ++i;
    size_t j = i;
    while (j < c.size() && IsKeyChar(c[j])) ++j;
    first = c.substr(i, j - i);
  }
  Mention worst = Mention::kNone;
  auto note = [&](Mention m) { worst = std::max(worst, m); };
  for (size_t at = c.find(key); at != std::string_view::npos; at = c.find(key, at + 1)) {
    const size_t after = at + key.size();
    if (at > 0 && IsKeyChar(c[at - 1])) continue;
    if (after < c.size() && IsKeyChar(c[after])) continue;
    const char prev = at > 0 ? c[at - 1] : '\0';
    const char next = after < c.size() ? c[after] : '\0';
    if (prev == '{' && at > 1 && c[at - 2] == '$') {
      // ${KEY:=x} and ${KEY=x} assign; every other ${KEY...} only reads.
      if (next == '=' || (next == ':' && after + 1 < c.size() && c[after + 1] == '='))
        note(Mention::kSets);
      else
        note(Mention::kReference);
      continue;
    }
    if (!code || prev == '$') {
      note(Mention::kReference);
      continue;
    }
    if (next == '=' || next == '[' || (next == '+' && after + 1 < c.size() && c[after + 1] == '='))
      note(Mention::kSets);
    else if (first == "export")
      note(Mention::kExportOnly);
    else if (first == "unset")
      note(Mention::kUnset);
    else
      note(Mention::kSets);  // read KEY, declare KEY, local KEY, eval ...: keel cannot tell
  }
  return worst;
}

const ShellFile::Names* ShellFile::NamesIndex() const {
  if (names_) return names_.get();
  if (++lookups_ < kNamesAfter || entries_.size() > kNamesMaxEntries) return nullptr;
  auto names = std::make_shared<Names>();
  const std::string_view t = *text_;
  for (size_t i = 0; i < entries_.size(); ++i) {
    const Entry& e = entries_[i];
    const auto at = static_cast<uint32_t>(i + 1);
    if (e.kind != kCode) (*names)[KeyOf(e)].assign = at;
    // Every maximal run of name characters is a word MentionIn could find.
    const size_t end = e.off + e.len;
    for (size_t p = e.off; p < end;) {
      if (!IsKeyChar(t[p])) {
        ++p;
        continue;
      }
      size_t q = p;
      while (q < end && IsKeyChar(t[q])) ++q;
      (*names)[t.substr(p, q - p)].word = at;
      p = q;
    }
  }
  names_ = std::move(names);
  return names_.get();
}

const Assignment* ShellFile::Find(std::string_view key) const {
  size_t from = entries_.size();
  if (const Names* names = NamesIndex()) {
    auto it = names->find(key);
    if (it == names->end() || it->second.assign == 0) return nullptr;
    from = it->second.assign;  // the last plain assignment of key is entry from - 1
  }
  for (size_t i = from; i-- > 0;) {
    const Entry& e = entries_[i];
    if (e.kind == kCode || KeyOf(e) != key) continue;
    auto it = parsed_.find(i);
    if (it == parsed_.end()) {
      Assignment a;
      std::string_view c = Chunk(e);
      if (!c.empty() && c.back() == '\n') c.remove_suffix(1);
      if (ParseAssignment(c, a) != ParseStatus::kAssignment) return nullptr;
      it = parsed_.emplace(i, std::move(a)).first;
    }
    return &it->second;
  }
  return nullptr;
}

std::vector<std::string> ShellFile::Keys() const {
  std::vector<std::string> out;
  for (const auto& e : entries_) {
    if (e.kind == kCode) continue;
    std::string_view k = KeyOf(e);
    if (std::find(out.begin(), out.end(), k) == out.end()) out.emplace_back(k);
  }
  return out;
}

std::optional<std::string> ShellFile::Problem(std::string_view key, bool removal) const {
  if (unsure_) {
    // Nothing to remove when the name is nowhere in the file.
    if (removal) {
      const std::string& t = *text_;
      bool seen = false;
      for (size_t at = t.find(key); !seen && at != std::string::npos; at = t.find(key, at + 1))
        seen = (at == 0 || !IsKeyChar(t[at - 1])) &&
               (at + key.size() == t.size() || !IsKeyChar(t[at + key.size()]));
      if (!seen) return std::nullopt;
    }
    return "keel cannot read this file exactly as bash does (" + *unsure_ + "); not editing it";
  }
  if (!removal) return StopConflict(key);
  for (const auto& e : entries_) {
    if (e.kind == kNested && KeyOf(e) == key)
      return "line " + std::to_string(LineOf(e.off)) + ": " + std::string(key) +
             " is assigned inside a block (if, case, loop or function); removing that line "
             "would change the code around it, so keel leaves it (edit the file by hand or "
             "manage it whole)";
    if (e.kind == kAssign && KeyOf(e) == key) continue;
    if (MentionIn(e, key) == Mention::kSets)
      return "line " + std::to_string(LineOf(e.off)) + ": " + std::string(key) +
             " is set there by shell code keel does not edit (`" +
             std::string(Chunk(e).substr(0, std::min<size_t>(60, Chunk(e).find('\n')))) +
             "`); removing the plain assignments would not unset it";
  }
  return std::nullopt;
}

size_t ShellFile::LastSetter(std::string_view key, size_t end) const {
  if (end == entries_.size()) {
    if (const Names* names = NamesIndex()) {
      // The scan below, answered from the index when no entry after the
      // last assignment of key holds it as a word (MentionIn finds nothing
      // there); otherwise the scan decides.
      auto it = names->find(key);
      if (it == names->end()) return std::string::npos;
      const NameAt at = it->second;
      if (at.assign != 0 && at.word <= at.assign) end = at.assign;
    }
  }
  for (size_t i = end; i-- > 0;) {
    const Entry& e = entries_[i];
    if (e.kind != kCode && KeyOf(e) == key) {
      if (e.kind == kNested) return std::string::npos;
      Assignment a;
      if (!ParseOwn(e, a)) return std::string::npos;
      return i;
    }
    Mention m = MentionIn(e, key);
    if (m == Mention::kSets || m == Mention::kUnset) return std::string::npos;
  }
  return std::string::npos;
}

bool ShellFile::ParseOwn(const Entry& e, Assignment& a) const {
  std::string_view c = Chunk(e);
  if (!c.empty() && c.back() == '\n') c.remove_suffix(1);
  return ParseAssignment(c, a) == ParseStatus::kAssignment;
}

std::optional<std::string> ShellFile::StopConflict(std::string_view key) const {
  if (!stop_) return std::nullopt;
  const size_t s = *stop_;
  const size_t last = LastSetter(key, entries_.size());
  if (last != std::string::npos && last < s) return std::nullopt;  // changed in place
  for (size_t i = s; i < entries_.size(); ++i) {
    const Entry& e = entries_[i];
    Assignment a;
    if (e.kind == kAssign && KeyOf(e) == key && ParseOwn(e, a)) continue;  // rewritten too
    Mention m = e.kind != kCode && KeyOf(e) == key ? Mention::kSets : MentionIn(e, key);
    if (m == Mention::kNone || m == Mention::kExportOnly) continue;
    return "line " + std::to_string(LineOf(e.off)) + ": " + std::string(key) +
           " is used there, after line " + std::to_string(StopLine()) + " (`" + stop_word_ +
           "`) where bash may stop reading the file; an assignment placed before line " +
           std::to_string(LineOf(entries_[s].off)) +
           " would change that use, one at the end may never be read (edit the file by hand or "
           "manage it whole)";
  }
  return std::nullopt;
}

size_t ShellFile::StopLine() const {
  return stop_ ? LineOf(entries_[*stop_].off + stop_delta_) : 0;
}

std::optional<std::vector<ShellFile::Splice>> ShellFile::PlanSet(
    std::string_view key, std::string_view value, std::optional<QuoteStyle> requested,
    std::optional<QuoteStyle> new_style) const {
  // Rewrites entry i (a plain top-level assignment of key) unless it
  // already gives the value.
  auto rewrite = [&](size_t i, std::vector<Splice>& out) {
    const Entry& e = entries_[i];
    Assignment a;
    std::string_view c = Chunk(e);
    const bool nl = !c.empty() && c.back() == '\n';
    if (!ParseOwn(e, a) || Satisfies(a, value, requested)) return;
    QuoteStyle style = ChooseStyle(requested, a.style, value);
    a.raw_value = Quote(value, style);
    Splice s;
    s.off = e.off;
    s.len = e.len;
    s.text = a.Render() + (nl ? "\n" : "");
    s.entry = i;
    out.push_back(std::move(s));
  };
  // A new `KEY=value` line ending as `like` does (CRLF stays CRLF).
  auto new_line = [&](std::string_view like) {
    Assignment a;
    a.key = std::string(key);
    a.raw_value = Quote(value, ChooseStyle(requested ? requested : new_style, std::nullopt, value));
    if (!like.empty() && like.back() == '\r') a.eol = "\r";
    return a.Render() + "\n";
  };
  std::vector<Splice> out;
  // The last place that may set the key: only a plain top-level assignment
  // is rewritten in place.
  const size_t last = LastSetter(key, entries_.size());
  if (last != std::string::npos && (!stop_ || last < *stop_)) {
    rewrite(last, out);
    if (out.empty()) return std::nullopt;
    return out;
  }
  const std::string& t = *text_;
  if (!stop_) {
    // Appended at the end, after everything that might set the key.
    std::string_view last_line = t;
    if (!last_line.empty() && last_line.back() == '\n') last_line.remove_suffix(1);
    if (size_t nl = last_line.rfind('\n'); nl != std::string_view::npos)
      last_line.remove_prefix(nl + 1);
    Splice s;
    s.off = t.size();
    s.len = 0;
    // The old last line gets its '\n' when a line is appended after it.
    s.text = (!t.empty() && t.back() != '\n' ? "\n" : "") + new_line(last_line);
    s.entry = std::string::npos;
    return std::vector<Splice>{std::move(s)};
  }
  // bash may stop reading at the stop entry (exit, return, exec): the value
  // is set before it, and every plain assignment of the key after it gets
  // the value too (StopConflict: nothing else after it uses the key).
  const size_t stop = *stop_;
  const size_t pre = LastSetter(key, stop);
  if (pre != std::string::npos) {
    rewrite(pre, out);
  } else {
    const Entry& e = entries_[stop];
    std::string_view first = Chunk(e).substr(0, Chunk(e).find('\n'));
    Splice s;
    s.off = e.off;
    s.len = 0;
    s.text = new_line(first);
    s.entry = stop;
    s.insert = true;
    out.push_back(std::move(s));
  }
  for (size_t i = stop; i < entries_.size(); ++i)
    if (entries_[i].kind == kAssign && KeyOf(entries_[i]) == key) rewrite(i, out);
  if (out.empty()) return std::nullopt;
  return out;
}

std::vector<ShellFile::Splice> ShellFile::PlanRemove(std::string_view key) const {
  std::vector<Splice> out;
  for (size_t i = 0; i < entries_.size(); ++i) {
    const Entry& e = entries_[i];
    if (e.kind != kAssign || KeyOf(e) != key) continue;
    Splice s;
    s.off = e.off;
    s.len = e.len;
    s.entry = i;
    s.remove = true;
    out.push_back(std::move(s));
  }
  return out;
}

std::string ShellFile::ApplyText(const std::vector<Splice>& splices) const {
  const std::string& t = *text_;
  size_t size = t.size();
  for (const auto& s : splices) size = size - s.len + s.text.size();
  std::string out;
  out.reserve(size);
  size_t at = 0;
  for (const auto& s : splices) {
    out.append(t, at, s.off - at);
    out += s.text;
    at = s.off + s.len;
  }
  out.append(t, at, std::string::npos);
  return out;
}

void ShellFile::Apply(const std::vector<Splice>& splices) {
  if (splices.empty()) return;
  const size_t old_size = text_->size();
  auto text = std::make_shared<const std::string>(ApplyText(splices));
  std::vector<Entry> out;
  out.reserve(entries_.size() + 1);
  int64_t shift = 0;
  size_t si = 0;
  std::optional<size_t> stop;
  for (size_t i = 0; i < entries_.size(); ++i) {
    Entry e = entries_[i];
    e.off = static_cast<uint32_t>(e.off + shift);
    for (; si < splices.size() && splices[si].entry == i && splices[si].insert; ++si) {
      // A new line before entry i.
      const Splice& s = splices[si];
      out.push_back(
          Entry{e.off, static_cast<uint32_t>(s.text.size()), static_cast<uint32_t>(kAssign)});
      shift += static_cast<int64_t>(s.text.size());
      e.off = static_cast<uint32_t>(e.off + s.text.size());
    }
    if (stop_ && *stop_ == i) stop = out.size();
    if (si < splices.size() && splices[si].entry == i) {
      const Splice& s = splices[si++];
      shift += static_cast<int64_t>(s.text.size()) - static_cast<int64_t>(s.len);
      if (s.remove) continue;
      e.len = static_cast<uint32_t>(s.text.size());
    }
    out.push_back(e);
  }
  for (; si < splices.size(); ++si) {
    const Splice& s = splices[si];
    if (s.entry != std::string::npos) continue;
    size_t off = old_size + static_cast<size_t>(shift);
    size_t len = s.text.size();
    if (!s.text.empty() && s.text.front() == '\n') {
      // The '\n' completes the old last line.
      if (!out.empty() && out.back().off + out.back().len == off) ++out.back().len;
      ++off, --len;
    }
    out.push_back(Entry{static_cast<uint32_t>(off), static_cast<uint32_t>(len),
                        static_cast<uint32_t>(kAssign)});
  }
  text_ = std::move(text);
  entries_ = std::move(out);
  stop_ = stop;  // the stop entry is code: never removed
  parsed_.clear();
  names_.reset();
  lookups_ = 0;
  if (text_->size() >= std::numeric_limits<uint32_t>::max()) Index();
}

void ShellFile::Set(std::string_view key, std::string_view value,
                    std::optional<QuoteStyle> requested, std::optional<QuoteStyle> new_style) {
  if (auto plan = PlanSet(key, value, requested, new_style)) Apply(*plan);
}

size_t ShellFile::Remove(std::string_view key) {
  auto plan = PlanRemove(key);
  Apply(plan);
  return plan.size();
}

std::optional<std::string> ShellFile::SetText(std::string_view key, std::string_view value,
                                              std::optional<QuoteStyle> requested,
                                              std::optional<QuoteStyle> new_style) const {
  auto plan = PlanSet(key, value, requested, new_style);
  if (!plan) return std::nullopt;
  return ApplyText(*plan);
}

std::optional<std::string> ShellFile::RemoveText(std::string_view key) const {
  auto plan = PlanRemove(key);
  if (plan.empty()) return std::nullopt;
  return ApplyText(plan);
}

}  // namespace keel::shell
