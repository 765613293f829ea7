// Line-by-line edits of a text without splitting it into a vector of
// strings: the lines are found on demand as views into the text, and the
// edits are recorded by byte offset and applied in one pass by Render().
// Memory is the text (owned by the caller) plus the edits, whatever the
// number of lines — a 500,000-line /etc/hosts costs no per-line struct
// (issue 11 item 13 for the line-oriented formats: sysctl, hosts, fstab,
// modprobe.d, grub, audit rules).
//
// Render() gives exactly what TextLines::Parse + edits + TextLines::Render
// would: lines joined with '\n', a missing final newline kept unless a
// line is appended, CR and trailing blanks kept.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace keel::edit {

/// One line (or, for a format with continuation lines, several physical
/// lines) of a text: [begin, begin + text.size()) without the final '\n'.
struct LineSpan {
  size_t begin = 0;
  std::string_view text;
  size_t end() const { return begin + text.size(); }
};

/// Iterates the physical lines of `text`: `pos` starts at 0; each call
/// sets `line` and advances `pos` past its '\n'. False at the end.
/// "" has no lines; "a\n" has one; "a\n\nb" has three.
inline bool NextLine(std::string_view text, size_t& pos, LineSpan& line) {
  if (pos >= text.size()) return false;
  size_t nl = text.find('\n', pos);
  size_t end = nl == std::string_view::npos ? text.size() : nl;
  line = {pos, text.substr(pos, end - pos)};
  pos = nl == std::string_view::npos ? text.size() : nl + 1;
  return true;
}

/// Calls f(LineSpan) for every physical line of `text`; f may return
/// false to stop (or return void).
template <typename F>
void ForEachLine(std::string_view text, F&& f) {
  size_t pos = 0;
  LineSpan line;
  while (NextLine(text, pos, line)) {
    if constexpr (std::is_same_v<decltype(f(line)), bool>) {
      if (!f(line)) return;
    } else {
      f(line);
    }
  }
}

/// Edits of one text, by line. The text must outlive this object and not
/// change. Spans given to Replace/Erase/InsertBefore are lines (or runs of
/// consecutive lines) of that text as NextLine found them; spans must not
/// overlap. Editing one span twice keeps the last edit (InsertBefore adds).
class LineEdits {
 public:
  explicit LineEdits(std::string_view text) : text_(text) {}

  std::string_view text() const { return text_; }
  /// True when the last line of the text ends with '\n' (or there is none).
  bool final_newline() const { return text_.empty() || text_.back() == '\n'; }

  /// The span's bytes become `line` (which may hold '\n' for a format with
  /// continuation lines).
  void Replace(const LineSpan& span, std::string line);
  /// The span's lines are dropped (with their '\n').
  void Erase(const LineSpan& span);
  /// A new line goes before the span's first line (after earlier
  /// insertions before it).
  void InsertBefore(const LineSpan& span, std::string line);
  /// A new line at the end; the old last line gets its '\n' if it lacked it.
  void Append(std::string line);

  /// True when any edit was recorded (Render may still equal the text when
  /// a replacement is identical).
  bool edited() const { return !ops_.empty() || !appended_.empty(); }
  /// The text with every edit applied.
  std::string Render() const;

 private:
  struct Op {
    size_t end = 0;  // end of the span (its final '\n' excluded)
    enum class Kind { kKeep, kReplace, kErase } kind = Kind::kKeep;
    std::string text;                 // kReplace
    std::vector<std::string> before;  // inserted lines
  };
  Op& At(const LineSpan& span);
  std::string_view text_;
  std::map<size_t, Op> ops_;  // by span begin
  std::vector<std::string> appended_;
};

}  // namespace keel::edit
