#include "engine/yaml_value.h"

#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <string>

#include "engine/text_lines.h"

namespace keel {

namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

bool IsIntText(std::string_view t) {
  size_t i = 0;
  if (i < t.size() && (t[i] == '-' || t[i] == '+')) ++i;
  if (i == t.size()) return false;
  if (t[i] == '0') return i + 1 == t.size();  // "0" only; "0644" is a string
  for (; i < t.size(); ++i)
    if (!IsDigit(t[i])) return false;
  return true;
}

// digits [. digits] [e [sign] digits], with a dot or an exponent.
bool IsDecimalText(std::string_view t) {
  size_t i = 0;
  if (i < t.size() && (t[i] == '-' || t[i] == '+')) ++i;
  size_t start = i;
  while (i < t.size() && IsDigit(t[i])) ++i;
  if (i == start) return false;
  bool special = false;
  if (i < t.size() && t[i] == '.') {
    special = true;
    size_t f = ++i;
    while (i < t.size() && IsDigit(t[i])) ++i;
    if (i == f) return false;
  }
  if (i < t.size() && (t[i] == 'e' || t[i] == 'E')) {
    special = true;
    ++i;
    if (i < t.size() && (t[i] == '-' || t[i] == '+')) ++i;
    size_t e = i;
    while (i < t.size() && IsDigit(t[i])) ++i;
    if (i == e) return false;
  }
  return special && i == t.size();
}

constexpr int kMaxDepth = 512;
constexpr size_t kMaxNodes = 10'000'000;

struct Converter {
  size_t nodes = 0;
  bool cut = false;

  Value Convert(const yaml::Node& node, int depth) {
    if (++nodes > kMaxNodes || depth > kMaxDepth) {
      cut = true;
      return Value();
    }
    switch (node.Type()) {
      case yaml::NodeType::Scalar:
        return ScalarFromYaml(node);
      case yaml::NodeType::Sequence: {
        List list;
        list.reserve(node.size());
        for (const auto& item : node) {
          list.push_back(Convert(item, depth + 1));
          if (cut) break;
        }
        return Value(std::move(list));
      }
      case yaml::NodeType::Map: {
        Map map;
        for (const auto& kv : node) {
          std::string key;
          if (kv.first.IsScalar()) {
            key = std::string(kv.first.Scalar());
          } else if (!kv.first.IsNull()) {
            key = Convert(kv.first, depth + 1).ToJson();
          }
          map.Set(std::move(key), Convert(kv.second, depth + 1));
          if (cut) break;
        }
        return Value(std::move(map));
      }
      default:
        return Value();
    }
  }
};

// ---- writing ----

bool IsPlainSafe(const std::string& s) {
  if (s.empty()) return false;
  unsigned char first = static_cast<unsigned char>(s[0]);
  if (std::string_view("-?:,[]{}#&*!|>'\"%@` \t").find(static_cast<char>(first)) !=
      std::string_view::npos)
    return false;
  if (s.back() == ' ' || s.back() == '\t' || s.back() == ':') return false;
  for (size_t i = 0; i < s.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x20 || c == 0x7f) return false;  // tabs, newlines, control characters
    if (c == ':' && i + 1 < s.size() && s[i + 1] == ' ') return false;
    if (c == '#' && i > 0 && s[i - 1] == ' ') return false;
  }
  // "---" / "..." at the start of a line are document markers.
  if (s.rfind("---", 0) == 0 || s.rfind("...", 0) == 0) return false;
  Value typed = TypePlainScalar(s);
  if (!typed.is_string() || typed.as_string() != s) return false;
  // Quote what other YAML readers (YAML 1.1: octal, hex, sexagesimal,
  // yes/no) would not read as this string, so "6.10" and "0644" survive
  // a trip through any tool.
  std::string_view t(s);
  size_t digit_at = (t[0] == '+' || t[0] == '-' || t[0] == '.') ? 1 : 0;
  if (digit_at < t.size() && (IsDigit(t[digit_at]) || t[digit_at] == '.') &&
      t.find_first_not_of("0123456789abcdefABCDEFxXoO._:+-") == std::string_view::npos)
    return false;
  static const char* const kWords[] = {"y",  "n", "yes",  "no",    "on",    "off",
                                       "<<", "=", ".inf", "-.inf", "+.inf", ".nan"};
  std::string lower(s);
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (const char* w : kWords)
    if (lower == w) return false;
  return true;
}

