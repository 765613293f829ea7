#include "resources/common/shell_quote.h"

namespace keel::shell {
namespace {

bool IsBlank(char c) { return c == ' ' || c == '\t'; }
bool IsKeyStart(char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_'; }
bool IsKeyChar(char c) { return IsKeyStart(c) || (c >= '0' && c <= '9'); }
// Characters that end an unquoted word in bash.
bool EndsWord(char c) {
  return IsBlank(c) || c == ';' || c == '&' || c == '|' || c == '<' || c == '>' || c == '(' ||
         c == ')' || c == '\n';
}

}  // namespace

std::optional<QuoteStyle> ParseStyle(std::string_view text) {
  if (text == "double") return QuoteStyle::kDouble;
  if (text == "single") return QuoteStyle::kSingle;
  if (text == "none") return QuoteStyle::kNone;
  return std::nullopt;
}

bool ValidKey(std::string_view key) {
  if (key.empty() || !IsKeyStart(key[0])) return false;
  for (char c : key)
    if (!IsKeyChar(c)) return false;
  return true;
}

ParseStatus ParseAssignment(std::string_view text, Assignment& out) {
  Assignment a;
  std::string_view v = text;
  if (!v.empty() && v.back() == '\r') {
    a.eol = "\r";
    v.remove_suffix(1);
  }
  const size_t n = v.size();
  size_t i = 0;
  while (i < n && IsBlank(v[i])) ++i;
  a.indent = std::string(v.substr(0, i));
  if (v.substr(i, 6) == "export" && i + 6 < n && IsBlank(v[i + 6])) {
    size_t j = i + 6;
    while (j < n && IsBlank(v[j])) ++j;
    a.exported = std::string(v.substr(i, j - i));
    i = j;
  }
  size_t key_start = i;
  if (i >= n || !IsKeyStart(v[i])) return ParseStatus::kOther;
  while (i < n && IsKeyChar(v[i])) ++i;
  a.key = std::string(v.substr(key_start, i - key_start));
  if (i >= n || v[i] != '=') return ParseStatus::kOther;
  ++i;
  if (i < n && v[i] == '(') return ParseStatus::kOther;  // an array
  const size_t value_start = i;
  bool quoted_seen = false;
  auto note_style = [&](QuoteStyle s) {
    if (!quoted_seen) a.style = s;
    quoted_seen = true;
  };
  while (i < n && !EndsWord(v[i])) {
    char c = v[i];
    if (c == '\\') {
      if (i + 1 >= n) return ParseStatus::kUnterminated;  // line continuation
      if (v[i + 1] != '\n') a.value += v[i + 1];
      i += 2;
    } else if (c == '\'') {
      note_style(QuoteStyle::kSingle);
      size_t close = v.find('\'', i + 1);
      if (close == std::string_view::npos) return ParseStatus::kUnterminated;
      a.value += v.substr(i + 1, close - i - 1);
      i = close + 1;
    } else if (c == '"') {
      note_style(QuoteStyle::kDouble);
      ++i;
      bool closed = false;
      while (i < n) {
        char d = v[i];
        if (d == '"') {
          closed = true;
          ++i;
          break;
        }
        if (d == '\\' && i + 1 < n) {
          char e = v[i + 1];
          if (e == '$' || e == '`' || e == '"' || e == '\\') {
            a.value += e;
            i += 2;
            continue;
          }
          if (e == '\n') {
            i += 2;
            continue;
          }
          a.value += d;
          ++i;
          continue;
        }
        if (d == '$' || d == '`') a.dynamic = true;
        a.value += d;
        ++i;
      }
      if (!closed) return ParseStatus::kUnterminated;
    } else {
      if (c == '$' || c == '`') a.dynamic = true;
      if (c == '~' && (i == value_start || v[i - 1] == ':')) a.dynamic = true;
      a.value += c;
      ++i;
    }
  }
  a.raw_value = std::string(v.substr(value_start, i - value_start));
  size_t j = i;
  while (j < n && IsBlank(v[j])) ++j;
  if (j < n && v[j] != '#' && v[j] != ';') return ParseStatus::kOther;  // `A=1 cmd`, `A=1 >x`
  a.trailer = std::string(v.substr(i));
  out = std::move(a);
  return ParseStatus::kAssignment;
}

bool SafeUnquoted(std::string_view value) {
  for (char c : value) {
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '.' || c == '/' || c == ':' || c == ',' || c == '+' || c == '=' ||
              c == '@' || c == '%' || c == '-';
    if (!ok) return false;
  }
  return true;
}

QuoteStyle AutoStyle(std::string_view value) {
  if (!value.empty() && SafeUnquoted(value)) return QuoteStyle::kNone;
  bool needs_escape = value.find_first_of("$`\"\\") != std::string_view::npos;
  if (needs_escape && value.find('\'') == std::string_view::npos) return QuoteStyle::kSingle;
  return QuoteStyle::kDouble;
}

std::string Quote(std::string_view value, QuoteStyle style) {
  switch (style) {
    case QuoteStyle::kNone:
      if (SafeUnquoted(value)) return std::string(value);
      return Quote(value, AutoStyle(value));
    case QuoteStyle::kSingle: {
      std::string out = "'";
      for (char c : value) {
        if (c == '\'')
          out += "'\\''";
        else
          out += c;
      }
      return out + "'";
    }
    case QuoteStyle::kDouble: {
      std::string out = "\"";
      for (char c : value) {
        if (c == '$' || c == '`' || c == '"' || c == '\\') out += '\\';
        out += c;
      }
      return out + "\"";
    }
  }
  return std::string(value);
}

QuoteStyle ChooseStyle(std::optional<QuoteStyle> requested, std::optional<QuoteStyle> existing,
                       std::string_view value) {
  if (requested) return *requested;
  if (existing) {
    if (*existing != QuoteStyle::kNone) return *existing;
    return AutoStyle(value);
  }
  return AutoStyle(value);
}

}  // namespace keel::shell
