// Durable runs (issue 12) piece by piece: the state dir's sweep, reserve,
// run marker and backup origins; the atomic write's identity re-check,
// backup order and EPERM hint; the transaction's owed refreshes recorded
// before the change, withdrawn when a failed change changed nothing; a
// refresh counted as a change; a stop request.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "engine/atomic_file.h"
#include "engine/catalog.h"
#include "engine/graph.h"
#include "engine/host_real.h"
#include "engine/interrupt.h"
#include "engine/registry.h"
#include "engine/report.h"
#include "engine/state.h"
#include "engine/transaction.h"
#include "tests/unit/support/converge.h"
#include "tests/unit/support/temp_root.h"

using namespace keel;
using namespace keel::testing;

namespace {

bool Exists(const std::string& p) {
  return std::filesystem::exists(std::filesystem::symlink_status(p));
}

Resource Notify(Resource r, const std::string& type, const std::string& title) {
  r.notify.push_back({Ref{type, title}, 1, 1});
  return r;
}

Resource Echo(const Registry& reg, const std::string& name, const std::string& cmd = "") {
  return MakeResource(
      reg, "exec", name,
      {{"command", Value(cmd.empty() ? "echo " + name + " >> \"$KEEL_ROOT/refresh.log\"" : cmd)},
       {"refreshonly", Value(true)},
       {"chroot", Value(false)}});
}

Report RunAll(const Registry& reg, const std::vector<Resource>& rs, TempRoot& root, StateDir& state,
              bool noop = false) {
  Catalog catalog;
  for (const auto& r : rs) catalog.Add(r);
  auto graph = Graph::Build(catalog, reg);
  REQUIRE(graph.ok());
  auto host = OpenRealHost(root.path(), &state);
  REQUIRE(host.ok());
  RunContext ctx;
  Report report;
  RunOptions opts;
  opts.noop = noop;
  RunTransaction(catalog, *graph, reg, **host, ctx, &state, opts, report);
  return report;
}

const ResourceReport& Find(const Report& r, const std::string& id) {
  for (const auto& x : r.resources)
    if (x.id == id) return x;
  throw std::runtime_error("no " + id);
}

int g_fail_count = 0;
FaultStep g_fail_step = FaultStep::kWrite;
int g_fail_errno = 0;
std::string g_fail_path;
int FailHook(FaultStep step, const std::string& path) {
  if (step != g_fail_step || g_fail_count <= 0) return 0;
  if (!g_fail_path.empty() && path.find(g_fail_path) == std::string::npos) return 0;
  --g_fail_count;
  return g_fail_errno;
}
void ArmFault(FaultStep step, int err, const std::string& path, int count = 1) {
  g_fail_step = step;
  g_fail_errno = err;
  g_fail_path = path;
  g_fail_count = count;
  SetAtomicFaultHook(FailHook);
}

}  // namespace

TEST_CASE("durable: the state dir sweeps temp files of killed runs") {
  TempRoot root;
  StateDir state(root.Real("/state"));
  REQUIRE(state.SetOwedRefreshes({"exec[x]"}).ok());
  REQUIRE(state.Save(HostPath::Parse("/etc/a").value(), "old").ok());
  root.Write("/state/" + AtomicTempName("owed_refreshes"), "half");
  root.Write("/state/" + AtomicTempName("last_run.json"), "{");
  root.Write("/state/backup/" + AtomicTempName(Sha256Hex("x")), "x");
  root.Write("/state/keep-me", "foreign");
  CHECK(state.SweepTemps() == 3);
  for (auto& e : std::filesystem::recursive_directory_iterator(root.Real("/state")))
    CHECK_FALSE(IsAtomicTempName(e.path().filename().string()));
  CHECK(root.Exists("/state/keep-me"));
  CHECK(state.OwedRefreshes().value() == std::vector<std::string>{"exec[x]"});
}

TEST_CASE("durable: the reserve lets the owed refreshes be written on a full disk") {
  TempRoot root;
  StateDir state(root.Real("/state"));
  REQUIRE(state.Reserve(65536).ok());
  CHECK(root.Exists("/state/.reserve"));
  // The first write of owed_refreshes meets a full disk; the reserve is
  // released and the write tried again.
  ArmFault(FaultStep::kWrite, ENOSPC, "owed_refreshes");
  auto w = state.SetOwedRefreshes({"exec[x]"});
  SetAtomicFaultHook(nullptr);
  CHECK(w.ok());
  CHECK_FALSE(root.Exists("/state/.reserve"));
  CHECK(state.OwedRefreshes().value() == std::vector<std::string>{"exec[x]"});
  // Without a reserve the error is returned.
  ArmFault(FaultStep::kWrite, ENOSPC, "owed_refreshes");
  w = state.SetOwedRefreshes({"exec[y]"});
  SetAtomicFaultHook(nullptr);
  REQUIRE_FALSE(w.ok());
  CHECK(w.error().message.find("No space left on device") != std::string::npos);
  CHECK(state.OwedRefreshes().value() == std::vector<std::string>{"exec[x]"});
}

