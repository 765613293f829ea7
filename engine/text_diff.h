// Unified diffs of text (dtl adapter: the only dtl user).
#pragma once

#include <string>
#include <string_view>

namespace keel {

/// A unified diff ("--- a\n+++ b\n@@ ... @@\n...") of `before` -> `after`
/// with 3 lines of context; "" when equal. A missing final newline is
/// marked as diff(1) does ("\ No newline at end of file"). Binary content
/// (a NUL byte) gives one line "Binary files differ".
std::string UnifiedDiff(std::string_view before, std::string_view after,
                        const std::string& from_label, const std::string& to_label);

}  // namespace keel
