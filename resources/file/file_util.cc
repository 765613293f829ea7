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