TEST_CASE("durable: the run marker replaces an old last_run.json, or removes it") {
  TempRoot root;
  StateDir state(root.Real("/state"));
  REQUIRE(state.WriteLastRun("{\"old\": 1}\n").ok());
  REQUIRE(state.MarkRunStarted("{\"in_progress\": true}\n").ok());
  CHECK(root.Read("/state/last_run.json") == "{\"in_progress\": true}\n");
  // Cannot be written (disk full): the old report goes rather than stays.
  REQUIRE(state.WriteLastRun("{\"old\": 2}\n").ok());
  ArmFault(FaultStep::kWrite, ENOSPC, "last_run.json");
  CHECK(state.MarkRunStarted("{\"in_progress\": true}\n").ok());
  SetAtomicFaultHook(nullptr);
  CHECK_FALSE(root.Exists("/state/last_run.json"));
  // Neither replaceable nor removable (a directory there): an error.
  root.Mkdir("/state/last_run.json/x");
  CHECK_FALSE(state.MarkRunStarted("{}").ok());
}

TEST_CASE("durable: backup index lines carry their origin; old lines still parse") {
  TempRoot root;
  StateDir state(root.Real("/state"));
  state.SetBackupOrigin("run 2026-12-01T00:00:00Z 42");
  REQUIRE(state.Save(HostPath::Parse("/etc/a b").value(), "one").ok());
  state.SetBackupOrigin("restore");
  REQUIRE(state.Save(HostPath::Parse("/etc/a b").value(), "two").ok());
  {
    std::ofstream idx(root.Real("/state/backup/index"), std::ios::app);
    idx << "2026-11-01T00:00:00Z\t/etc/legacy\t" << Sha256Hex("three") << "\n";
  }
  auto index = state.Index();
  REQUIRE(index.ok());
  REQUIRE(index->size() == 3);
  CHECK((*index)[0].path == "/etc/a b");
  CHECK((*index)[0].origin == "run 2026-12-01T00:00:00Z 42");
  CHECK((*index)[0].sha256 == Sha256Hex("one"));
  CHECK((*index)[1].origin == "restore");
  CHECK((*index)[2].path == "/etc/legacy");
  CHECK((*index)[2].origin.empty());
}

TEST_CASE("durable: a file changed by someone else after keel read it is not overwritten") {
  TempRoot root;
  root.Write("/etc/conf", "line 1\n");
  auto host = OpenRealHost(root.path(), nullptr);
  REQUIRE(host.ok());
  HostPath p = HostPath::Parse("/etc/conf").value();
  REQUIRE((*host)->ReadFile(p).ok());
  // An administrator appends a line (size and mtime change).
  {
    std::ofstream app(root.Real("/etc/conf"), std::ios::app);
    app << "admin line\n";
  }
  auto w = (*host)->WriteFileAtomic(p, "keel\n", FileAttrs{});
  REQUIRE_FALSE(w.ok());
  CHECK(w.error().code == ErrorCode::kConflict);
  CHECK(w.error().message.find("changed after keel read it") != std::string::npos);
  CHECK(root.Read("/etc/conf") == "line 1\nadmin line\n");
  // Read again: now it is written.
  REQUIRE((*host)->ReadFile(p).ok());
  CHECK((*host)->WriteFileAtomic(p, "keel\n", FileAttrs{}).ok());
  CHECK(root.Read("/etc/conf") == "keel\n");
}

TEST_CASE("durable: an append during the write (before the rename) fails the write") {
  TempRoot root;
  root.Write("/etc/conf", "line 1\n");
  int dfd = ::open(root.Real("/etc").c_str(), O_RDONLY | O_DIRECTORY);
  REQUIRE(dfd >= 0);
  AtomicWriteOptions opts;
  opts.expect = IdentityAt(dfd, "conf");
  std::string path = root.Real("/etc/conf");
  opts.before_rename = [&]() -> Result<void> {
    std::ofstream app(path, std::ios::app);
    app << "appended meanwhile\n";
    return {};
  };
  auto w = AtomicWriteAt(dfd, "conf", "keel\n", opts, "/etc/conf");
  ::close(dfd);
  REQUIRE_FALSE(w.ok());
  CHECK(w.error().code == ErrorCode::kConflict);
  CHECK(root.Read("/etc/conf") == "line 1\nappended meanwhile\n");
  for (auto& e : std::filesystem::directory_iterator(root.Real("/etc")))
    CHECK_FALSE(IsAtomicTempName(e.path().filename().string()));
}

