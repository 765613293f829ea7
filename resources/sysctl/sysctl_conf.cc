#include "resources/sysctl/sysctl_conf.h"

#include <algorithm>

#include "resources/common/edit.h"

namespace keel::sysctl {

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

}  // namespace keel::sysctl
