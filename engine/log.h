// Diagnostics on stderr (errors, warnings, verbose lines): the only spdlog
// user. Reports go to stdout and are not diagnostics.
//
// Levels (SPEC 1): -q errors only; default warnings and errors; -v adds
// info lines; -vv adds debug lines. Before SetupLogging, the level is the
// default one (warnings and errors).
#pragma once

#include <string_view>

namespace keel::log {

/// Sets the level from the CLI's -v count and -q. Safe to call again.
void SetupLogging(int verbose, bool quiet);

/// "keel: <message>" at the given level.
void Error(std::string_view message);
void Warn(std::string_view message);
void Info(std::string_view message);
void Debug(std::string_view message);

/// `line` as it is, at error level: messages that carry their own place
/// ("site.yaml:3:5: unknown attribute ...").
void ErrorLine(std::string_view line);
/// "warning: <message>" at warning level (validate's and pull's warnings).
void WarningLine(std::string_view message);

/// A terminal progress line ("\r\033[K[3/40] file[/etc/x]"), without a
/// newline; Progress("") clears it. Not shown at the errors-only level.
void Progress(std::string_view text);

}  // namespace keel::log