TEST_CASE("durable: a write that fails before the rename leaves no backup or index line") {
  TempRoot root;
  root.Write("/etc/conf", "old\n");
  StateDir state(root.Real("/state"));
  auto host = OpenRealHost(root.path(), &state);
  REQUIRE(host.ok());
  ArmFault(FaultStep::kFsync, ENOSPC, "/etc/conf", 3);
  for (int i = 0; i < 3; ++i)
    CHECK_FALSE(
        (*host)->WriteFileAtomic(HostPath::Parse("/etc/conf").value(), "new\n", FileAttrs{}).ok());
  SetAtomicFaultHook(nullptr);
  CHECK(root.Read("/etc/conf") == "old\n");
  CHECK(state.Index().value().empty());
  CHECK_FALSE(Exists(root.Real("/state/backup/" + Sha256Hex("old\n"))));
  // A write that succeeds is backed up once.
  REQUIRE(
      (*host)->WriteFileAtomic(HostPath::Parse("/etc/conf").value(), "new\n", FileAttrs{}).ok());
  CHECK(state.Index().value().size() == 1);
}

TEST_CASE("durable: EPERM names the immutable attribute as a likely cause") {
  TempRoot root;
  root.Write("/etc/conf", "old\n");
  auto host = OpenRealHost(root.path(), nullptr);
  REQUIRE(host.ok());
  ArmFault(FaultStep::kRename, EPERM, "/etc/conf");
  auto w = (*host)->WriteFileAtomic(HostPath::Parse("/etc/conf").value(), "new\n", FileAttrs{});
  SetAtomicFaultHook(nullptr);
  REQUIRE_FALSE(w.ok());
  CHECK(w.error().message.find("rename: Operation not permitted") != std::string::npos);
  CHECK(w.error().message.find("chattr +i") != std::string::npos);
}

TEST_CASE("durable: owed refreshes are on disk before Apply changes anything") {
  Registry reg;
  RegisterBuiltinTypes(reg);
  TempRoot root;
  root.Write("/etc/a", "old\n");
  StateDir state(root.Real("/state"));
  // The write of /etc/a fails at its rename: the refresh was recorded before.
  // The re-read shows nothing changed, so the claim is withdrawn again.
  ArmFault(FaultStep::kRename, EIO, "/etc/a");
  std::vector<std::string> seen;
  auto rs = std::vector<Resource>{
      Notify(MakeResource(reg, "file", "/etc/a", {{"content", Value("new\n")}}), "exec", "A"),
      Echo(reg, "A")};
  Report rep = RunAll(reg, rs, root, state);
  SetAtomicFaultHook(nullptr);
  CHECK(Find(rep, "file[/etc/a]").status == Status::kFailed);
  CHECK(Find(rep, "exec[A]").status == Status::kSkipped);
  CHECK(state.OwedRefreshes().value().empty());  // nothing changed: nothing owed
  CHECK_FALSE(root.Exists("/refresh.log"));

  // A failing owed write fails the resource before the change.
  ArmFault(FaultStep::kWrite, ENOSPC, "owed_refreshes");
  rep = RunAll(reg, rs, root, state);
  SetAtomicFaultHook(nullptr);
  CHECK(Find(rep, "file[/etc/a]").status == Status::kFailed);
  CHECK(Find(rep, "file[/etc/a]").error->find("nothing changed") != std::string::npos);
  CHECK(root.Read("/etc/a") == "old\n");

  // Clean: changed, refreshed, nothing owed; the refresh counts as a change.
  rep = RunAll(reg, rs, root, state);
  CHECK(root.Read("/etc/a") == "new\n");
  CHECK(root.Read("/refresh.log") == "A\n");
  CHECK(Find(rep, "exec[A]").status == Status::kChanged);
  CHECK(Find(rep, "exec[A]").refreshed);
  CHECK(ExitCode(rep, true) == 2);
  CHECK(state.OwedRefreshes().value().empty());
}

