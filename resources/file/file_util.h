// Pure helpers of the file type: modes, places in a template, content sums.
// (The passwd/group databases: engine/passwd.h.) Text in, values out; no Host.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace keel::file {

/// "0644" / "644" / "4755" -> permission bits; nullopt when not 3-4 octal digits.
std::optional<uint32_t> ParseMode(std::string_view text);
/// Permission bits as four octal digits ("0644", "4755").
std::string FormatMode(uint32_t mode);

/// 1-based line and column of byte `offset` in `text` (clamped to its end).
std::pair<int, int> LineCol(std::string_view text, size_t offset);

/// "{sha256}<hex>" of `data`: how file content is shown in changes and reports.
std::string ContentSum(std::string_view data);

}  // namespace keel::file
