// The expression language of SPEC 2.4 and {{ }} interpolation of SPEC 2.3.
// A real recursive-descent parser; errors carry the offset of the problem.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <unordered_map>

#include "engine/result.h"
#include "engine/value.h"

namespace keel {

/// The longest regular expression accepted (`=~`, line's match and after).
/// RE2 matches in time linear in the text, but a pattern too long for its
/// DFA falls back to a matcher whose time is the text's length times the
/// pattern's (a 20 KB literal took 3.4 s on one 200 KB line).
constexpr size_t kMaxRegexBytes = 4096;

/// Language notes (SPEC 2.4, and where it is silent):
/// - Literals: "..." / '...' (escapes \" \' \\ \n \t \r; others such as
///   "\d" are kept as written, for regexes), integers, decimals, true/false
///   (also True/False), null (also None), [a, b]. A bare number with 2+ dots
///   (2.6.18), or one whose text would not survive as a double (6.10), is a
///   string, the same rule as YAML scalars (yaml_value.h).
/// - Paths: `facts.os.family`, `list[0]` (negative counts from the end),
///   `m["key"]`, chained. Names may contain '-' after the first character.
///   An unknown map key is an error naming the key and the path walked.
/// - `and`/`or` short-circuit and return an operand, as in Python
///   (`x or "default"`); the skipped side is parsed, not evaluated.
///   Comparisons chain (`1 < x < 3`). `not` gives a bool.
/// - `=~` is an RE2 regex search (https://github.com/google/re2/wiki/Syntax:
///   Perl-like classes, groups, alternation, repetition, anchors; no
///   backreferences or lookaround), linear in the text: no pattern can
///   hang a load. Compiled regexes are cached.
///
/// Evaluates `text` (e.g. `facts.os.release.major == "6" and x in [1, 2]`)
/// with variables from `vars` (a map; "facts" is one of its keys).
/// On failure the Error message names the problem without a place, and
/// *error_offset (when given) is the 0-based offset in `text` where it is.
/// An undefined variable is an error ("undefined variable 'x'").
Result<Value> EvaluateExpression(std::string_view text, const Value& vars,
                                 size_t* error_offset = nullptr);

/// Values of expressions already evaluated against one `vars` (the language
/// has no side effects: an expression's value depends on its text and the
/// variables only). Loading 100,000 resources evaluates the same few
/// expressions ("{{ base }}", "{{ owner }}") over and over.
class ExprCache {
 public:
  const Value* Find(std::string_view expr) const {
    auto it = memo_.find(expr);
    return it == memo_.end() ? nullptr : &it->second;
  }
  void Put(std::string_view expr, const Value& v) {
    if (memo_.size() < kMax) memo_.emplace(std::string(expr), v);
  }

 private:
  static constexpr size_t kMax = 10000;
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  std::unordered_map<std::string, Value, Hash, std::equal_to<>> memo_;
};

/// Replaces each `{{ EXPR }}` in `text`. A text that is exactly one
/// `{{ EXPR }}` (surrounding blanks allowed inside the braces only) keeps the
/// value's type; otherwise the result is a string. `{{ "{{" }}` writes `{{`.
/// Text without `{{` is returned unchanged (fast path).
/// With `cache` (which must belong to this `vars`), each expression's value
/// is looked up there first and kept there after a successful evaluation.
Result<Value> Interpolate(std::string_view text, const Value& vars, size_t* error_offset = nullptr,
                          ExprCache* cache = nullptr);

/// The name in an "undefined variable 'x'" error message; "" for any other.
std::string UndefinedVariableIn(std::string_view message);

/// Truth of a value for `when`: false, null, 0, "", [] and {} are false.
bool IsTruthy(const Value& v);

/// Compares as SPEC 2.4 says: numbers numerically, two strings that are
/// both versions (digits and single dots: "6", "6.10", "2.6.18") as
/// versions, other strings lexically. A number against a string: when the
/// string is a dotted version, as versions against the number's text (so
/// 6.4 < "6.10", like the release it stands for); else when the string is
/// numeric ("6", "-1.5"), numerically. Returns <0, 0, >0; error (kInvalid,
/// "cannot compare ...") otherwise (lists, maps, bools, null, "abc" vs 1).
Result<int> CompareValues(const Value& a, const Value& b);

/// Equality of `==`: like Value::operator== but a number and a string are
/// equal when CompareValues says 0 ("6" == 6, "6.0" == 6); a string that
/// is not a number never equals a number.
bool LooseEquals(const Value& a, const Value& b);

}  // namespace keel
