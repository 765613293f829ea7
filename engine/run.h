// The whole run as one call (SPEC 1, 5, 6): git pull, facts, manifests,
// graph, lock, transaction, report, last_run.json, exit code. The CLI and
// end-to-end tests both call RunPipeline; printing the report is the
// caller's, diagnostics go through engine/log.h.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/catalog.h"
#include "engine/fd.h"
#include "engine/graph.h"
#include "engine/host.h"
#include "engine/registry.h"
#include "engine/report.h"
#include "engine/value.h"

namespace keel {

class StateDir;

/// What to run: the options of apply, plan, validate and graph (SPEC 1).
struct RunRequest {
  std::string path = "./site.yaml";  // a manifest, or a directory holding site.yaml
  std::string root = "/";
  bool dry = false;               // plan, apply --noop: writes nothing anywhere
  std::vector<std::string> vars;  // "K=V", in order
  std::string facts_file;         // YAML/JSON map merged over the facts
  std::vector<std::string> tags;
  int jobs = 1;
  std::string state_dir;  // "" = <root>/var/lib/keel
  double lock_timeout = 0;
  std::string git_url, branch, ref, ssh_key;
  std::string max_age;     // --max-age: fail when the last successful fetch is older
  bool no_rewind = false;  // --no-rewind: refuse a commit not descending from the last good
  // --known-hosts, --ca-file, --verify-signature (PullOptions)
  std::string known_hosts, ca_file, verify_signature;
  bool detailed = false;   // --detailed-exitcodes
  double stop_grace = 30;  // --stop-grace (the CLI installs the signal handlers)
  /// Progress callback (RunOptions::on_start); may be empty.
  std::function<void(const Resource& r, size_t started, size_t total)> on_start;
};

/// The result of RunPipeline.
struct RunOutcome {
  /// False when the run stopped before converging (bad options, manifests
  /// that do not validate, lock held, ...): the errors were logged, nothing
  /// changed and exit_code is 1. A --git run that fails once the URL is
  /// known (fetch, --max-age, --no-rewind, a commit that does not validate)
  /// still has a report (no resources, its `errors`) in `json`, written to
  /// last_run.json when not a dry run; otherwise `json` is empty.
  bool converged = false;
  Report report;
  std::string json;   // RenderJson(report)
  int exit_code = 1;  // ExitCode(report, detailed), or 1
};

/// Runs apply (or plan, with request.dry): pulls --git, loads, takes the
/// lock, converges, writes last_run.json and the owed refreshes (not in a
/// dry run: a dry run writes nothing in the state dir, no lock, no
/// backups). Errors are logged through engine/log.h and reflected in the
/// outcome; never throws.
RunOutcome RunPipeline(const RunRequest& request);

/// The state dir of a run: `state_dir` when given, else <root>/var/lib/keel
/// ("/var/lib/keel" for the root "/"). The one place a StateDir is made.
Result<std::unique_ptr<StateDir>> MakeStateDir(const std::string& root,
                                               const std::string& state_dir);
/// The path MakeStateDir uses.
std::string StateDirPath(const std::string& root, const std::string& state_dir);

/// Everything a run needs before converging.
struct LoadedRun {
  LoadedRun();
  ~LoadedRun();  // removes a dry run's temporary checkout
  LoadedRun(const LoadedRun&) = delete;
  LoadedRun& operator=(const LoadedRun&) = delete;

  Registry registry;
  std::unique_ptr<StateDir> state;
  std::unique_ptr<Host> host;
  Value facts;
  Catalog catalog;
  std::optional<Graph> graph;
  std::string entry;
  std::string git_url, commit;
  std::vector<std::string> pull_warnings;
  std::string pull_dest;
  std::string repo_path;          // --git: the entry manifest's path inside the repo
  std::string repo_dir;           // --git: the checkout, which every manifest must stay in
  std::string temp_dest;          // dry run --git: a temporary checkout
  std::shared_ptr<Fd> tree_lock;  // --git: keeps the checkout from removal while read
};

/// Why a --git run stopped before converging (LoadRun), for its report.
struct GitFailure {
  bool failed = false;
  std::string git_url, commit, repo_path;
  std::vector<std::string> warnings, errors;
  std::unique_ptr<StateDir> state;  // a real apply: the state dir, locked
};

/// Loads facts, manifests and the graph (pulling --git first). With
/// `with_state` (a real apply) the state dir is the backup sink of the host
/// and the lock is taken before a pull. nullptr when anything fails; the
/// errors were logged.
/// A --git run that fails after the URL is known fills `git_failure`.
std::unique_ptr<LoadedRun> LoadRun(const RunRequest& request, bool with_state,
                                   GitFailure* git_failure = nullptr);

/// PATH of the CLI: a manifest, or a directory holding site.yaml.
std::string EntryPath(const std::string& path);

}  // namespace keel
