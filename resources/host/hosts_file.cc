#include "resources/host/hosts_file.h"

#include <algorithm>
#include <cctype>

#include "resources/common/edit.h"

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

HostsLine ParseLine(std::string_view line) {
  HostsLine out;
  out.raw = std::string(line);
  std::string_view body = line;
  std::string trailer;
  if (!body.empty() && body.back() == '\r') body.remove_suffix(1);
  size_t hash = body.find('#');
  size_t end = hash == std::string_view::npos ? body.size() : hash;
  while (end > 0 && IsBlank(body[end - 1])) --end;
  out.trailer = std::string(line.substr(end));
  body = body.substr(0, end);
  size_t i = 0;
  while (i < body.size() && IsBlank(body[i])) ++i;
  out.indent = std::string(body.substr(0, i));
  std::vector<std::string> seps, tokens;
  std::string sep;
  while (i < body.size()) {
    size_t s = i;
    while (i < body.size() && IsBlank(body[i])) ++i;
    sep = std::string(body.substr(s, i - s));
    s = i;
    while (i < body.size() && !IsBlank(body[i])) ++i;
    seps.push_back(sep);
    tokens.emplace_back(body.substr(s, i - s));
  }
  // A line needs an address and at least one name to be an entry.
  if (tokens.size() < 2) return out;
  out.is_entry = true;
  out.ip = tokens[0];
  out.names.assign(tokens.begin() + 1, tokens.end());
  out.seps.assign(seps.begin() + 1, seps.end());
  return out;
}

int IndexOf(const HostsLine& l, std::string_view name) {
  for (size_t i = 0; i < l.names.size(); ++i)
    if (SameName(l.names[i], name)) return static_cast<int>(i);
  return -1;
}

// Removes names[i]; when the first name goes, the separator after the
// address stays and the next name's separator goes.
void EraseName(HostsLine& l, size_t i) {
  if (i == 0 && l.names.size() > 1) {
    l.seps.erase(l.seps.begin() + 1);
  } else {
    l.seps.erase(l.seps.begin() + static_cast<long>(i));
  }
  l.names.erase(l.names.begin() + static_cast<long>(i));
  if (l.names.empty()) l.seps.clear();
}

// The separator used between names on `l` (or the fallback).
std::string NameSep(const HostsLine& l, const std::string& fallback) {
  if (l.seps.size() >= 2) return l.seps[1];
  return fallback;
}

// Whitespace after the address that keeps the names at `col` when the
// style is space-padding, or `sep` verbatim otherwise.
std::string AddressSep(const std::string& indent, const std::string& ip, const std::string& sep,
                       size_t col) {
  if (sep.size() < 2 || !AllSpaces(sep)) return sep;
  size_t used = indent.size() + ip.size();
  return std::string(col > used ? col - used : 1, ' ');
}

}  // namespace

std::string HostsLine::Render() const {
  if (!is_entry) return raw;
  std::string out = indent + ip;
  for (size_t i = 0; i < names.size(); ++i) out += seps[i] + names[i];
  return out + trailer;
}

HostsFile HostsFile::Parse(std::string_view text) {
  HostsFile f;
  f.lines_ = edit::ParseLines<decltype(f.lines_)::value_type>(
      text, [](std::string_view line) { return ParseLine(line); }, f.final_newline_);
  return f;
}

std::string HostsFile::Render() const { return edit::RenderLines(lines_, final_newline_); }

std::optional<HostEntry> HostsFile::Find(std::string_view name) const {
  const HostsLine* alias_line = nullptr;
  for (const auto& l : lines_) {
    if (!l.is_entry) continue;
    int i = IndexOf(l, name);
    if (i == 0) return HostEntry{l.ip, {l.names.begin() + 1, l.names.end()}};
    if (i > 0 && !alias_line) alias_line = &l;
  }
  if (alias_line) return HostEntry{alias_line->ip, {}};
  return std::nullopt;
}

void HostsFile::Set(std::string_view name, const HostEntry& entry) {
  std::vector<std::string> want_names{std::string(name)};
  want_names.insert(want_names.end(), entry.aliases.begin(), entry.aliases.end());

  int target = -1;
  for (size_t k = 0; k < lines_.size() && target < 0; ++k)
    if (lines_[k].is_entry && IndexOf(lines_[k], name) == 0) target = static_cast<int>(k);

  // Every other mention goes.
  for (size_t k = 0; k < lines_.size(); ++k) {
    if (static_cast<int>(k) == target || !lines_[k].is_entry) continue;
    int i = IndexOf(lines_[k], name);
    if (i >= 0) EraseName(lines_[k], static_cast<size_t>(i));
  }

  // New lines copy the last entry of the same address family (IPv4 and
  // IPv6 blocks are often written differently), else the last entry.
  const HostsLine* style = nullptr;
  const HostsLine* same_family = nullptr;
  bool v6 = entry.ip.find(':') != std::string::npos;
  for (const auto& l : lines_) {
    if (!l.is_entry || l.names.empty()) continue;
    style = &l;
    if ((l.ip.find(':') != std::string::npos) == v6) same_family = &l;
  }
  if (same_family) style = same_family;

  if (target >= 0) {
    HostsLine& l = lines_[static_cast<size_t>(target)];
    if (l.ip != entry.ip) {
      size_t col = l.indent.size() + l.ip.size() + l.seps[0].size();
      l.seps[0] = AddressSep(l.indent, entry.ip, l.seps[0], col);
      l.ip = entry.ip;
    }
    // Keep the exact spelling of names that are already right.
    bool same = l.names.size() == want_names.size();
    for (size_t i = 0; same && i < want_names.size(); ++i) same = l.names[i] == want_names[i];
    if (!same) {
      std::string between = NameSep(l, style ? NameSep(*style, " ") : " ");
      l.seps.resize(want_names.size(), between);
      l.names = want_names;
    }
  } else {
    HostsLine l;
    l.is_entry = true;
    l.ip = entry.ip;
    l.names = want_names;
    std::string sep0 = "\t", between = " ";
    if (style) {
      l.indent = style->indent;
      size_t col = style->indent.size() + style->ip.size() + style->seps[0].size();
      sep0 = AddressSep(l.indent, l.ip, style->seps[0], col);
      between = NameSep(*style, " ");
    }
    l.seps.assign(want_names.size(), between);
    l.seps[0] = sep0;
    // A file whose last line lacks '\n' gets it now that a line follows.
    final_newline_ = true;
    lines_.push_back(std::move(l));
  }
  std::erase_if(lines_, [](const HostsLine& l) { return l.is_entry && l.names.empty(); });
}

void HostsFile::Remove(std::string_view name) {
  std::vector<HostsLine> kept;
  for (auto& l : lines_) {
    if (l.is_entry) {
      int i = IndexOf(l, name);
      if (i == 0) continue;
      if (i > 0) EraseName(l, static_cast<size_t>(i));
    }
    kept.push_back(std::move(l));
  }
  lines_ = std::move(kept);
  if (lines_.empty()) final_newline_ = true;
}

}  // namespace keel::hosts
