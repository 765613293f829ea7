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
  char symbol = ' ';                 // '+' created, '-' removed, '~' changed, '!' failed, '?' skipped
  std::vector<Change> changes;       // already redacted when sensitive
  std::string diff;                  // unified diff ("" when none or sensitive)
  bool refreshed = false;            // a refresh ran (or would run, in noop)
  std::optional<std::string> error;  // failure or skip reason
  std::optional<std::string> message;
  std::string output;                // command output (exec)
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

  int Count(Status s) const;
};

struct TextOptions {
  bool color = false;
  int verbosity = 0;  // -1 quiet, 0 normal, 1 verbose
  bool show_diffs = false;  // plan/--noop, or -v in apply
};

std::string RenderJson(const Report& report);
void RenderText(const Report& report, const TextOptions& options, std::ostream& out);
/// SPEC 5 exit codes. `detailed`: 0 nothing changed, 2 changes, 4 failures,
/// 6 both; otherwise 0 or 1.
int ExitCode(const Report& report, bool detailed);

}  // namespace keel
