// The pure edit of the `line` type (Puppet file_line semantics): ensure one
// line is in (or out of) a text, keeping every other byte.
#pragma once

#include <optional>
#include <regex>
#include <string>

#include "engine/result.h"

namespace keel::line {

struct LineSpec {
  std::string line;                 // the whole line, without '\n'
  std::optional<std::regex> match;  // replace the first matching line / remove all matches
  std::optional<std::regex> after;  // insert after the first matching line (default: at the end)
  bool present = true;
};

/// Compiles an ECMAScript regex; kInvalid with the library's reason.
Result<std::regex> CompileRegex(const std::string& pattern);

/// The text after ensuring `spec` on `before` (nullopt = no file).
/// present: unchanged when a line equal to `line` exists anywhere; else the
///   first line matching `match` is replaced; else `line` is inserted after
///   the first line matching `after`, or appended; a missing file is
///   created holding just the line.
/// absent: with `match`, every matching line is removed; without, every
///   line equal to `line`; a missing file stays missing.
/// Lines are compared without a trailing '\r' (CRLF files), and an inserted
/// line gets '\r' when the line above it (or below, at the top) has one.
/// Error (kInvalid) when the regex engine gives up on a line (complexity),
/// or when a line to match is longer than 4096 bytes (std::regex recurses
/// per character and would overflow the stack).
Result<std::optional<std::string>> EnsureLine(const std::optional<std::string>& before,
                                              const LineSpec& spec);

}  // namespace keel::line
