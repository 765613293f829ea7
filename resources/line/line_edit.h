// The pure edit of the `line` type (Puppet file_line semantics): ensure one
// line is in (or out of) a text, keeping every other byte.
#pragma once

#include <re2/re2.h>

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "engine/result.h"

namespace keel::line {

struct LineSpec {
  std::string line;                  // the whole line, without '\n'
  std::shared_ptr<const RE2> match;  // replace the first matching line / remove all matches
  std::shared_ptr<const RE2> after;  // insert after the first matching line (default: at the end)
  bool present = true;
};

/// Compiles an RE2 regex (https://github.com/google/re2/wiki/Syntax; no
/// backreferences or lookaround); kInvalid with the library's reason.
/// Matching is linear in the line: no pattern can hang a run, and lines of
/// any length are matched.
Result<std::shared_ptr<const RE2>> CompileRegex(const std::string& pattern);

/// The text after ensuring `spec` on `before` (nullopt = no file).
/// present: unchanged when a line equal to `line` exists anywhere; else the
///   first line matching `match` is replaced; else `line` is inserted after
///   the first line matching `after`, or appended; a missing file is
///   created holding just the line.
/// absent: with `match`, every matching line is removed; without, every
///   line equal to `line`; a missing file stays missing.
/// Lines are compared without a trailing '\r' (CRLF files), and an inserted
/// line gets '\r' when the line above it (or below, at the top) has one.
Result<std::optional<std::string>> EnsureLine(const std::optional<std::string>& before,
                                              const LineSpec& spec);
/// The same on an existing file's text in one pass, without copying its
/// lines: the new text, or nullopt when nothing changes.
std::optional<std::string> EnsureLineText(std::string_view text, const LineSpec& spec);

}  // namespace keel::line