TEST_CASE("durable: a refresh that fails stays owed; a plan counts it as a change") {
  Registry reg;
  RegisterBuiltinTypes(reg);
  TempRoot root;
  root.Write("/etc/a", "old\n", 0644);
  StateDir state(root.Real("/state"));
  auto rs = std::vector<Resource>{
      Notify(MakeResource(reg, "file", "/etc/a", {{"content", Value("new\n")}}), "exec", "A"),
      Echo(reg, "A", "exit 3")};
  Report rep = RunAll(reg, rs, root, state);
  CHECK(Find(rep, "exec[A]").status == Status::kFailed);
  CHECK(state.OwedRefreshes().value() == std::vector<std::string>{"exec[A]"});
  // Owed across runs; a plan shows it as a pending change.
  rep = RunAll(reg, rs, root, state, /*noop=*/true);
  CHECK(Find(rep, "exec[A]").status == Status::kChanged);
  CHECK(ExitCode(rep, true) == 2);
}

TEST_CASE("durable: a stop request lets nothing start and reports what never ran") {
  Registry reg;
  RegisterBuiltinTypes(reg);
  TempRoot root;
  root.Write("/etc/a", "old\n");
  StateDir state(root.Real("/state"));
  auto rs = std::vector<Resource>{
      Notify(MakeResource(reg, "file", "/etc/a", {{"content", Value("new\n")}}), "exec", "A"),
      Echo(reg, "A")};
  RequestStop(SIGTERM);
  Report rep = RunAll(reg, rs, root, state);
  ResetStopSignals();
  CHECK(rep.interrupted);
  CHECK(rep.interrupt_signal == SIGTERM);
  CHECK(rep.never_ran == std::vector<std::string>{"file[/etc/a]", "exec[A]"});
  CHECK(Find(rep, "exec[A]").status == Status::kSkipped);
  CHECK(ExitCode(rep, false) == 143);
  CHECK(ExitCode(rep, true) == 143);
  CHECK(root.Read("/etc/a") == "old\n");
  std::string json = RenderJson(rep);
  CHECK(json.find("\"never_ran\"") != std::string::npos);
}

TEST_CASE("durable: an unreadable owed file fails the run, never passes as nothing owed") {
  Registry reg;
  RegisterBuiltinTypes(reg);
  TempRoot root;
  StateDir state(root.Real("/state"));
  root.Mkdir("/state/owed_refreshes");  // a directory: cannot be read
  CHECK_FALSE(state.OwedRefreshes().ok());
  Report rep = RunAll(reg, {Echo(reg, "A")}, root, state);
  CHECK_FALSE(rep.errors.empty());
  CHECK(ExitCode(rep, false) == 1);
}

TEST_CASE("durable: a real SIGTERM during a --jobs run: nothing starts after it") {
  Registry reg;
  RegisterBuiltinTypes(reg);
  TempRoot root;
  StateDir state(root.Real("/state"));
  std::vector<Resource> rs;
  // The exec signals keel (its parent: this test process, with keel's
  // handler installed) and goes on a little: it finishes, nothing after it
  // starts.
  rs.push_back(MakeResource(reg, "exec", "stopper",
                            {{"command", Value("kill -TERM $PPID; sleep 0.3; echo done > "
                                               "\"$KEEL_ROOT/stopper.done\"")},
                             {"chroot", Value(false)}}));
  for (int i = 0; i < 6; ++i) {
    Resource f = MakeResource(reg, "file", "/after" + std::to_string(i), {{"content", Value("x")}});
    f.require.push_back({Ref{"exec", "stopper"}, 1, 1});
    rs.push_back(f);
  }
  Catalog catalog;
  for (const auto& r : rs) catalog.Add(r);
  auto graph = Graph::Build(catalog, reg);
  REQUIRE(graph.ok());
  auto host = OpenRealHost(root.path(), &state);
  REQUIRE(host.ok());
  RunContext ctx;
  Report rep;
  RunOptions opts;
  opts.jobs = 4;
  InstallStopSignals(5);
  RunTransaction(catalog, *graph, reg, **host, ctx, &state, opts, rep);
  ResetStopSignals();
  CHECK(rep.interrupted);
  CHECK(rep.interrupt_signal == SIGTERM);
  CHECK(root.Exists("/stopper.done"));  // the running one finished
  CHECK(Find(rep, "exec[stopper]").status == Status::kChanged);
  CHECK(rep.never_ran.size() == 6);
  for (int i = 0; i < 6; ++i) CHECK_FALSE(root.Exists("/after" + std::to_string(i)));
  CHECK(ExitCode(rep, true) == 143);
}
