#include "resources/line/line_edit.h"

#include "resources/common/edit.h"

namespace keel::line {
namespace {

std::string_view Bare(const std::string& l) {
  std::string_view v = l;
  if (!v.empty() && v.back() == '\r') v.remove_suffix(1);
  return v;
}

bool Matches(const RE2& re, std::string_view text) {
  return RE2::PartialMatch(re2::StringPiece(text.data(), text.size()), re);
}

}  // namespace

Result<std::shared_ptr<const RE2>> CompileRegex(const std::string& pattern) {
  RE2::Options opts;
  opts.set_log_errors(false);
  auto re = std::make_shared<const RE2>(pattern, opts);
  if (!re->ok())
    return MakeError(ErrorCode::kInvalid, "invalid regex '" + pattern + "': " + re->error() +
                                              " (RE2 syntax: no backreferences or lookaround)");
  return std::shared_ptr<const RE2>(std::move(re));
}

Result<std::optional<std::string>> EnsureLine(const std::optional<std::string>& before,
                                              const LineSpec& spec) {
  if (!before) {
    if (!spec.present) return std::optional<std::string>();
    return std::optional<std::string>(spec.line + "\n");
  }
  edit::TextLines t = edit::TextLines::Parse(*before);
  auto& lines = t.lines;
  if (spec.present) {
    for (const auto& l : lines)
      if (Bare(l) == spec.line) return before;
    if (spec.match) {
      for (auto& l : lines) {
        if (Matches(*spec.match, Bare(l))) {
          // Keep the line's own ending: a CR stays a CR.
          l = spec.line + (l.size() != Bare(l).size() ? "\r" : "");
          return std::optional<std::string>(t.Render());
        }
      }
    }
    size_t at = lines.size();
    if (spec.after) {
      for (size_t i = 0; i < lines.size(); ++i)
        if (Matches(*spec.after, Bare(lines[i]))) {
          at = i + 1;
          break;
        }
    }
    if (at == lines.size()) t.final_newline = true;
    // A new line ends as its neighbour above (or below) does: CRLF stays CRLF.
    const std::string* neighbour = at > 0 ? &lines[at - 1] : (lines.empty() ? nullptr : &lines[0]);
    const bool crlf = neighbour && !neighbour->empty() && neighbour->back() == '\r';
    std::string new_line = spec.line + (crlf ? "\r" : "");
    lines.insert(lines.begin() + static_cast<std::ptrdiff_t>(at), new_line);
    return std::optional<std::string>(t.Render());
  }
  std::vector<std::string> kept;
  kept.reserve(lines.size());
  bool last_dropped = false;
  for (size_t i = 0; i < lines.size(); ++i) {
    bool drop = spec.match ? Matches(*spec.match, Bare(lines[i])) : Bare(lines[i]) == spec.line;
    if (drop)
      last_dropped = i + 1 == lines.size();
    else
      kept.push_back(std::move(lines[i]));
  }
  if (kept.size() == lines.size()) return before;
  // The unterminated last line removed: the line before it keeps its '\n'.
  if (last_dropped) t.final_newline = true;
  lines = std::move(kept);
  return std::optional<std::string>(t.Render());
}

}  // namespace keel::line
