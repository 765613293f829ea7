// The kill matrix of issue 12 through the real transaction, real types and
// the real state dir: a run with a `file`, two editing types (shellvar and
// line on one file, written in the edit session's Flush), a package-like
// type whose work happens in Flush, and a notify chain (exec A notifies
// exec C). Every write, fsync, rename and directory fsync of the run (of
// managed files and of keel's own state: AtomicWriteAt's fault hook) and
// every host call (before and after it reaches the disk or runs) is a
// point. At each point in turn the run is
//   - killed (an exception unwinds the run at once: nothing after the
//     point happens, temp files stay, as with SIGKILL), or
//   - failed (the step returns EIO), or
//   - signalled (a stop request, as a first SIGTERM: the run ends cleanly),
// and then a clean run follows. After each trial:
//   - every managed file holds its old or its new content, never a mix (for
//     the file two resources edit: each edit wholly there or not);
//   - after the clean run: the new content, every refresh delivered at
//     least once (A before C: the chain in order), none owed any more;
//   - no temp file anywhere in the root or the state dir after the clean
//     run (the state dir's are swept);
//   - a signalled run's report is marked interrupted and lists the never-ran
//     resources as skipped.
#include <doctest/doctest.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "engine/atomic_file.h"
#include "engine/catalog.h"
#include "engine/graph.h"
#include "engine/host_real.h"
#include "engine/interrupt.h"
#include "engine/registry.h"
#include "engine/state.h"
#include "engine/transaction.h"
#include "tests/unit/support/converge.h"
#include "tests/unit/support/temp_root.h"

using namespace keel;
using namespace keel::testing;

namespace {

enum class Mode { kNone, kKill, kFail, kSignal };

struct Killed : std::runtime_error {
  Killed() : std::runtime_error("killed") {}
};

struct Points {
  int count = 0;
  int target = 0;
  Mode mode = Mode::kNone;
  std::vector<std::string> names;  // what each point was (for messages)

  // One point: returns an errno to fail with, 0 to go on; throws to kill.
  int Hit(const std::string& what) {
    ++count;
    names.push_back(what);
    if (count != target) return 0;
    switch (mode) {
      case Mode::kKill:
        throw Killed();
      case Mode::kFail:
        return EIO;
      case Mode::kSignal:
        RequestStop(SIGTERM);
        return 0;
      case Mode::kNone:
        return 0;
    }
    return 0;
  }
};

Points* g_points = nullptr;

int AtomicHook(FaultStep step, const std::string& path) {
  if (!g_points) return 0;
  static const char* kNames[] = {"write", "fsync", "rename", "dir-fsync", "mkdir"};
  return g_points->Hit(std::string("atomic ") + kNames[static_cast<int>(step)] + " " + path);
}

// A Host whose every call is a point before it reaches the base and one
// after (a kill after the call: the change happened, nothing else did).
class PointHost : public Host {
 public:
  PointHost(Host& base, Points& p) : base_(base), p_(p) {}
  bool live() const override { return base_.live(); }
  const std::string& root() const override { return base_.root(); }
  Result<std::optional<std::string>> ReadFile(const HostPath& path) override {
    return base_.ReadFile(path);
  }
  Result<FileInfo> Lstat(const HostPath& path) override { return base_.Lstat(path); }
  Result<FileInfo> Stat(const HostPath& path) override { return base_.Stat(path); }
  Result<std::vector<std::string>> ListDir(const HostPath& path) override {
    return base_.ListDir(path);
  }
  Result<void> WriteFileAtomic(const HostPath& path, std::string_view data,
                               const FileAttrs& attrs) override {
    return Around("write " + path.str(), [&] { return base_.WriteFileAtomic(path, data, attrs); });
  }
  Result<void> MakeDir(const HostPath& path, const FileAttrs& attrs) override {
    return Around("mkdir " + path.str(), [&] { return base_.MakeDir(path, attrs); });
  }
  Result<void> Symlink(const HostPath& path, const std::string& target) override {
    return Around("symlink " + path.str(), [&] { return base_.Symlink(path, target); });
  }
  Result<void> Remove(const HostPath& path, bool recursive, bool backup) override {
    return Around("remove " + path.str(), [&] { return base_.Remove(path, recursive, backup); });
  }
  Result<void> SetAttrs(const HostPath& path, const FileAttrs& attrs) override {
    return Around("setattrs " + path.str(), [&] { return base_.SetAttrs(path, attrs); });
  }
  Result<CommandResult> Run(const Command& cmd) override {
    if (cmd.query) return base_.Run(cmd);
    if (int e = p_.Hit("before run " + cmd.Display()))
      return MakeError(ErrorCode::kIo, "cannot run: " + std::string(std::strerror(e)));
    auto r = base_.Run(cmd);
    p_.Hit("after run " + cmd.Display());
    return r;
  }