void DoubleQuoted(const std::string& s, std::string& out) {
  static const char kHex[] = "0123456789abcdef";
  out += '"';
  for (unsigned char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\0':
        out += "\\0";
        break;
      default:
        if (c < 0x20 || c == 0x7f) {
          out += "\\x";
          out += kHex[c >> 4];
          out += kHex[c & 15];
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  out += '"';
}

// A literal block keeps multi-line text readable (file contents).
bool LiteralOk(const std::string& s) {
  if (s.find('\n') == std::string::npos) return false;
  if (s[0] == ' ' || s[0] == '\n' || s[0] == '\t') return false;
  for (size_t i = 0; i < s.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if ((c < 0x20 && c != '\n' && c != '\t') || c == 0x7f) return false;
    // Trailing blanks on a line before a newline survive a literal block,
    // but a blank-only line would be read as indentation: avoid it.
    if (c == '\n' && i + 1 < s.size() && (s[i + 1] == ' ' || s[i + 1] == '\t')) {
      size_t j = i + 1;
      while (j < s.size() && (s[j] == ' ' || s[j] == '\t')) ++j;
      if (j == s.size() || s[j] == '\n') return false;
    }
  }
  return true;
}

// Lines of a scalar: one line, or a literal block header plus content lines
// indented by two (relative to the owner).
void ScalarLines(const Value& v, std::vector<std::string>& lines) {
  std::string out;
  switch (v.kind()) {
    case ValueKind::kNull:
      out = "null";
      break;
    case ValueKind::kBool:
      out = v.as_bool() ? "true" : "false";
      break;
    case ValueKind::kInt:
      out = std::to_string(v.as_int());
      break;
    case ValueKind::kDouble: {
      double d = v.as_double();
      if (std::isnan(d)) {
        out = ".nan";
      } else if (std::isinf(d)) {
        out = d > 0 ? ".inf" : "-.inf";
      } else {
        out = v.ToString();
      }
      break;
    }
    case ValueKind::kString: {
      const std::string& s = v.as_string();
      if (IsPlainSafe(s)) {
        out = s;
      } else if (LiteralOk(s)) {
        // Chomping: one final newline "|", none "|-", more "|+".
        size_t trailing = 0;
        while (trailing < s.size() && s[s.size() - 1 - trailing] == '\n') ++trailing;
        lines.push_back(trailing == 1 ? "|" : trailing == 0 ? "|-" : "|+");
        // LiteralOk: the body is not empty and does not end in '\n'.
        std::string_view body(s.data(), s.size() - trailing);
        for (std::string_view line : SplitLines(body))
          lines.push_back(line.empty() ? std::string() : "  " + std::string(line));
        for (size_t i = 1; i < trailing; ++i) lines.emplace_back();
        return;
      } else {
        DoubleQuoted(s, out);
      }
      break;
    }
    default:
      break;
  }
  lines.push_back(std::move(out));
}

std::string KeyText(const std::string& k) {
  if (IsPlainSafe(k)) return k;
  std::string out;
  DoubleQuoted(k, out);
  return out;
}

void Render(const Value& v, std::vector<std::string>& lines);

// Appends `child` lines: the first after `head`, the rest indented by `indent`.
void Attach(const std::string& head, std::vector<std::string>& child, const std::string& indent,
            std::vector<std::string>& lines) {
  for (size_t i = 0; i < child.size(); ++i) {
    if (i == 0) {
      lines.push_back(head + child[0]);
    } else {
      lines.push_back(child[i].empty() ? std::string() : indent + child[i]);
    }
  }
}

void Render(const Value& v, std::vector<std::string>& lines) {
  if (v.is_list()) {
    if (v.as_list().empty()) {
      lines.push_back("[]");
      return;
    }
    for (const auto& item : v.as_list()) {
      std::vector<std::string> child;
      Render(item, child);
      Attach("- ", child, "  ", lines);
    }
    return;
  }
  if (v.is_map()) {
    if (v.as_map().empty()) {
      lines.push_back("{}");
      return;
    }
    for (const auto& [k, item] : v.as_map()) {
      std::vector<std::string> child;
      Render(item, child);
      std::string key = KeyText(k) + ":";
      bool nested =
          (item.is_list() && !item.as_list().empty()) || (item.is_map() && !item.as_map().empty());
      if (nested) {
        lines.push_back(key);
        for (auto& c : child) lines.push_back(c.empty() ? std::string() : "  " + c);
      } else {
        Attach(key + " ", child, "", lines);
      }
    }
    return;
  }
  ScalarLines(v, lines);
}

}  // namespace

Value TypePlainScalar(std::string_view t) {
  if (t == "true" || t == "True" || t == "TRUE") return Value(true);
  if (t == "false" || t == "False" || t == "FALSE") return Value(false);
  if (t.empty() || t == "~" || t == "null" || t == "Null" || t == "NULL") return Value();
  if (IsIntText(t)) {
    std::string s(t);
    errno = 0;
    char* end = nullptr;
    long long n = std::strtoll(s.c_str(), &end, 10);
    if (errno == 0 && end == s.c_str() + s.size()) return Value(static_cast<int64_t>(n));
    return Value(std::string(t));
  }
  if (IsDecimalText(t)) {
    std::string s(t);
    double d = std::strtod(s.c_str(), nullptr);
    if (std::isfinite(d) && Value(d).ToString() == s) return Value(d);
    return Value(std::move(s));
  }
  if (t == ".inf" || t == ".Inf" || t == ".INF" || t == "+.inf" || t == "+.Inf" || t == "+.INF")
    return Value(std::numeric_limits<double>::infinity());
  if (t == "-.inf" || t == "-.Inf" || t == "-.INF")
    return Value(-std::numeric_limits<double>::infinity());
  if (t == ".nan" || t == ".NaN" || t == ".NAN")
    return Value(std::numeric_limits<double>::quiet_NaN());
  return Value(std::string(t));
}

Value ScalarFromYaml(const yaml::Node& scalar) {
  if (!scalar.IsScalar()) return Value();
  std::string_view tag = scalar.Tag();
  if (tag == "!" || tag == "tag:yaml.org,2002:str") return Value(scalar.Scalar());
  return TypePlainScalar(scalar.Scalar());
}

Value FromYaml(const yaml::Node& node) {
  Converter c;
  return c.Convert(node, 0);
}

Result<Value> ParseYaml(std::string_view text, const std::string& filename) {
  yaml::ParseError err;
  std::unique_ptr<yaml::Document> doc = yaml::Document::Parse(text, &err);
  if (!doc) {
    std::string msg = err.message;
    if (err.kind == yaml::ParseError::kDepth) {
      msg = "YAML nested too deeply (more than " + std::to_string(yaml::kMaxParseDepth) +
            " levels of lists and maps)";
    } else if (err.kind == yaml::ParseError::kUnterminatedQuote) {
      msg = std::string("unterminated ") + (err.quote == '\'' ? "single" : "double") +
            "-quoted string";
    }
    if (err.mark.is_null()) return MakeError(ErrorCode::kInvalid, filename + ": " + msg);
    return MakeError(ErrorCode::kInvalid, filename + ":" + std::to_string(err.mark.line + 1) + ":" +
                                              std::to_string(err.mark.column + 1) + ": " + msg);
  }
  Converter c;
  Value v = c.Convert(doc->root(), 0);
  if (c.cut) {
    return MakeError(ErrorCode::kInvalid,
                     filename + ": document nested too deeply or too large (alias expansion)");
  }
  return v;
}

std::string ToYaml(const Value& v) {
  std::vector<std::string> lines;
  Render(v, lines);
  std::string out;
  for (const auto& l : lines) {
    out += l;
    out += '\n';
  }
  return out;
}

}  // namespace keel
