#include "resources/common/shell_file.h"

#include "resources/common/edit.h"

namespace keel::shell {
namespace {

// A quoted value may span lines; bash would reject a file whose quote never
// closes, so stop looking after this many lines and keep the line opaque.
constexpr size_t kMaxContinuation = 1000;

// The lines of an assignment's text (never empty, never ending in '\n').
std::vector<std::string> ChunkLines(const Assignment& a) {
  return edit::TextLines::Parse(a.Render()).lines;
}

}  // namespace

bool Satisfies(const Assignment& a, std::string_view value, std::optional<QuoteStyle> requested) {
  if (a.dynamic || a.value != value) return false;
  if (requested && *requested != a.style) {
    // A bare word asked for but the value cannot be one: whatever quoting
    // the line has is as good as it gets.
    if (*requested == QuoteStyle::kNone && !SafeUnquoted(value)) return true;
    return false;
  }
  return true;
}

ShellFile ShellFile::Parse(std::string_view text) {
  ShellFile f;
  edit::TextLines tl = edit::TextLines::Parse(text);
  f.final_newline_ = tl.final_newline;
  const auto& L = tl.lines;
  size_t i = 0;
  while (i < L.size()) {
    Assignment a;
    std::string joined = L[i];
    size_t end = i;  // last line of the chunk
    ParseStatus st = ParseAssignment(joined, a);
    while (st == ParseStatus::kUnterminated && end + 1 < L.size() && end - i < kMaxContinuation) {
      ++end;
      joined += '\n';
      joined += L[end];
      st = ParseAssignment(joined, a);
    }
    Chunk c;
    if (st == ParseStatus::kAssignment) {
      c.lines.assign(L.begin() + i, L.begin() + end + 1);
      c.assign = std::move(a);
      i = end + 1;
    } else {
      c.lines.push_back(L[i]);
      ++i;
    }
    f.chunks_.push_back(std::move(c));
  }
  return f;
}

std::string ShellFile::Render() const {
  edit::TextLines tl;
  tl.final_newline = final_newline_;
  for (const auto& c : chunks_)
    for (const auto& l : c.lines) tl.lines.push_back(l);
  return tl.Render();
}

const Assignment* ShellFile::Find(std::string_view key) const {
  for (auto it = chunks_.rbegin(); it != chunks_.rend(); ++it)
    if (it->assign && it->assign->key == key) return &*it->assign;
  return nullptr;
}

std::vector<std::string> ShellFile::Keys() const {
  std::vector<std::string> out;
  for (const auto& c : chunks_) {
    if (!c.assign) continue;
    bool seen = false;
    for (const auto& k : out) seen = seen || k == c.assign->key;
    if (!seen) out.push_back(c.assign->key);
  }
  return out;
}

void ShellFile::Set(std::string_view key, std::string_view value,
                    std::optional<QuoteStyle> requested, std::optional<QuoteStyle> new_style) {
  for (auto it = chunks_.rbegin(); it != chunks_.rend(); ++it) {
    if (!it->assign || it->assign->key != key) continue;
    Assignment& a = *it->assign;
    if (Satisfies(a, value, requested)) return;
    QuoteStyle style = ChooseStyle(requested, a.style, value);
    a.raw_value = Quote(value, style);
    a.value = std::string(value);
    a.dynamic = false;
    a.style = style == QuoteStyle::kNone && !SafeUnquoted(value) ? AutoStyle(value) : style;
    it->lines = ChunkLines(a);
    return;
  }
  Assignment a;
  a.key = std::string(key);
  QuoteStyle style = ChooseStyle(requested ? requested : new_style, std::nullopt, value);
  a.raw_value = Quote(value, style);
  a.value = std::string(value);
  a.style = style;
  // In a CRLF file the new line ends as the last one does.
  if (!chunks_.empty() && !chunks_.back().lines.empty() && !chunks_.back().lines.back().empty() &&
      chunks_.back().lines.back().back() == '\r')
    a.eol.push_back('\r');
  // The old last line gets its '\n' back when a line is appended after it.
  final_newline_ = true;
  Chunk c;
  c.lines = ChunkLines(a);
  c.assign = std::move(a);
  chunks_.push_back(std::move(c));
}

size_t ShellFile::Remove(std::string_view key) {
  size_t removed = 0;
  std::vector<Chunk> kept;
  kept.reserve(chunks_.size());
  for (auto& c : chunks_) {
    if (c.assign && c.assign->key == key) {
      ++removed;
      continue;
    }
    kept.push_back(std::move(c));
  }
  chunks_ = std::move(kept);
  return removed;
}

}  // namespace keel::shell