 private:
  template <typename F>
  Result<void> Around(const std::string& what, F call) {
    if (int e = p_.Hit("before " + what))
      return MakeError(ErrorCode::kIo, what + ": " + std::strerror(e));
    auto r = call();
    p_.Hit("after " + what);
    return r;
  }
  Host& base_;
  Points& p_;
};

// pkg: a package-like type. Apply only queues; Flush "installs" every
// queued one in one transaction (writes /var/lib/pkg/<name> through the
// host), as dnf/apt do.
class PkgProvider : public Provider {
 public:
  Result<Observation> Read(const Resource& want, Host& host, RunContext&) override {
    auto st = host.Lstat(HostPath::Parse("/var/lib/pkg/" + want.title()).value());
    if (!st.ok()) return st.error();
    Observation o;
    o.Set("ensure", Value(st->exists() ? "present" : "absent"));
    return o;
  }
  Result<void> Apply(const Resource&, const Observation&, std::span<const Change>, Host&,
                     RunContext&, Outcome&) override {
    return {};
  }
  Result<void> Flush(std::span<const Resource* const> changed, Host& host, RunContext&) override {
    std::string db;
    for (const Resource* r : changed) db += r->title() + "\n";
    KEEL_TRY(MakeParents(host, HostPath::Parse("/var/lib/pkg/x").value()));
    for (const Resource* r : changed)
      KEEL_TRY(host.WriteFileAtomic(HostPath::Parse("/var/lib/pkg/" + r->title()).value(), db,
                                    FileAttrs{}));
    return {};
  }
  bool VerifyAfterApply() const override { return false; }
};

void AddPkgType(Registry& reg) {
  reg.Add(TypeInfo{.schema = {.name = "pkg",
                              .doc = "fake package",
                              .attrs = {{.name = "name", .role = AttrRole::kNamevar, .doc = "n"},
                                        {.name = "ensure",
                                         .default_value = Value("present"),
                                         .allowed = {"present", "absent"},
                                         .doc = "e"}}},
                   .make_provider = [] { return std::make_unique<PkgProvider>(); }});
}

Resource Notifying(Resource r, const std::string& target_type, const std::string& target) {
  r.notify.push_back({Ref{target_type, target}, 1, 1});
  return r;
}

Resource Echo(const Registry& reg, const std::string& name) {
  return MakeResource(reg, "exec", name,
                      {{"command", Value("echo " + name + " >> \"$KEEL_ROOT/refresh.log\"")},
                       {"refreshonly", Value(true)},
                       {"chroot", Value(false)}});
}

std::vector<Resource> Manifest(const Registry& reg) {
  std::vector<Resource> rs;
  rs.push_back(
      Notifying(MakeResource(reg, "file", "/etc/a", {{"content", Value("new a\n")}}), "exec", "A"));
  rs.push_back(
      Notifying(MakeResource(reg, "shellvar", "/etc/cfg:X", {{"value", Value("2")}}), "exec", "B"));
  rs.push_back(Notifying(
      MakeResource(reg, "line", "added", {{"path", Value("/etc/cfg")}, {"line", Value("added")}}),
      "exec", "B"));
  rs.push_back(Notifying(MakeResource(reg, "pkg", "tool", {}), "exec", "D"));
  rs.push_back(Notifying(Echo(reg, "A"), "exec", "C"));
  rs.push_back(Echo(reg, "B"));
  rs.push_back(Echo(reg, "C"));
  rs.push_back(Echo(reg, "D"));
  return rs;
}

const char* kOldA = "old a\n";
const char* kNewA = "new a\n";
const char* kOldCfg = "# keep me\nX=1\n";
const char* kNewCfg = "# keep me\nX=2\nadded\n";

struct Trial {
  TempRoot root;
  std::unique_ptr<StateDir> state;
  Trial() {
    root.Write("/etc/a", kOldA);
    root.Write("/etc/cfg", kOldCfg);
    state = std::make_unique<StateDir>(root.Real("/var/lib/keel"));
  }
  Report Run(const Registry& reg, Points* points) {
    Catalog catalog;
    for (const auto& r : Manifest(reg)) catalog.Add(r);
    auto graph = Graph::Build(catalog, reg);
    REQUIRE(graph.ok());
    auto real = OpenRealHost(root.path(), state.get());
    REQUIRE(real.ok());
    Points none;
    PointHost host(**real, points ? *points : none);
    RunContext ctx;
    Report report;
    state->SweepTemps();  // as RunPipeline does once it holds the lock
    RunTransaction(catalog, *graph, reg, host, ctx, state.get(), RunOptions{}, report);
    return report;
  }
  std::vector<std::string> TempFiles() const {
    std::vector<std::string> out;
    for (auto& e : std::filesystem::recursive_directory_iterator(root.path()))
      if (IsAtomicTempName(e.path().filename().string())) out.push_back(e.path().string());
    return out;
  }
  std::vector<std::string> Refreshes() const {
    std::vector<std::string> out;
    std::string log = root.Exists("/refresh.log") ? root.Read("/refresh.log") : "";
    size_t pos = 0;
    while (pos < log.size()) {
      size_t nl = log.find('\n', pos);
      out.push_back(log.substr(pos, nl - pos));
      pos = nl == std::string::npos ? log.size() : nl + 1;
    }
    return out;
  }
};

size_t Count(const std::vector<std::string>& v, const std::string& x) {
  return static_cast<size_t>(std::count(v.begin(), v.end(), x));
}

size_t First(const std::vector<std::string>& v, const std::string& x) {
  auto it = std::find(v.begin(), v.end(), x);
  return static_cast<size_t>(it - v.begin());
}

}  // namespace

