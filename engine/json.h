// JSON text of Values: the one adapter over nlohmann::json, the only engine
// file that includes it (reports, facts and Value::ToJson all print through
// here). Strings are escaped by nlohmann; bytes that are not valid UTF-8
// become U+FFFD instead of failing, so the output is always valid JSON.
#pragma once

#include <string>
#include <string_view>

#include "engine/value.h"

namespace keel {

/// Multi-line JSON, indented by 2, keys in map order, `"key": value`;
/// empty lists and maps as [] and {}. No final newline.
std::string JsonPretty(const Value& v);

/// JsonPretty appended to `out` as if nested `depth` levels deep (its
/// inner lines indented by 2 * (depth + 1)): for writers that stream a
/// large document member by member instead of building it whole.
void JsonPrettyInto(const Value& v, std::string& out, int depth);
/// A JSON string literal of `s` appended to `out` (as JsonPretty writes it).
void JsonStringInto(std::string_view s, std::string& out);

/// One-line JSON with ", " and ": " separators: [1, true, "x"], {"a": 1}
/// (messages and the interpolation of lists and maps).
std::string JsonLine(const Value& v);

}  // namespace keel
