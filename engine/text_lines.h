// Line splitting: the one implementation used by the engine and the
// resource types. Pure functions on strings; a resource may include this
// header (it is a pure utility, like engine/{result,value,...}.h).
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace keel {

/// Lines of `text` without their '\n', as views into `text`. A last line
/// without '\n' is a line; "" has none; "a\n" is ["a"]; "a\n\nb" is
/// ["a", "", "b"]. A '\r' before the '\n' stays part of the line.
std::vector<std::string_view> SplitLines(std::string_view text);

/// Lines of `text` keeping their '\n' (the last one may lack it), so that
/// "x" and "x\n" differ as they do for diff(1). Joined, they are `text`.
std::vector<std::string_view> SplitLinesKeepEnds(std::string_view text);

/// A text file split into lines without their '\n'. Render() gives back
/// the exact bytes Parse() was given (CR, trailing blanks, a missing final
/// newline are kept). An empty file has no lines.
struct TextLines {
  std::vector<std::string> lines;
  bool final_newline = true;  // false when the last line had no '\n'
  static TextLines Parse(std::string_view text);
  /// Joins with '\n'; the last line gets '\n' only when final_newline.
  /// Lines appended by an edit to a file without final newline: the editor
  /// sets final_newline = true so the old last line is terminated.
  std::string Render() const;
};

}  // namespace keel
