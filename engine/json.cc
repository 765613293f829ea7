#include "engine/json.h"

#include <nlohmann/json.hpp>

namespace keel {
namespace {

using Json = nlohmann::ordered_json;

// nlohmann's text of one scalar (doubles, and strings holding bytes that are
// not valid UTF-8: its replacement rules are kept exactly).
std::string NlohmannScalar(const Json& j) {
  return j.dump(-1, ' ', false, Json::error_handler_t::replace);
}

// The length of the valid UTF-8 sequence at s[i] (1-4), or 0 when the bytes
// there are not one (overlong forms, surrogates and code points above
// U+10FFFF are not valid).
size_t Utf8Length(std::string_view s, size_t i) {
  auto b = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned char c = b(i);
  if (c < 0x80) return 1;
  size_t n;
  unsigned char lo = 0x80, hi = 0xBF;
  if (c >= 0xC2 && c <= 0xDF) {
    n = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    n = 3;
    if (c == 0xE0) lo = 0xA0;
    if (c == 0xED) hi = 0x9F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    n = 4;
    if (c == 0xF0) lo = 0x90;
    if (c == 0xF4) hi = 0x8F;
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  if (b(i + 1) < lo || b(i + 1) > hi) return 0;
  for (size_t k = 2; k < n; ++k)
    if (b(i + k) < 0x80 || b(i + k) > 0xBF) return 0;
  return n;
}

// A string as nlohmann writes it with ensure_ascii off: ", \ and the
// control characters escaped (\b \t \n \f \r, others \u00xx), UTF-8 as is.
// Invalid UTF-8 anywhere: nlohmann's own text (U+FFFD replacements).
void StringInto(std::string_view s, std::string& out) {
  const size_t start = out.size();
  out += '"';
  for (size_t i = 0; i < s.size();) {
    // A run of bytes written as they are, appended at once.
    size_t plain = i;
    while (plain < s.size()) {
      unsigned char p = static_cast<unsigned char>(s[plain]);
      if (p < 0x20 || p >= 0x80 || p == '"' || p == '\\') break;
      ++plain;
    }
    if (plain > i) {
      out.append(s.data() + i, plain - i);
      i = plain;
      if (i == s.size()) break;
    }
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c >= 0x80) {
      size_t n = Utf8Length(s, i);
      if (n == 0) {
        out.resize(start);
        out += NlohmannScalar(Json(std::string(s)));
        return;
      }
      out.append(s.substr(i, n));
      i += n;
      continue;
    }
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\f':
        out += "\\f";
        break;
      case '\r':
        out += "\\r";
        break;
      default:
        if (c < 0x20) {
          static constexpr char kHex[] = "0123456789abcdef";
          out += "\\u00";
          out += kHex[c >> 4];
          out += kHex[c & 0xF];
        } else {
          out += static_cast<char>(c);
        }
    }
    ++i;
  }
  out += '"';
}

void ScalarInto(const Value& v, std::string& out) {
  switch (v.kind()) {
    case ValueKind::kNull:
      out += "null";
      return;
    case ValueKind::kBool:
      out += v.as_bool() ? "true" : "false";
      return;
    case ValueKind::kInt:
      out += std::to_string(v.as_int());
      return;
    case ValueKind::kDouble:
      out += NlohmannScalar(Json(v.as_double()));
      return;
    case ValueKind::kString:
      StringInto(v.as_string(), out);
      return;
    default:
      return;
  }
}

// nlohmann's dump(2) layout, written directly (building an nlohmann tree
// first cost more than the rest of a no-op run's report).
void PrettyInto(const Value& v, std::string& out, int depth) {
  auto newline = [&](int d) {
    out += '\n';
    out.append(static_cast<size_t>(2 * d), ' ');
  };
  if (v.is_list()) {
    const auto& l = v.as_list();
    if (l.empty()) {
      out += "[]";
      return;
    }
    out += '[';
    bool first = true;
    for (const Value& e : l) {
      if (!first) out += ',';
      first = false;
      newline(depth + 1);
      PrettyInto(e, out, depth + 1);
    }
    newline(depth);
    out += ']';
  } else if (v.is_map()) {
    const auto& m = v.as_map();
    if (m.empty()) {
      out += "{}";
      return;
    }
    out += '{';
    bool first = true;
    for (const auto& [k, e] : m) {
      if (!first) out += ',';
      first = false;
      newline(depth + 1);
      StringInto(k, out);
      out += ": ";
      PrettyInto(e, out, depth + 1);
    }
    newline(depth);
    out += '}';
  } else {
    ScalarInto(v, out);
  }
}

void LineInto(const Value& v, std::string& out) {
  if (v.is_list()) {
    out += '[';
    bool first = true;
    for (const Value& e : v.as_list()) {
      if (!first) out += ", ";
      first = false;
      LineInto(e, out);
    }
    out += ']';
  } else if (v.is_map()) {
    out += '{';
    bool first = true;
    for (const auto& [k, e] : v.as_map()) {
      if (!first) out += ", ";
      first = false;
      StringInto(k, out);
      out += ": ";
      LineInto(e, out);
    }
    out += '}';
  } else {
    ScalarInto(v, out);
  }
}

}  // namespace

void JsonPrettyInto(const Value& v, std::string& out, int depth) { PrettyInto(v, out, depth); }

void JsonStringInto(std::string_view s, std::string& out) { StringInto(s, out); }

std::string JsonPretty(const Value& v) {
  std::string out;
  PrettyInto(v, out, 0);
  return out;
}

std::string JsonLine(const Value& v) {
  std::string out;
  LineInto(v, out);
  return out;
}

}  // namespace keel
