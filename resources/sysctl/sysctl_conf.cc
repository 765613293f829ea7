#include "resources/sysctl/sysctl_conf.h"

#include <algorithm>

namespace keel::sysctl {

namespace {

bool IsBlank(char c) { return c == ' ' || c == '\t'; }

}  // namespace

SysctlLine ParseLine(std::string_view line) {
  SysctlLine out;
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
  out.key = line.substr(k, kend - k);
  out.prefix = line.substr(0, v);
  out.value = line.substr(v, end - v);
  out.suffix = line.substr(end);
  return out;
}

std::string KeyPath(std::string_view key) {
  std::string out(key);
  while (!out.empty() && (out.front() == '/' || out.front() == '.')) out.erase(0, 1);
  if (out.find('/') == std::string::npos) std::replace(out.begin(), out.end(), '.', '/');
  return out;
}

std::string NormalizeValue(std::string_view value) {
  std::string out;
  bool blank = false;
  for (char c : value) {
    if (IsBlank(c) || c == '\n' || c == '\r') {
      blank = true;
      continue;
    }
    if (blank && !out.empty()) out += ' ';
    blank = false;
    out += c;
  }
  return out;
}

SysctlConf SysctlConf::Parse(std::string_view text) { return SysctlConf(text); }

// f(begin, key, value, between) for each assignment as edited; `between`
// is what a new line copies: the bytes after the key up to the value.
template <typename F>
void SysctlConf::ForEachCurrent(F&& f) const {
  edit::ForEachLine(text_, [&](const edit::LineSpan& span) {
    SysctlLine l = ParseLine(span.text);
    if (!l.is_assignment || removed_.count(span.begin)) return;
    auto v = values_.find(span.begin);
    std::string_view value = v == values_.end() ? l.value : std::string_view(v->second);
    // The style of the last assignment: as the old model, the first
    // occurrence of the key in its prefix.
    size_t kpos = l.prefix.find(l.key);
    std::string_view between =
        kpos == std::string_view::npos ? " = " : l.prefix.substr(kpos + l.key.size());
    f(span.begin, l.key, value, between);
  });
  for (const Appended& a : appended_)
    if (!a.removed) f(std::string_view::npos, a.key, a.value, a.between);
}

std::string SysctlConf::Render() const {
  edit::LineEdits e(text_);
  for (const auto& [begin, gone] : removed_) {
    size_t nl = text_.find('\n', begin);
    size_t end = nl == std::string_view::npos ? text_.size() : nl;
    e.Erase({begin, text_.substr(begin, end - begin)});
  }
  for (const auto& [begin, value] : values_) {
    if (removed_.count(begin)) continue;
    size_t nl = text_.find('\n', begin);
    size_t end = nl == std::string_view::npos ? text_.size() : nl;
    std::string_view line = text_.substr(begin, end - begin);
    SysctlLine l = ParseLine(line);
    std::string next;
    next.reserve(l.prefix.size() + value.size() + l.suffix.size());
    next.append(l.prefix).append(value).append(l.suffix);
    e.Replace({begin, line}, std::move(next));
  }
  bool any = false;
  for (const Appended& a : appended_)
    if (!a.removed) {
      e.Append(a.key + a.between + a.value);
      any = true;
    }
  if (!force_final_newline_ || any) return e.Render();
  // A line was appended then removed: the old last line keeps the '\n' it
  // got (a sentinel line stands for the removed one).
  e.Append("");
  std::string out = e.Render();
  out.pop_back();
  return out;
}

std::optional<std::string> SysctlConf::Get(std::string_view key) const {
  std::string path = KeyPath(key);
  std::optional<std::string_view> out;
  ForEachCurrent([&](size_t, std::string_view k, std::string_view value, std::string_view) {
    if (KeyPath(k) == path) out = value;
  });
  if (!out) return std::nullopt;
  return std::string(*out);
}

void SysctlConf::Set(std::string_view key, std::string_view value) {
  std::string path = KeyPath(key);
  std::string want = NormalizeValue(value);
  bool found = false;
  std::string between = " = ";
  std::vector<size_t> lines;  // original lines to rewrite
  ForEachCurrent([&](size_t begin, std::string_view k, std::string_view v, std::string_view b) {
    between = std::string(b);
    if (KeyPath(k) != path) return;
    found = true;
    if (NormalizeValue(v) != want) lines.push_back(begin);
  });
  for (size_t begin : lines)
    if (begin != std::string_view::npos) values_[begin] = std::string(value);
  for (Appended& a : appended_)
    if (!a.removed && KeyPath(a.key) == path && NormalizeValue(a.value) != want)
      a.value = std::string(value);
  if (found) return;
  force_final_newline_ = true;
  appended_.push_back({std::string(key), std::move(between), std::string(value)});
}

void SysctlConf::Remove(std::string_view key) {
  std::string path = KeyPath(key);
  std::vector<size_t> lines;
  ForEachCurrent([&](size_t begin, std::string_view k, std::string_view, std::string_view) {
    if (begin != std::string_view::npos && KeyPath(k) == path) lines.push_back(begin);
  });
  for (size_t begin : lines) removed_[begin] = true;
  for (Appended& a : appended_)
    if (KeyPath(a.key) == path) a.removed = true;
}

SysctlIndex SysctlIndex::Build(std::string_view text) {
  SysctlIndex x;
  ForEachAssignment(text, [&](std::string_view key, std::string_view value) {
    auto [it, fresh] = x.at_.try_emplace(KeyPath(key));
    At& at = it->second;
    if (fresh) {
      at.value = NormalizeValue(value);
    } else if (at.same && NormalizeValue(value) != at.value) {
      at.same = false;
    }
    at.last = value;
  });
  return x;
}

std::optional<std::string> SysctlIndex::Get(std::string_view key) const {
  auto it = at_.find(KeyPath(key));
  if (it == at_.end()) return std::nullopt;
  return std::string(it->second.last);
}

bool SysctlIndex::InPlace(std::string_view key, std::string_view value) const {
  auto it = at_.find(KeyPath(key));
  return it != at_.end() && it->second.same && it->second.value == NormalizeValue(value);
}

}  // namespace keel::sysctl
