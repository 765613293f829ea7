#include "engine/text_lines.h"

namespace keel {

std::vector<std::string_view> SplitLinesKeepEnds(std::string_view text) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (start < text.size()) {
    size_t nl = text.find('\n', start);
    size_t end = nl == std::string_view::npos ? text.size() : nl + 1;
    out.push_back(text.substr(start, end - start));
    start = end;
  }
  return out;
}

std::vector<std::string_view> SplitLines(std::string_view text) {
  std::vector<std::string_view> out = SplitLinesKeepEnds(text);
  for (std::string_view& line : out)
    if (line.back() == '\n') line.remove_suffix(1);
  return out;
}

TextLines TextLines::Parse(std::string_view text) {
  TextLines out;
  for (std::string_view line : SplitLinesKeepEnds(text)) {
    if (line.back() == '\n') {
      line.remove_suffix(1);
    } else {
      out.final_newline = false;
    }
    out.lines.emplace_back(line);
  }
  return out;
}

std::string TextLines::Render() const {
  std::string out;
  size_t total = 0;
  for (const auto& l : lines) total += l.size() + 1;
  out.reserve(total);
  for (size_t i = 0; i < lines.size(); ++i) {
    out += lines[i];
    if (i + 1 < lines.size() || final_newline) out += '\n';
  }
  return out;
}

}  // namespace keel
