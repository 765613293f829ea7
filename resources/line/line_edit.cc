#include "resources/line/line_edit.h"

#include "engine/expr.h"
#include "resources/common/edit.h"

namespace keel::line {
namespace {

bool Matches(const RE2& re, std::string_view text) {
  return RE2::PartialMatch(re2::StringPiece(text.data(), text.size()), re);
}

}  // namespace

Result<std::shared_ptr<const RE2>> CompileRegex(const std::string& pattern) {
  if (pattern.size() > kMaxRegexBytes)
    return MakeError(ErrorCode::kInvalid,
                     "regex too long (" + std::to_string(pattern.size()) + " bytes, at most " +
                         std::to_string(kMaxRegexBytes) +
                         "): matching time grows with the pattern's length times the line's");
  RE2::Options opts;
  opts.set_log_errors(false);
  auto re = std::make_shared<const RE2>(pattern, opts);
  if (!re->ok())
    return MakeError(ErrorCode::kInvalid, "invalid regex '" + pattern + "': " + re->error() +
                                              " (RE2 syntax: no backreferences or lookaround)");
  return std::shared_ptr<const RE2>(std::move(re));
}

std::optional<std::string> EnsureLineText(std::string_view text, const LineSpec& spec) {
  // One pass over the text as views: no copy of its lines.
  const size_t n = text.size();
  struct Line {
    size_t start, end;  // [start, end) without the '\n'
  };
  auto line_at = [&](size_t pos) {
    size_t nl = text.find('\n', pos);
    return Line{pos, nl == std::string_view::npos ? n : nl};
  };
  auto bare = [&](const Line& l) {
    std::string_view v = text.substr(l.start, l.end - l.start);
    if (!v.empty() && v.back() == '\r') v.remove_suffix(1);
    return v;
  };
  auto has_cr = [&](const Line& l) { return l.end > l.start && text[l.end - 1] == '\r'; };
  auto splice = [&](size_t from, size_t to, std::string_view with) {
    std::string out;
    out.reserve(n - (to - from) + with.size());
    out.append(text.substr(0, from));
    out.append(with);
    out.append(text.substr(to));
    return out;
  };
  if (spec.present) {
    std::optional<Line> matched, after;
    for (size_t pos = 0; pos < n;) {
      Line l = line_at(pos);
      std::string_view b = bare(l);
      if (b == spec.line) return std::nullopt;
      if (spec.match && !matched && Matches(*spec.match, b)) matched = l;
      if (spec.after && !after && Matches(*spec.after, b)) after = l;
      pos = l.end + 1;
    }
    if (matched)  // Keep the line's own ending: a CR stays a CR.
      return splice(matched->start, matched->end, spec.line + (has_cr(*matched) ? "\r" : ""));
    // A new line ends as its neighbour above (or below) does: CRLF stays CRLF.
    if (after && after->end < n) {
      size_t at = after->end + 1;
      return splice(at, at, spec.line + (has_cr(*after) ? "\r\n" : "\n"));
    }
    // At the end (the old last line gets its '\n').
    std::string_view body = text;
    if (!body.empty() && body.back() == '\n') body.remove_suffix(1);
    size_t last_start = body.rfind('\n');
    last_start = last_start == std::string_view::npos ? 0 : last_start + 1;
    const bool crlf = n > 0 && has_cr(Line{last_start, body.size()});
    std::string add = (n > 0 && text.back() != '\n') ? "\n" : "";
    add += spec.line + (crlf ? "\r\n" : "\n");
    return splice(n, n, add);
  }
  std::string out;
  bool dropped = false;
  size_t kept_from = 0;  // start of the run of kept bytes not yet copied
  for (size_t pos = 0; pos < n;) {
    Line l = line_at(pos);
    std::string_view b = bare(l);
    size_t next = l.end < n ? l.end + 1 : n;
    bool drop = spec.match ? Matches(*spec.match, b) : b == spec.line;
    if (drop) {
      if (!dropped) out.reserve(n);
      dropped = true;
      out.append(text.substr(kept_from, l.start - kept_from));
      kept_from = next;
    }
    pos = next;
  }
  if (!dropped) return std::nullopt;
  out.append(text.substr(kept_from));
  return out;
}

Result<std::optional<std::string>> EnsureLine(const std::optional<std::string>& before,
                                              const LineSpec& spec) {
  if (!before) {
    if (!spec.present) return std::optional<std::string>();
    return std::optional<std::string>(spec.line + "\n");
  }
  auto after = EnsureLineText(*before, spec);
  if (!after) return before;
  return std::optional<std::string>(std::move(*after));
}

}  // namespace keel::line
