// The run pipeline (engine/run.h): what `keel apply` and `keel plan` do
// between parsing options and printing the report.
#include "engine/run.h"

#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <utility>

#include "engine/clock.h"
#include "engine/config_repo.h"
#include "engine/facts.h"
#include "engine/host_real.h"
#include "engine/json.h"
#include "engine/log.h"
#include "engine/manifest_loader.h"
#include "engine/state.h"
#include "engine/transaction.h"

#ifndef KEEL_VERSION
#define KEEL_VERSION "0.0.0"
#endif

namespace keel {
namespace {

bool IsDir(const std::string& p) {
  struct stat st;
  return ::stat(p.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

Result<std::vector<std::pair<std::string, std::string>>> ParseVars(
    const std::vector<std::string>& vars) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& v : vars) {
    auto eq = v.find('=');
    if (eq == std::string::npos || eq == 0)
      return MakeError(ErrorCode::kInvalid, "--var expects KEY=VALUE, got '" + v + "'");
    out.emplace_back(v.substr(0, eq), v.substr(eq + 1));
  }
  return out;
}

PullOptions PullOptionsFor(const RunRequest& f) {
  return PullOptions{.url = f.git_url,
                     .branch = f.branch,
                     .ref = f.ref,
                     .ssh_key = f.ssh_key,
                     .no_rewind = f.no_rewind,
                     .switch_current = false,  // MarkGood, once the commit validated
                     .lock_timeout = f.lock_timeout,
                     .known_hosts = f.known_hosts,
                     .ca_file = f.ca_file,
                     .verify_keys = f.verify_signature};
}

// Records a --git failure for its report and logs it.
void GitFail(GitFailure* gf, const LoadedRun& l, const std::string& message) {
  log::Error(message);
  if (!gf) return;
  gf->failed = true;
  gf->git_url = l.git_url;
  gf->commit = l.commit;
  gf->repo_path = l.repo_path;
  gf->warnings = l.pull_warnings;
  gf->errors.push_back(message);
}

/// Pulls the config repo for --git; sets the entry manifest inside it.
bool PullForRun(const RunRequest& f, bool dry, long max_age, LoadedRun& l, GitFailure* gf) {
  PullOptions po = PullOptionsFor(f);
  l.git_url = f.git_url;
  l.repo_path = f.path == "./site.yaml" ? "site.yaml" : f.path;
  if (dry) {
    // A dry run writes nothing in the state dir: check out into a temp dir.
    char tmpl[] = "/tmp/keel-plan-XXXXXX";
    if (!::mkdtemp(tmpl)) {
      log::Error("cannot create a temporary directory for the checkout");
      return false;
    }
    l.temp_dest = tmpl;
    po.dest = l.temp_dest;
  } else {
    // Through the confined state dir: <root>/var -> /elsewhere never moves
    // the checkout outside the root.
    auto dir = l.state->RealPath();
    if (!dir.ok()) {
      log::Error(dir.error().message);
      return false;
    }
    po.dest = *dir + "/repo";
  }
  auto pulled = PullConfigRepo(po);
  if (!pulled.ok()) {
    GitFail(gf, l, pulled.error().message);
    return false;
  }
  l.commit = pulled->commit;
  l.pull_dest = po.dest;
  l.pull_warnings = pulled->messages;
  l.tree_lock = pulled->tree_lock;
  for (const auto& m : pulled->messages) log::Warn(m);
  if (pulled->fetched)
    log::Info("fetched " + f.git_url + ": " + std::to_string(pulled->received_bytes) + " bytes");
  if (!pulled->fetched && max_age >= 0 && pulled->fetch_age_s > max_age) {
    GitFail(gf, l,
            "the last successful fetch of " + f.git_url + " was " +
                std::to_string(pulled->fetch_age_s) + " s ago, more than --max-age " + f.max_age +
                "; nothing applied");
    return false;
  }
  // The entry manifest inside the checkout, confined to it (LoadOptions::repo_dir).
  std::filesystem::path entry = (std::filesystem::path(pulled->tree_dir) / l.repo_path);
  l.entry = IsDir(entry.string()) ? (entry / "site.yaml").string() : entry.string();
  l.repo_dir = pulled->tree_dir;
  return true;
}

// Space kept free in the state dir for the owed refreshes and the report:
// every id twice (the file and its temp copy), ~1 KiB of report per
// resource, 64 KiB more; at most 64 MiB.
uint64_t ReserveBytes(const Catalog& catalog) {
  uint64_t ids = 0;
  for (const auto& r : catalog.resources) ids += r.id().size() + 1;
  uint64_t want = 2 * ids + 1024 * static_cast<uint64_t>(catalog.resources.size()) + 65536;
  return std::min<uint64_t>(want, 64ull << 20);
}

// The content of last_run.json while a run is in progress: a run killed
// before its end leaves this, never an earlier run's report.
std::string RunMarker(const Report& report) {
  Map m;
  m.Set("report_version", report.report_version);
  m.Set("keel_version", report.keel_version);
  m.Set("in_progress", true);
  m.Set("pid", static_cast<int64_t>(::getpid()));
  m.Set("root", report.root);
  m.Set("started_at", report.started_at);
  m.Set("message",
        "keel started this run and has not finished it; if no keel process has this pid, the "
        "run was killed before writing its report");
  return JsonPretty(Value(std::move(m))) + "\n";
}

// Before a real run converges: temp files of killed runs swept, the owed
// refreshes readable, space reserved. False (the error logged) when the run
// must not go on. last_run.json is marked later, before the first change
// (RunOptions::before_change): a run that changes nothing never waits for
// the disk.
bool PrepareStateDir(StateDir& state, const LoadedRun& l, const Report& report) {
  int swept = state.SweepTemps();
  if (swept > 0)
    log::Info("removed " + std::to_string(swept) + " temp file(s) of a killed run from " +
              state.dir());
  if (auto owed = state.OwedRefreshes(); !owed.ok()) {
    log::Error(owed.error().message + "; nothing changed");
    return false;
  }
  if (auto r = state.Reserve(ReserveBytes(l.catalog)); !r.ok()) {
    log::Error(r.error().message + "; nothing changed");
    return false;
  }
  state.SetBackupOrigin("run " + report.started_at + " " + std::to_string(::getpid()));
  return true;
}

std::string ReportRoot(const std::string& root) {
  std::error_code ec;
  auto abs = std::filesystem::absolute(root, ec);
  std::string r = ec ? root : abs.lexically_normal().string();
  if (r.size() > 1 && r.back() == '/') r.pop_back();
  return r;
}

// The report of a --git run that stopped before converging (SPEC 7: an
// invalid commit still writes its JSON report; so do --max-age, --no-rewind
// and a failed fetch): no resources, the errors, exit 1.
void GitFailureReport(const RunRequest& f, GitFailure& gf, const std::string& started_at,
                      RunOutcome& out) {
  Report& report = out.report;
  report.keel_version = KEEL_VERSION;
  report.noop = f.dry;
  report.root = ReportRoot(f.root);
  report.source_path = gf.repo_path;
  report.git_url = gf.git_url;
  if (!gf.commit.empty()) report.commit = gf.commit;
  report.started_at = started_at;
  report.warnings = gf.warnings;
  report.errors = gf.errors;
  out.json = RenderJson(report);
  out.exit_code = 1;
  if (gf.state) {
    auto w = gf.state->WriteLastRun(out.json + "\n");
    if (!w.ok()) log::Error("cannot write last_run.json: " + w.error().message);
    gf.state->Unlock();
  }
}

}  // namespace

// A relative --state-dir is made absolute at once: a run must not depend on
// where libgit2 or a command happens to be when it is used.
static std::string AbsoluteStateDir(const std::string& state_dir) {
  if (state_dir.empty() || state_dir[0] == '/') return state_dir;
  std::error_code ec;
  auto abs = std::filesystem::absolute(state_dir, ec);
  return ec ? state_dir : abs.lexically_normal().string();
}

std::string StateDirPath(const std::string& root, const std::string& state_dir) {
  if (!state_dir.empty()) return AbsoluteStateDir(state_dir);
  std::string r = root;
  while (r.size() > 1 && r.back() == '/') r.pop_back();
  return r == "/" ? "/var/lib/keel" : r + "/var/lib/keel";
}

Result<std::unique_ptr<StateDir>> MakeStateDir(const std::string& root,
                                               const std::string& state_dir) {
  // <root>/var/lib/keel: confined to the root
  return StateDir::Open(root, AbsoluteStateDir(state_dir));
}

std::string EntryPath(const std::string& path) {
  if (IsDir(path)) return (std::filesystem::path(path) / "site.yaml").string();
  return path;
}

LoadedRun::LoadedRun() = default;

LoadedRun::~LoadedRun() {
  if (!temp_dest.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(temp_dest, ec);
  }
}

std::unique_ptr<LoadedRun> LoadRun(const RunRequest& f, bool with_state, GitFailure* gf) {
  const bool dry = f.dry || !with_state;
  auto l = std::make_unique<LoadedRun>();
  RegisterBuiltinTypes(l->registry);
  if (!IsDir(f.root)) {
    log::Error("--root " + f.root + ": not a directory");
    return nullptr;
  }
  auto vars = ParseVars(f.vars);
  if (!vars.ok()) {
    log::Error(vars.error().message);
    return nullptr;
  }
  // The state dir is read in a dry run too (owed refreshes: "would
  // refresh") but only a real apply makes it the backup sink.
  auto state = MakeStateDir(f.root, f.state_dir);
  if (!state.ok()) {
    log::Error(state.error().message);
    return nullptr;
  }
  l->state = std::move(state).value();
  long max_age = -1;
  if (!f.max_age.empty()) {
    auto parsed = ParseDuration(f.max_age);
    if (!parsed.ok()) {
      log::Error("--max-age: " + parsed.error().message);
      return nullptr;
    }
    max_age = *parsed;
  }
  if (!f.branch.empty() && !f.ref.empty()) {
    log::Error("--branch and --ref exclude each other: name a branch, or pin a revision");
    return nullptr;
  }
  if (f.git_url.empty() && (!f.branch.empty() || !f.ref.empty() || f.no_rewind)) {
    log::Error("--branch, --ref and --no-rewind need --git URL");
    return nullptr;
  }
  // A --git failure's report goes to last_run.json: the state dir (locked)
  // moves into it.
  auto keep_state = [&] {
    if (gf && gf->failed && with_state) gf->state = std::move(l->state);
  };
  if (!f.git_url.empty()) {
    // A real apply pulls into the state dir: take the run lock first so two
    // runs never switch the checkout under each other.
    if (with_state) {
      auto locked = l->state->Lock(f.lock_timeout);
      if (!locked.ok()) {
        log::Error(locked.error().message);
        return nullptr;
      }
    }
    if (!PullForRun(f, dry, max_age, *l, gf)) {
      keep_state();
      return nullptr;
    }
  } else {
    l->entry = EntryPath(f.path);
  }
  auto host = OpenRealHost(f.root, with_state ? l->state.get() : nullptr);
  if (!host.ok()) {
    log::Error(host.error().message);
    return nullptr;
  }
  l->host = std::move(host).value();
  l->facts = GatherFacts(*l->host);
  if (!f.facts_file.empty()) {
    auto merged = MergeFactsFile(l->facts, f.facts_file);
    if (!merged.ok()) {
      log::Error(merged.error().message);
      return nullptr;
    }
  }
  log::Info("loading " + l->entry);
  auto loaded = LoadManifests(LoadOptions{.entry_path = l->entry,
                                          .cli_vars = *vars,
                                          .facts = l->facts,
                                          .registry = &l->registry,
                                          .repo_dir = l->repo_dir});
  if (!loaded.ok()) {
    for (const auto& e : loaded.errors) log::ErrorLine(e.str());
    if (!l->commit.empty()) {
      std::vector<std::string> lines;
      for (const auto& e : loaded.errors) lines.push_back(e.str());
      GitFail(gf, *l,
              "commit " + l->commit + " of " + l->git_url + " does not validate; nothing applied");
      if (gf) gf->errors.insert(gf->errors.begin(), lines.begin(), lines.end());
      keep_state();
    } else
      log::Error(std::to_string(loaded.errors.size()) +
                 " error(s) in the manifests; nothing changed");
    return nullptr;
  }
  l->catalog = std::move(loaded.catalog);
  auto graph = Graph::Build(l->catalog, l->registry);
  if (!graph.ok()) {
    // One problem per line (every cycle, every two-owner path), each with
    // its place, then the same ending as a load error.
    size_t count = 0;
    std::string_view msg = graph.error().message;
    while (!msg.empty()) {
      size_t nl = msg.find('\n');
      log::ErrorLine(msg.substr(0, nl));
      ++count;
      msg = nl == std::string_view::npos ? std::string_view() : msg.substr(nl + 1);
    }
    if (!l->commit.empty()) {
      GitFail(gf, *l,
              "commit " + l->commit + " of " + l->git_url + " does not validate; nothing applied");
      if (gf) gf->errors.insert(gf->errors.begin(), graph.error().message);
      keep_state();
    } else {
      log::Error(std::to_string(count) + " error(s) in the manifests; nothing changed");
    }
    return nullptr;
  }
  l->graph = std::move(graph).value();
  if (!l->commit.empty() && l->temp_dest.empty()) {
    PullOptions po = PullOptionsFor(f);
    po.dest = l->pull_dest;
    auto good = MarkGood(po, l->commit, l->repo_dir);
    if (!good.ok()) log::Warn("cannot record the last good commit: " + good.error().message);
  }
  log::Info(std::to_string(l->catalog.resources.size()) + " resources");
  return l;
}

RunOutcome RunPipeline(const RunRequest& f) {
  RunOutcome out;
  const bool dry = f.dry;
  GitFailure gf;
  std::string started_at = NowRfc3339();
  std::unique_ptr<LoadedRun> l = LoadRun(f, !dry, &gf);
  if (!l) {
    if (gf.failed) GitFailureReport(f, gf, started_at, out);
    return out;
  }
  if (!dry) {
    auto locked = l->state->Lock(f.lock_timeout);
    if (!locked.ok()) {
      log::Error(locked.error().message);
      return out;
    }
  }
  RunContext ctx;
  ctx.facts = l->facts;
  ctx.repo_dir = l->catalog.repo_dir;
  for (auto& w : l->pull_warnings) ctx.Warn(w);
  Report& report = out.report;
  report.keel_version = KEEL_VERSION;
  report.root = ReportRoot(f.root);
  report.source_path = l->git_url.empty() ? f.path : l->repo_path;
  if (!l->git_url.empty()) {
    report.git_url = l->git_url;
    report.commit = l->commit;
  }
  report.started_at = NowRfc3339();
  if (!dry && !PrepareStateDir(*l->state, *l, report)) {
    l->state->Unlock();
    return out;
  }
  RunOptions opts{.noop = dry, .jobs = std::max(1, f.jobs), .tags = f.tags, .on_start = f.on_start};
  bool marked = false;  // something was about to change: the report is written durably
  if (!dry) {
    opts.before_change = [&]() -> Result<void> {
      marked = true;
      return l->state->MarkRunStarted(RunMarker(report));
    };
  }
  RunTransaction(l->catalog, *l->graph, l->registry, *l->host, ctx, l->state.get(), opts, report);

  out.converged = true;
  out.json = RenderJson(report);
  out.exit_code = ExitCode(report, f.detailed);
  if (!dry) {
    // Failing to write the report is a failure of the run; the marker of
    // the run in progress is then removed rather than left standing.
    auto w = l->state->WriteLastRun(out.json + "\n", marked);
    if (!w.ok()) {
      std::string msg = "cannot write last_run.json: " + w.error().message;
      log::Error(msg);
      report.errors.push_back(msg);
      (void)l->state->RemoveLastRun();
      out.json = RenderJson(report);
      out.exit_code = ExitCode(report, f.detailed);
    }
    l->state->ReleaseReserve();
    l->state->Unlock();
  }
  return out;
}

}  // namespace keel
