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

// Where an expansion ends, as bash finds it: `i` is just past the opener
// (`$(`, `${`, a backquote, a double quote) and ends just past `close`.
// Quotes, escapes and nested expansions inside are skipped whole, so a ';'
// or blank inside `${X:-a;b}` or `$(a; b)` does not end the value. kUnsure
// where bash's rules are beyond this scanner (a comment, a here-document or
// `case` inside `$( )`, single quotes or braces inside a double-quoted
// `${ }`, deep nesting): the caller must then not edit the line.
}  // namespace

Scan ScanExpansion(std::string_view v, size_t& i, char close, bool in_dq, int depth) {
  if (depth > 32) return Scan::kUnsure;
  const size_t n = v.size();
  const bool command = close == ')';
  while (i < n) {
    const char c = v[i];
    if (c == '\\') {
      i += 2;
      continue;
    }
    if (c == close) {
      ++i;
      return Scan::kOk;
    }
    if (close == '`') {
      ++i;
      continue;
    }
    if (c == '\'' && close != '"') {
      if (in_dq && close == '}') return Scan::kUnsure;
      size_t q = v.find('\'', i + 1);
      if (q == std::string_view::npos) return Scan::kUnterminated;
      i = q + 1;
      continue;
    }
    Scan sub = Scan::kOk;
    bool nested = true;
    if (c == '$' && i + 1 < n && (v[i + 1] == '(' || v[i + 1] == '{')) {
      char open = v[i + 1];
      i += 2;
      sub = ScanExpansion(v, i, open == '(' ? ')' : '}', in_dq || close == '"', depth + 1);
    } else if (c == '`') {
      ++i;
      sub = ScanExpansion(v, i, '`', in_dq || close == '"', depth + 1);
    } else if (c == '"' && close != '"') {
      ++i;
      sub = ScanExpansion(v, i, '"', true, depth + 1);
    } else if (command && c == '(') {
      ++i;
      sub = ScanExpansion(v, i, ')', false, depth + 1);
    } else {
      nested = false;
    }
    if (nested) {
      if (sub != Scan::kOk) return sub;
      continue;
    }
    if (close == '}' && c == '{') return Scan::kUnsure;
    if (command) {
      const bool word_start =
          i == 0 || IsBlank(v[i - 1]) || v[i - 1] == ';' || v[i - 1] == '(' || v[i - 1] == '\n';
      if (c == '#' && word_start) return Scan::kUnsure;  // a comment: ')' inside it
      if (c == '<' && i + 1 < n && v[i + 1] == '<') return Scan::kUnsure;  // here-document
      if (word_start && v.substr(i, 4) == "case" && (i + 4 == n || !IsKeyChar(v[i + 4])))
        return Scan::kUnsure;  // `case x in a)`: an unbalanced ')'
    }
    ++i;
  }
  return Scan::kUnterminated;
}

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
  // An expansion ($( ), ${ }, $(( )), backquotes, $'...'): the value is
  // dynamic and its raw text runs to where bash ends it.
  auto expansion = [&](size_t start, size_t after_opener, char close, bool in_dq) {
    size_t k = after_opener;
    Scan sc = ScanExpansion(v, k, close, in_dq, 0);
    if (sc == Scan::kOk) {
      a.dynamic = true;
      a.value += v.substr(start, k - start);
      i = k;
    }
    return sc;
  };
  auto status_of = [](Scan sc) {
    return sc == Scan::kUnterminated ? ParseStatus::kUnterminated : ParseStatus::kOther;
  };
  while (i < n && !EndsWord(v[i])) {
    char c = v[i];
    if ((c == '$' && i + 1 < n && (v[i + 1] == '(' || v[i + 1] == '{')) || c == '`') {
      const bool dollar = c == '$';
      const char close = !dollar ? '`' : v[i + 1] == '(' ? ')' : '}';
      Scan sc = expansion(i, i + (dollar ? 2 : 1), close, false);
      if (sc != Scan::kOk) return status_of(sc);
      continue;
    }
    if (c == '$' && i + 1 < n && v[i + 1] == '\'') {  // $'...': ANSI-C quoting
      size_t k = i + 2;
      while (k < n && v[k] != '\'') k += v[k] == '\\' ? 2 : 1;
      if (k >= n) return ParseStatus::kUnterminated;
      a.dynamic = true;
      a.value += v.substr(i, k + 1 - i);
      i = k + 1;
      continue;
    }
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
        if ((d == '$' && i + 1 < n && (v[i + 1] == '(' || v[i + 1] == '{')) || d == '`') {
          const bool dollar = d == '$';
          const char close = !dollar ? '`' : v[i + 1] == '(' ? ')' : '}';
          Scan sc = expansion(i, i + (dollar ? 2 : 1), close, true);
          if (sc != Scan::kOk) return status_of(sc);
          continue;
        }
        if (d == '$') a.dynamic = true;
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
