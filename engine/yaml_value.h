// The YAML <-> keel::Value adapter: the one place YAML text is typed,
// parsed (engine/yaml_tree.h, libyaml) and written.
//
// Typing of YAML scalars (ScalarFromYaml), applied in this order:
//   1. A quoted or block scalar ('x', "x", |, >: node.Tag() == "!") or one tagged !!str is
//      always a string.
//   2. Plain `true` `True` `TRUE` `false` `False` `FALSE` -> bool.
//      (`yes`/`no`/`on`/`off` stay strings: YAML 1.2 core schema.)
//   3. Plain `~` `null` `Null` `NULL` and the empty scalar -> null.
//   4. Plain integers: optional sign, then `0` or a digit 1-9 followed by
//      digits, fitting int64 -> int. Leading zeros ("0644"), hex ("0xca2"),
//      octal ("0o17"), underscores and out-of-range values stay strings.
//   5. Plain decimals: optional sign, digits, optionally one `.` and digits,
//      optionally an exponent (`e`/`E`, optional sign, digits), with at least
//      a `.` or an exponent -> double, but ONLY when the text round-trips:
//      the double's canonical text (Value::ToString, e.g. "1.5", "2.0",
//      "1e+20") equals the scalar's text. So `1.5` and `2.0` are doubles,
//      while `6.10`, `1.50`, `.5`, `1.` and `1e3` stay strings and lose
//      nothing. `.inf` `-.inf` `.nan` (and capitalised forms) -> double.
//   6. Anything else, including versions with 2+ dots ("2.6.18"), -> string.
//
// ToYaml writes block-style YAML that ParseYaml reads back to an equal
// Value: a string is quoted whenever its plain form would type differently
// (or is not a valid plain scalar) and also when YAML 1.1 readers would type
// it (numbers of any form such as "6.10" "0644" "0xca2", yes/no/on/off);
// multi-line strings use literal blocks.
#pragma once

#include <string>
#include <string_view>

#include "engine/result.h"
#include "engine/value.h"
#include "engine/yaml_tree.h"

namespace keel {

/// Types one scalar node by the rule above. A Null node gives null; a
/// non-scalar node gives null (use FromYaml for collections).
Value ScalarFromYaml(const yaml::Node& scalar);

/// Types the text of a PLAIN (unquoted) scalar by rules 2-6 above.
Value TypePlainScalar(std::string_view text);

/// Converts a whole node tree: maps keep key order (a repeated key keeps the
/// first position and the last value), sequences become lists. A non-scalar
/// map key becomes its JSON text. Aliases are expanded; a tree nested deeper
/// than 512 levels or expanding to more than 10 million nodes (alias bombs)
/// is cut off with nulls (ParseYaml reports it as an error instead).
Value FromYaml(const yaml::Node& node);

/// Parses the first YAML document of `text` (empty text -> null). Error
/// (kInvalid) "FILE:LINE:COL: message" with a 1-based line and column,
/// or "FILE: message" when there is no position.
Result<Value> ParseYaml(std::string_view text, const std::string& filename);

/// Block-style YAML of `v`, ending in a newline. ParseYaml(ToYaml(v)) == v
/// (a double that is integral is written "2.0" and stays a double).
std::string ToYaml(const Value& v);

}  // namespace keel
