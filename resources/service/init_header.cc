#include "resources/service/init_header.h"

#include <cctype>
#include <cstdio>

namespace keel::initscript {
namespace {

bool StartsWith(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

bool IsBlank(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f'; }

std::string_view SkipBlanks(std::string_view s) {
  size_t i = 0;
  while (i < s.size() && IsBlank(s[i])) ++i;
  return s.substr(i);
}

/// The blank-separated words of `s`.
std::vector<std::string_view> Words(std::string_view s) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && IsBlank(s[i])) ++i;
    size_t b = i;
    while (i < s.size() && !IsBlank(s[i])) ++i;
    if (i > b) out.push_back(s.substr(b, i - b));
  }
  return out;
}

/// A priority 0-99 written in decimal (chkconfig reads it with %d).
std::optional<int> ParsePriority(std::string_view w) {
  if (w.empty() || w.size() > 3) return std::nullopt;
  int v = 0;
  for (char c : w) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + (c - '0');
  }
  if (v > 99) return std::nullopt;
  return v;
}

/// Levels named by a Default-Start/Default-Stop value ("2 3 4 5"): numbers
/// read one after another up to the first thing that is not one (as
/// chkconfig's strtol loop does); those outside 0-6 name no rc directory
/// and are ignored.
std::vector<int> LsbLevels(std::string_view s) {
  std::vector<int> out;
  size_t i = 0;
  for (;;) {
    while (i < s.size() && IsBlank(s[i])) ++i;
    if (i == s.size() || !std::isdigit(static_cast<unsigned char>(s[i]))) return out;
    int v = 0;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) {
      if (v < 100) v = v * 10 + (s[i] - '0');
      ++i;
    }
    if (v <= 6) out.push_back(v);
  }
}

}  // namespace

std::optional<unsigned> ParseLevels(std::string_view text) {
  if (text.empty()) return std::nullopt;
  unsigned bits = 0;
  for (char c : text) {
    if (c < '0' || c > '6') return std::nullopt;
    bits |= 1u << (c - '0');
  }
  return bits;
}

std::string LevelsText(unsigned levels) {
  std::string s;
  for (int i = 0; i <= 6; ++i)
    if (levels & (1u << i)) s += static_cast<char>('0' + i);
  return s.empty() ? "-" : s;
}

Result<Header> ParseHeader(std::string_view script) {
  Header h;
  std::optional<unsigned> levels;  // nullopt: not known yet (chkconfig's -1)
  std::optional<int> spri, kpri;
  bool desc = false;
  size_t pos = 0;
  while (pos < script.size() && !(levels && desc)) {
    size_t nl = script.find('\n', pos);
    std::string_view line =
        script.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
    pos = nl == std::string_view::npos ? script.size() : nl + 1;
    line = SkipBlanks(line);
    if (line.empty() || line[0] != '#') continue;
    line.remove_prefix(1);
    if (StartsWith(line, "## BEGIN INIT INFO")) h.lsb = true;
    line = SkipBlanks(line);
    if (StartsWith(line, "chkconfig:")) {
      auto w = Words(line.substr(10));
      if (w.size() != 3)
        return MakeError(ErrorCode::kInvalid, "malformed chkconfig header '#" + std::string(line) +
                                                  "': expected `# chkconfig: LEVELS START STOP`");
      auto s = ParsePriority(w[1]);
      auto k = ParsePriority(w[2]);
      if (!s || !k)
        return MakeError(ErrorCode::kInvalid, "malformed chkconfig header '#" + std::string(line) +
                                                  "': priorities must be numbers 0-99");
      if (!spri) spri = *s;
      if (!kpri) kpri = *k;
      h.chkconfig = true;
      if (!levels) {
        if (w[0] == "-") {
          levels = 0u;
        } else {
          levels = ParseLevels(w[0]);
          if (!levels)
            return MakeError(ErrorCode::kInvalid, "malformed chkconfig header '#" +
                                                      std::string(line) +
                                                      "': levels must be digits 0-6 or '-'");
        }
      }
    } else if (StartsWith(line, "description") || StartsWith(line, "Description:") ||
               StartsWith(line, "Short-Description:")) {
      desc = true;
    } else if (StartsWith(line, "Default-Start:")) {
      for (int l : LsbLevels(line.substr(14))) levels = levels.value_or(0u) | (1u << l);
    } else if (StartsWith(line, "Default-Stop:")) {
      for (int l : LsbLevels(line.substr(13))) levels = levels.value_or(0u) & ~(1u << l);
    }
  }
  if (!levels)
    return MakeError(ErrorCode::kInvalid,
                     "no `# chkconfig: LEVELS START STOP` line and no LSB block with "
                     "Default-Start (chkconfig could not manage it either)");
  if (!h.lsb && (!spri || !kpri))
    return MakeError(ErrorCode::kInvalid,
                     "Default-Start/Default-Stop without `### BEGIN INIT INFO` and no "
                     "`# chkconfig:` line (chkconfig could not manage it either)");
  h.levels = *levels;
  h.start_priority = spri.value_or(50);
  h.stop_priority = kpri.value_or(50);
  return h;
}

std::string LinkName::Text(std::string_view name) const {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%c%02d", kind, priority);
  return std::string(buf) + std::string(name);
}

std::optional<LinkName> ParseLinkName(std::string_view entry, std::string_view name) {
  if (entry.size() != name.size() + 3 || entry.substr(3) != name) return std::nullopt;
  if (entry[0] != 'S' && entry[0] != 'K') return std::nullopt;
  if (!std::isdigit(static_cast<unsigned char>(entry[1])) ||
      !std::isdigit(static_cast<unsigned char>(entry[2])))
    return std::nullopt;
  return LinkName{entry[0], (entry[1] - '0') * 10 + (entry[2] - '0')};
}

std::vector<LinkName> WantedLinks(const Header& h, bool enable) {
  std::vector<LinkName> out;
  unsigned on = enable ? h.EnableLevels() : 0u;
  for (int l = 0; l <= 6; ++l) {
    if (on & (1u << l))
      out.push_back({'S', h.start_priority});
    else
      out.push_back({'K', h.stop_priority});
  }
  return out;
}

bool ValidServiceName(std::string_view name) {
  if (name.empty() || name.size() > 200 || name == "." || name == "..") return false;
  if (name[0] == '-' || name[0] == '.') return false;
  for (char c : name) {
    unsigned char u = static_cast<unsigned char>(c);
    if (c == '/' || u <= 0x20 || u == 0x7f) return false;
  }
  return true;
}

}  // namespace keel::initscript
