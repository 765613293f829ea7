// The expression language of SPEC 2.4 and {{ }} interpolation of SPEC 2.3.
// A real recursive-descent parser; errors carry the offset of the problem.
#pragma once

#include <cstddef>
#include <string_view>

#include "engine/result.h"
#include "engine/value.h"

namespace keel {

/// Evaluates `text` (e.g. `facts.os.release.major == "6" and x in [1, 2]`)
/// with variables from `vars` (a map; "facts" is one of its keys).
/// On failure the Error message names the problem without a place, and
/// *error_offset (when given) is the 0-based offset in `text` where it is.
/// An undefined variable is an error ("undefined variable 'x'").
Result<Value> EvaluateExpression(std::string_view text, const Value& vars,
                                 size_t* error_offset = nullptr);

/// Replaces each `{{ EXPR }}` in `text`. A text that is exactly one
/// `{{ EXPR }}` (surrounding blanks allowed inside the braces only) keeps the
/// value's type; otherwise the result is a string. `{{ "{{" }}` writes `{{`.
/// Text without `{{` is returned unchanged (fast path).
Result<Value> Interpolate(std::string_view text, const Value& vars,
                          size_t* error_offset = nullptr);

/// Truth of a value for `when`: false, null, 0, "", [] and {} are false.
bool IsTruthy(const Value& v);

/// Compares as SPEC 2.4 says: numbers numerically (a numeric string and a
/// number too), two dotted versions ("6.10" vs "6.4") as versions, other
/// strings lexically. Returns <0, 0, >0; error when not comparable.
Result<int> CompareValues(const Value& a, const Value& b);

/// Equality of `==`: like Value::operator== but a number equals a numeric
/// string with the same value ("6" == 6).
bool LooseEquals(const Value& a, const Value& b);

}  // namespace keel
