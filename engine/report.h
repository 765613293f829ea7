// The run report (SPEC 5): plain data, text and JSON renderers, exit codes.
#pragma once

#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "engine/provider.h"

namespace keel {

enum class Status { kUnchanged, kChanged, kFailed, kSkipped };
/// "unchanged", "changed", "failed", "skipped".
const char* StatusName(Status s);

struct ResourceReport {
  std::string id, type, title;
  Status status = Status::kUnchanged;
  char symbol = ' ';            // '+' created, '-' removed, '~' changed, '!' failed, '?' skipped
  std::vector<Change> changes;  // already redacted when sensitive
  std::string diff;             // unified diff ("" when none or sensitive)
  bool refreshed = false;       // a refresh ran (or would run, in noop)
  std::optional<std::string> error;  // failure or skip reason
  std::optional<std::string> message;
  std::string output;  // command output (exec)
  double duration_s = 0;
};

struct Report {
  int report_version = 1;
  std::string keel_version;
  bool noop = false;
  std::string root = "/";
  std::string source_path;
  std::optional<std::string> git_url, commit;
  std::string started_at;  // RFC 3339 UTC
  double duration_s = 0;
  bool reboot_required = false;
  std::vector<ResourceReport> resources;  // every catalog resource, in converge order
  std::vector<std::string> warnings;
  /// Failures of the run itself, not of one resource (the owed refreshes or
  /// last_run.json could not be written): they count as failures.
  std::vector<std::string> errors;
  /// Stopped by SIGTERM/SIGINT (engine/interrupt.h): no resource started
  /// after the signal; `never_ran` lists those that did not start (also in
  /// `resources`, skipped).
  bool interrupted = false;
  int interrupt_signal = 0;  // 0: a stop request without a signal (tests)
  std::vector<std::string> never_ran;

  int Count(Status s) const;
};

struct TextOptions {
  bool color = false;
  int verbosity = 0;        // -1 quiet, 0 normal, 1 verbose
  bool show_diffs = false;  // plan/--noop, or -v in apply
};

/// The JSON report of SPEC 5, pretty-printed with a final newline. Fields
/// in SPEC order; each resource also has "output" (command output, null when
/// none). "diff", "error", "message" are null when empty/absent; change
/// values keep their JSON kind, null when absent. Bytes that are not UTF-8
/// are replaced (U+FFFD), never an exception.
std::string RenderJson(const Report& report);
/// Text output (SPEC 5). One line per resource that changed, failed or was
/// skipped: "<sym> <id>" with sym ~ + - ! ?; in a noop report a changed
/// line says " (would change)", " (would create)" or " (would remove)".
/// An unchanged resource that was refreshed gets "* <id> (refreshed)"
/// ("(would refresh)" in noop) unless the report carries a message, which
/// is always appended as ": <message>". Under a line: the error of a failed
/// or skipped resource, indented; with show_diffs or -v, the attribute
/// changes ("mode: \"0644\" -> \"0600\"") and the unified diff, indented;
/// the last 10 lines of a failed command's output ("    | ...", all output
/// with -v). -v also lists unchanged resources ("  <id>") and appends
/// timings " (0.004 s)" to every line. Then "warning: ..." lines, then the
/// summary "changed 3, failed 0, skipped 0, unchanged 41 (0.012 s)".
/// Quiet (-1): only failed resources (with their error) and the summary.
/// Colour: + green, ~ and * yellow, ! and - red; diff lines coloured.
void RenderText(const Report& report, const TextOptions& options, std::ostream& out);
/// SPEC 5 exit codes. `detailed`: 0 nothing changed, 2 changes, 4 failures,
/// 6 both; otherwise 0 or 1. A skipped resource and a run error count as a
/// failure; a refresh is a change (its resource is reported changed). An
/// interrupted run exits 128 + the signal (130 SIGINT, 143 SIGTERM) in both
/// modes: a status no complete run has.
int ExitCode(const Report& report, bool detailed);

}  // namespace keel
