#include "resources/file/file_util.h"

#include <string>
#include <vector>

#include "engine/digest.h"

namespace keel::file {

std::optional<uint32_t> ParseMode(std::string_view text) {
  if (text.size() < 3 || text.size() > 4) return std::nullopt;
  uint32_t mode = 0;
  for (char c : text) {
    if (c < '0' || c > '7') return std::nullopt;
    mode = mode * 8 + static_cast<uint32_t>(c - '0');
  }
  return mode;
}

std::string FormatMode(uint32_t mode) {
  std::string out(4, '0');
  mode &= 07777;
  for (int i = 3; i >= 0; --i) {
    out[static_cast<size_t>(i)] = static_cast<char>('0' + (mode & 7));
    mode >>= 3;
  }
  return out;
}

std::optional<std::string> NameForId(std::string_view db, uint32_t id) {
  const std::string want = std::to_string(id);
  size_t pos = 0;
  while (pos < db.size()) {
    size_t eol = db.find('\n', pos);
    std::string_view line = db.substr(pos, eol == std::string_view::npos ? db.npos : eol - pos);
    pos = eol == std::string_view::npos ? db.size() : eol + 1;
    if (line.empty() || line[0] == '#') continue;
    std::vector<std::string_view> fields;
    size_t start = 0;
    while (fields.size() < 3) {
      size_t colon = line.find(':', start);
      if (colon == std::string_view::npos) {
        fields.push_back(line.substr(start));
        break;
      }
      fields.push_back(line.substr(start, colon - start));
      start = colon + 1;
    }
    if (fields.size() < 3 || fields[0].empty()) continue;
    if (fields[2] == want) return std::string(fields[0]);
  }
  return std::nullopt;
}

std::pair<int, int> LineCol(std::string_view text, size_t offset) {
  if (offset > text.size()) offset = text.size();
  int line = 1, col = 1;
  for (size_t i = 0; i < offset; ++i) {
    if (text[i] == '\n') {
      ++line;
      col = 1;
    } else {
      ++col;
    }
  }
  return {line, col};
}

std::string ContentSum(std::string_view data) { return "{sha256}" + Sha256Hex(data); }

}  // namespace keel::file
