#include "engine/passwd.h"

#include <charconv>

#include "engine/text_lines.h"

namespace keel {

std::optional<uint32_t> ParseId(std::string_view text) {
  uint32_t id = 0;
  if (text.empty() || text[0] < '0' || text[0] > '9') return std::nullopt;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), id);
  if (ec != std::errc() || ptr != text.data() + text.size()) return std::nullopt;
  return id;
}

std::optional<IdDbEntry> ParseIdDbLine(std::string_view line) {
  if (line.empty() || line[0] == '#') return std::nullopt;
  size_t c1 = line.find(':');
  if (c1 == 0 || c1 == std::string_view::npos) return std::nullopt;
  size_t c2 = line.find(':', c1 + 1);
  if (c2 == std::string_view::npos) return std::nullopt;
  size_t c3 = line.find(':', c2 + 1);
  std::string_view id =
      line.substr(c2 + 1, c3 == std::string_view::npos ? std::string_view::npos : c3 - c2 - 1);
  return IdDbEntry{line.substr(0, c1), ParseId(id)};
}

std::optional<IdDbEntry> FindIdByName(std::string_view db, std::string_view name) {
  for (std::string_view line : SplitLines(db)) {
    auto e = ParseIdDbLine(line);
    if (e && e->name == name) return e;
  }
  return std::nullopt;
}

std::optional<std::string> FindNameById(std::string_view db, uint32_t id) {
  for (std::string_view line : SplitLines(db)) {
    auto e = ParseIdDbLine(line);
    if (e && e->id == id) return std::string(e->name);
  }
  return std::nullopt;
}

}  // namespace keel