TEST_CASE("durable: kill, fail or signal at every point of a run; the next run makes it whole") {
  Registry reg;
  RegisterBuiltinTypes(reg);
  AddPkgType(reg);
  SetAtomicFaultHook(AtomicHook);

  // A clean run: counts the points and pins the expected outcome.
  int total = 0;
  {
    Trial t;
    Points p;
    g_points = &p;
    Report rep = t.Run(reg, &p);
    g_points = nullptr;
    total = p.count;
    for (const auto& r : rep.resources) CHECK_MESSAGE(r.status != Status::kFailed, r.id);
    CHECK(t.root.Read("/etc/a") == kNewA);
    CHECK(t.root.Read("/etc/cfg") == kNewCfg);
    auto ref = t.Refreshes();
    CHECK(Count(ref, "A") == 1);
    CHECK(Count(ref, "B") == 1);
    CHECK(Count(ref, "C") == 1);
    CHECK(Count(ref, "D") == 1);
    CHECK(t.state->OwedRefreshes().value().empty());
    MESSAGE("points in a clean run: " << total);
  }
  REQUIRE(total > 20);

  int trials = 0, failures = 0, extra_refreshes = 0;
  for (Mode mode : {Mode::kKill, Mode::kFail, Mode::kSignal}) {
    for (int n = 1; n <= total; ++n) {
      ++trials;
      Trial t;
      Points p;
      p.target = n;
      p.mode = mode;
      g_points = &p;
      Report killed;
      bool was_killed = false;
      try {
        killed = t.Run(reg, &p);
      } catch (const Killed&) {
        was_killed = true;
      }
      g_points = nullptr;
      std::string where = std::string(mode == Mode::kKill   ? "kill"
                                      : mode == Mode::kFail ? "fail"
                                                            : "signal") +
                          " at point " + std::to_string(n) + " (" +
                          (static_cast<size_t>(n) <= p.names.size() ? p.names[n - 1] : "?") + ")";
      INFO(where);
      bool ok = true;
      auto check = [&](bool cond, const std::string& what) {
        if (!cond) {
          ok = false;
          FAIL_CHECK(what);
        }
      };
      // Old or new, never a mix.
      std::string a = t.root.Read("/etc/a"), cfg = t.root.Read("/etc/cfg");
      check(a == kOldA || a == kNewA, "/etc/a is neither old nor new: " + a);
      // Two resources edit /etc/cfg: each one's edit is there or not (one
      // may fail or never run while the other converges), never torn.
      check(cfg == kOldCfg || cfg == kNewCfg || cfg == "# keep me\nX=2\n" ||
                cfg == "# keep me\nX=1\nadded\n",
            "/etc/cfg is torn: " + cfg);
      if (mode == Mode::kSignal) {
        check(killed.interrupted, "a signalled run's report is marked interrupted");
        for (const auto& id : killed.never_ran) {
          bool listed_skipped = false;
          for (const auto& r : killed.resources)
            if (r.id == id) listed_skipped = r.status == Status::kSkipped;
          check(listed_skipped, id + " never ran but is not reported skipped");
        }
        ResetStopSignals();
      }
      (void)was_killed;
      auto first = t.Refreshes();

      // The next, clean run.
      Report next = t.Run(reg, nullptr);
      for (const auto& r : next.resources)
        check(r.status != Status::kFailed,
              r.id + " failed in the clean run: " + r.error.value_or(""));
      check(t.root.Read("/etc/a") == kNewA, "/etc/a not new after the clean run");
      check(t.root.Read("/etc/cfg") == kNewCfg, "/etc/cfg not new after the clean run");
      auto all = t.Refreshes();
      for (const char* x : {"A", "B", "C", "D"})
        check(Count(all, x) >= 1, std::string("refresh ") + x + " lost");
      check(First(all, "A") < First(all, "C"), "the chain A -> C out of order");
      extra_refreshes += static_cast<int>(all.size()) - 4;
      check(t.state->OwedRefreshes().value().empty(), "refreshes still owed after the clean run");
      check(t.TempFiles().empty(), "temp files left after the clean run");
      // And the run after changes nothing.
      Report third = t.Run(reg, nullptr);
      check(third.Count(Status::kChanged) == 0, "the third run changed something");
      (void)first;
      if (!ok) ++failures;
    }
  }
  SetAtomicFaultHook(nullptr);
  MESSAGE("kill matrix: " << trials << " trials, " << failures << " failed, " << extra_refreshes
                          << " extra (repeated) refreshes");
  CHECK(failures == 0);
}
