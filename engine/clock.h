// Wall-clock time as RFC 3339 UTC text: the one formatter of report times
// (started_at) and backup index times.
#pragma once

#include <string>

namespace keel {

/// Now, "2026-11-29T10:00:00Z" (seconds) or, with `micro`,
/// "2026-11-29T10:00:00.123456Z" (backup index: orders backups within a second).
std::string NowRfc3339(bool micro = false);

}  // namespace keel
