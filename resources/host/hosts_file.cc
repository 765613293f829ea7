#include "resources/host/hosts_file.h"

#include <algorithm>
#include <cctype>

namespace keel::hosts {

namespace {

bool IsBlank(char c) { return c == ' ' || c == '\t'; }

bool SameName(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

bool AllSpaces(std::string_view s) {
  return !s.empty() && s.find_first_not_of(' ') == std::string_view::npos;
}

// One entry line, as views into the text. An entry is "ip name [name...]"
// with an optional trailing "# comment"; anything else (blank, comment, a
// lone word) is kept verbatim and never touched. Reused from line to line
// so that a scan allocates nothing per line.
struct EntryLine {
  std::string_view indent;  // leading whitespace
  std::string_view ip;
  std::vector<std::string_view> names;
  std::vector<std::string_view> seps;  // seps[i] is the whitespace before names[i]
  std::string_view trailer;            // trailing whitespace, "# comment", '\r'
};

// Fills `out` from `line`; false when the line is not an entry.
bool ParseEntry(std::string_view line, EntryLine& out) {
  out.names.clear();
  out.seps.clear();
  std::string_view body = line;
  if (!body.empty() && body.back() == '\r') body.remove_suffix(1);
  size_t end = std::min(body.find('#'), body.size());
  while (end > 0 && IsBlank(body[end - 1])) --end;
  out.trailer = line.substr(end);
  body = body.substr(0, end);
  size_t i = 0;
  while (i < body.size() && IsBlank(body[i])) ++i;
  out.indent = body.substr(0, i);
  size_t s = i;
  while (i < body.size() && !IsBlank(body[i])) ++i;
  out.ip = body.substr(s, i - s);
  while (i < body.size()) {
    s = i;
    while (i < body.size() && IsBlank(body[i])) ++i;
    out.seps.push_back(body.substr(s, i - s));
    s = i;
    while (i < body.size() && !IsBlank(body[i])) ++i;
    out.names.push_back(body.substr(s, i - s));
  }
  // A line needs an address and at least one name to be an entry.
  return !out.names.empty();
}

std::string RenderEntry(const EntryLine& l) {
  std::string out;
  out.reserve(l.indent.size() + l.ip.size() + l.trailer.size() + 16 * l.names.size());
  (out += l.indent) += l.ip;
  for (size_t i = 0; i < l.names.size(); ++i) (out += l.seps[i]) += l.names[i];
  return out += l.trailer;
}

int IndexOf(const EntryLine& l, std::string_view name) {
  for (size_t i = 0; i < l.names.size(); ++i)
    if (SameName(l.names[i], name)) return static_cast<int>(i);
  return -1;
}

// Removes names[i]; when the first name goes, the separator after the
// address stays and the next name's separator goes.
void EraseName(EntryLine& l, size_t i) {
  if (i == 0 && l.names.size() > 1) {
    l.seps.erase(l.seps.begin() + 1);
  } else {
    l.seps.erase(l.seps.begin() + static_cast<long>(i));
  }
  l.names.erase(l.names.begin() + static_cast<long>(i));
  if (l.names.empty()) l.seps.clear();
}

// The separator used between names on `l` (or the fallback).
std::string_view NameSep(const EntryLine& l, std::string_view fallback) {
  if (l.seps.size() >= 2) return l.seps[1];
  return fallback;
}

// Whitespace after the address that keeps the names at `col` when the
// style is space-padding, or `sep` verbatim otherwise.
std::string AddressSep(std::string_view indent, std::string_view ip, std::string_view sep,
                       size_t col) {
  if (sep.size() < 2 || !AllSpaces(sep)) return std::string(sep);
  size_t used = indent.size() + ip.size();
  return std::string(col > used ? col - used : 1, ' ');
}

// What a new line copies from an existing entry (views into the text).
struct Style {
  std::string_view indent, ip, sep0, between;
};

Style StyleOf(const EntryLine& l) { return {l.indent, l.ip, l.seps[0], NameSep(l, " ")}; }

}  // namespace

HostsFile HostsFile::Parse(std::string_view text) { return Parse(std::string(text)); }

HostsFile HostsFile::Parse(std::string&& text) {
  auto owned = std::make_shared<const std::string>(std::move(text));
  HostsFile f(*owned);
  f.owned_ = std::move(owned);
  return f;
}

HostsFile HostsFile::Borrow(std::string_view text) { return HostsFile(text); }

std::string HostsFile::Render() const { return edits_ ? edits_->Render() : std::string(text_); }

void HostsFile::Commit() {
  if (changed()) {
    auto owned = std::make_shared<const std::string>(edits_->Render());
    text_ = *owned;
    owned_ = std::move(owned);
  }
  edits_.reset();
}

std::optional<HostEntry> HostsFile::Find(std::string_view name) const {
  if (changed()) return Parse(Render()).Find(name);
  std::optional<HostEntry> found;
  std::optional<std::string_view> alias_ip;
  EntryLine l;
  edit::ForEachLine(text_, [&](const edit::LineSpan& span) {
    if (!ParseEntry(span.text, l)) return true;
    int i = IndexOf(l, name);
    if (i == 0) {
      found = HostEntry{std::string(l.ip), {l.names.begin() + 1, l.names.end()}};
      return false;
    }
    if (i > 0 && !alias_ip) alias_ip = l.ip;
    return true;
  });
  if (!found && alias_ip) found = HostEntry{std::string(*alias_ip), {}};
  return found;
}

void HostsFile::Set(std::string_view name, const HostEntry& entry) {
  Commit();
  edit::LineEdits& edits = edits_.emplace(text_);
  std::vector<std::string_view> want_names{name};
  want_names.insert(want_names.end(), entry.aliases.begin(), entry.aliases.end());

  // One pass: the first line where the name is canonical is the target;
  // every other mention goes (a line left without names is dropped); new
  // lines copy the last entry of the same address family (IPv4 and IPv6
  // blocks are often written differently), else the last entry, as left
  // after those removals.
  std::optional<edit::LineSpan> target_span;
  EntryLine target, l;
  std::optional<Style> style, same_family;
  bool v6 = entry.ip.find(':') != std::string::npos;
  edit::ForEachLine(text_, [&](const edit::LineSpan& span) {
    if (!ParseEntry(span.text, l)) return;
    int i = IndexOf(l, name);
    if (i == 0 && !target_span) {
      target_span = span;
      target = l;
    } else if (i >= 0) {
      EraseName(l, static_cast<size_t>(i));
      if (l.names.empty()) {
        edits.Erase(span);
        return;
      }
      edits.Replace(span, RenderEntry(l));
    }
    style = StyleOf(l);
    if ((l.ip.find(':') != std::string_view::npos) == v6) same_family = style;
  });
  if (same_family) style = same_family;

  if (target_span) {
    EntryLine& t = target;
    std::string sep0(t.seps[0]);
    if (t.ip != entry.ip) {
      size_t col = t.indent.size() + t.ip.size() + t.seps[0].size();
      sep0 = AddressSep(t.indent, entry.ip, t.seps[0], col);
      t.ip = entry.ip;
    }
    t.seps[0] = sep0;
    // Keep the exact spelling of names that are already right.
    if (!std::equal(t.names.begin(), t.names.end(), want_names.begin(), want_names.end())) {
      std::string_view between = NameSep(t, style ? style->between : " ");
      t.seps.resize(want_names.size(), between);
      t.names = want_names;
    }
    std::string line = RenderEntry(t);
    if (line != target_span->text) edits.Replace(*target_span, std::move(line));
  } else {
    std::string_view indent, sep0 = "\t", between = " ";
    std::string padded;
    if (style) {
      indent = style->indent;
      size_t col = style->indent.size() + style->ip.size() + style->sep0.size();
      padded = AddressSep(indent, entry.ip, style->sep0, col);
      sep0 = padded;
      between = style->between;
    }
    std::string line(indent);
    (line += entry.ip) += sep0;
    for (size_t i = 0; i < want_names.size(); ++i) {
      if (i > 0) line += between;
      line += want_names[i];
    }
    // A file whose last line lacks '\n' gets it now that a line follows
    // (LineEdits::Append does).
    edits.Append(std::move(line));
  }
}

void HostsFile::Remove(std::string_view name) {
  Commit();
  edit::LineEdits& edits = edits_.emplace(text_);
  EntryLine l;
  edit::ForEachLine(text_, [&](const edit::LineSpan& span) {
    if (!ParseEntry(span.text, l)) return;
    int i = IndexOf(l, name);
    if (i == 0) {
      edits.Erase(span);
    } else if (i > 0) {
      EraseName(l, static_cast<size_t>(i));
      edits.Replace(span, RenderEntry(l));
    }
  });
}

namespace {

std::string LowerName(std::string_view n) {
  std::string out(n);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// The line that starts at `off`, without its '\n'.
std::string_view LineAt(std::string_view text, size_t off) {
  size_t nl = text.find('\n', off);
  return text.substr(off, (nl == std::string_view::npos ? text.size() : nl) - off);
}

}  // namespace

HostsIndex HostsIndex::Build(std::string_view text) {
  HostsIndex x;
  x.text_ = text;
  EntryLine l;
  std::vector<std::string> seen;  // names of this line, lower-case
  edit::ForEachLine(text, [&](const edit::LineSpan& span) {
    if (!ParseEntry(span.text, l)) return;
    seen.clear();
    for (size_t i = 0; i < l.names.size(); ++i) {
      std::string key = LowerName(l.names[i]);
      // IndexOf finds a name's first place on a line: later repeats of it
      // on the same line do not count as another line or place.
      if (std::find(seen.begin(), seen.end(), key) != seen.end()) continue;
      At& at = x.at_[key];
      ++at.lines;
      int64_t off = static_cast<int64_t>(span.begin);
      if (i == 0 && at.canon < 0) at.canon = off;
      if (i > 0 && at.alias < 0) at.alias = off;
      seen.push_back(std::move(key));
    }
  });
  return x;
}

const HostsIndex::At* HostsIndex::Get(std::string_view name) const {
  auto it = at_.find(LowerName(name));
  return it == at_.end() ? nullptr : &it->second;
}

std::optional<HostEntry> HostsIndex::Find(std::string_view name) const {
  const At* at = Get(name);
  if (!at) return std::nullopt;
  EntryLine l;
  if (at->canon >= 0 && ParseEntry(LineAt(text_, static_cast<size_t>(at->canon)), l))
    return HostEntry{std::string(l.ip), {l.names.begin() + 1, l.names.end()}};
  if (at->alias >= 0 && ParseEntry(LineAt(text_, static_cast<size_t>(at->alias)), l))
    return HostEntry{std::string(l.ip), {}};
  return std::nullopt;
}

bool HostsIndex::InPlace(std::string_view name, const HostEntry& entry) const {
  const At* at = Get(name);
  if (!at || at->lines != 1 || at->canon < 0) return false;
  EntryLine l;
  if (!ParseEntry(LineAt(text_, static_cast<size_t>(at->canon)), l)) return false;
  if (l.ip != entry.ip || l.names.size() != entry.aliases.size() + 1 || l.names[0] != name)
    return false;
  return std::equal(entry.aliases.begin(), entry.aliases.end(), l.names.begin() + 1);
}

bool HostsIndex::Absent(std::string_view name) const { return Get(name) == nullptr; }

}  // namespace keel::hosts
