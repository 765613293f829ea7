// exec type: guards (creates/unless/onlyif/refreshonly), exit codes,
// timeouts, environment, cwd, chroot, and a dry run never running it.
#include <doctest/doctest.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "engine/host_real.h"
#include "engine/registry.h"
#include "resources/builtin.h"
#include "tests/unit/support/converge.h"
#include "tests/unit/support/temp_root.h"

using namespace keel;
using namespace keel::testing;

namespace {

struct ExecFixture {
  TempRoot root;
  Registry reg;
  std::unique_ptr<Host> host;

  ExecFixture() {
    RegisterFile(reg);
    RegisterExec(reg);
    auto h = OpenRealHost(root.path(), nullptr);
    REQUIRE_MESSAGE(h.ok(), (h.ok() ? "" : h.error().message));
    host = std::move(*h);
  }
  /// An exec that runs on the build machine (chroot: false) so that the
  /// test root needs no shell of its own; $KEEL_ROOT is the root.
  Resource Exec(const std::string& title, Attrs attrs = {}) {
    if (!attrs.Has("chroot")) attrs.Set("chroot", false);
    return MakeResource(reg, "exec", title, std::move(attrs));
  }
  ConvergeResult Run(const Resource& r, bool noop = false) { return Converge(reg, r, *host, noop); }
  /// Refreshes `r` as the transaction does after a notify.
  Result<void> Refresh(const Resource& r, Outcome& out) {
    auto p = reg.Find("exec")->make_provider();
    RunContext ctx;
    return p->Refresh(r, *host, ctx, out);
  }
};

}  // namespace

TEST_CASE_FIXTURE(ExecFixture, "exec: a plan never runs it; apply runs; creates stops it") {
  Resource want = Exec("touch $KEEL_ROOT/ran", {{"creates", "/ran"}});
  auto before = root.Snapshot();
  auto plan = Run(want, true);
  CHECK(plan.status == Converged::kChanged);
  REQUIRE(plan.changes.size() == 1);
  CHECK(plan.changes[0].attr == "returns");
  CHECK(plan.changes[0].from->as_string() == "notrun");
  CHECK(plan.changes[0].to->as_string() == "0");
  CHECK(root.Snapshot() == before);
  CHECK_FALSE(root.Exists("/ran"));
  auto applied = Run(want);
  CHECK_MESSAGE(applied.status == Converged::kChanged, applied.error);
  CHECK(root.Exists("/ran"));
  CHECK(Run(want).status == Converged::kUnchanged);
}

TEST_CASE_FIXTURE(ExecFixture, "exec: a plan counts a file an earlier resource would create") {
  root.Mkdir("/etc");
  std::vector<Resource> rs = {
      MakeResource(reg, "file", "/etc/made", {{"content", "x\n"}}),
      Exec("touch $KEEL_ROOT/exec-ran", {{"creates", "/etc/made"}}),
  };
  auto before = root.Snapshot();
  auto plan = ConvergeAll(reg, rs, *host, true);
  CHECK(plan[0].status == Converged::kChanged);
  CHECK(plan[1].status == Converged::kUnchanged);
  CHECK(root.Snapshot() == before);
  auto applied = ConvergeAll(reg, rs, *host);
  CHECK(applied[1].status == Converged::kUnchanged);
  CHECK_FALSE(root.Exists("/exec-ran"));
}

TEST_CASE_FIXTURE(ExecFixture, "exec: unless and onlyif decide, also in a plan") {
  Resource unless_ok = Exec("touch $KEEL_ROOT/u1", {{"unless", "true"}});
  CHECK(Run(unless_ok, true).status == Converged::kUnchanged);
  CHECK(Run(unless_ok).status == Converged::kUnchanged);
  CHECK_FALSE(root.Exists("/u1"));
  Resource unless_fail = Exec("touch $KEEL_ROOT/u2", {{"unless", "test -e $KEEL_ROOT/u2"}});
  CHECK(Run(unless_fail, true).status == Converged::kChanged);
  CHECK_FALSE(root.Exists("/u2"));
  CHECK(Run(unless_fail).status == Converged::kChanged);
  CHECK(root.Exists("/u2"));
  CHECK(Run(unless_fail).status == Converged::kUnchanged);

  Resource onlyif_fail = Exec("touch $KEEL_ROOT/o1", {{"onlyif", List{"false"}}});
  CHECK(Run(onlyif_fail).status == Converged::kUnchanged);
  CHECK_FALSE(root.Exists("/o1"));
  Resource onlyif_ok = Exec("touch $KEEL_ROOT/o2", {{"onlyif", "test ! -e $KEEL_ROOT/o2"}});
  CHECK(Run(onlyif_ok).status == Converged::kChanged);
  CHECK(root.Exists("/o2"));
  CHECK(Run(onlyif_ok).status == Converged::kUnchanged);
}

TEST_CASE_FIXTURE(ExecFixture, "exec: refreshonly runs only on refresh") {
  Resource want = Exec("echo x >> $KEEL_ROOT/refreshed", {{"refreshonly", true}});
  CHECK(Run(want, true).status == Converged::kUnchanged);
  CHECK(Run(want).status == Converged::kUnchanged);
  CHECK_FALSE(root.Exists("/refreshed"));
  Outcome out;
  auto r = Refresh(want, out);
  CHECK_MESSAGE(r.ok(), (r.ok() ? "" : r.error().message));
  CHECK(root.Read("/refreshed") == "x\n");
  // A refresh respects creates.
  Resource guarded =
      Exec("echo y >> $KEEL_ROOT/refreshed", {{"refreshonly", true}, {"creates", "/refreshed"}});
  Outcome out2;
  CHECK(Refresh(guarded, out2).ok());
  CHECK(root.Read("/refreshed") == "x\n");
}

TEST_CASE_FIXTURE(ExecFixture, "exec: returns, output and the failure message") {
  Resource three = Exec("exit 3", {{"returns", List{0, 3}}});
  CHECK(Run(three).status == Converged::kChanged);
  // Exit codes are integers: "00" is 0 and "03" is 3 (issue 11 item 11).
  CHECK(Run(Exec("exit 0", {{"returns", List{"00"}}})).status == Converged::kChanged);
  CHECK(Run(Exec("exit 3", {{"returns", List{"0", "03"}}})).status == Converged::kChanged);
  CHECK(Run(Exec("exit 4", {{"returns", List{"04"}}})).status == Converged::kChanged);
  CHECK(Run(Exec("exit 5", {{"returns", List{"04"}}})).status == Converged::kFailed);
  Resource fails =
      Exec("for i in 1 2 3 4 5 6 7 8 9 10 11 12; do echo line$i; done; echo oops >&2; exit 1");
  auto r = Run(fails);
  CHECK(r.status == Converged::kFailed);
  CHECK(r.error.find("returned 1 instead of one of [0]") != std::string::npos);
  CHECK(r.error.find("oops") != std::string::npos);
  CHECK(r.error.find("line12") != std::string::npos);
  CHECK(r.error.find("line4\n") != std::string::npos);
  CHECK(r.error.find("line3\n") == std::string::npos);  // only the last 10 lines
  // Output lands in the Outcome.
  auto p = reg.Find("exec")->make_provider();
  RunContext ctx;
  Resource echo = Exec("echo hello; echo warn >&2");
  Change c{"returns", Value("notrun"), Value("0"), ""};
  Outcome out;
  REQUIRE(p->Apply(echo, Observation{}, std::span<const Change>(&c, 1), *host, ctx, out).ok());
  CHECK(out.output == "hello\nwarn\n");
  CHECK_FALSE(p->VerifyAfterApply());
}

TEST_CASE_FIXTURE(ExecFixture, "exec: a timeout kills the command and fails quickly") {
  Resource slow = Exec("sleep 30", {{"timeout", 1}});
  auto start = std::chrono::steady_clock::now();
  auto r = Run(slow);
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  CHECK(r.status == Converged::kFailed);
  CHECK(r.error.find("timed out after 1 s") != std::string::npos);
  CHECK(secs < 10);
}

TEST_CASE_FIXTURE(ExecFixture, "exec: environment, cwd, argv without a shell, KEEL_ROOT") {
  root.Mkdir("/work/dir");
  Resource env = Exec("printf '%s' \"$GREETING\" > $KEEL_ROOT/env.txt",
                      {{"environment", Map{{"GREETING", Value("hi there")}}}});
  CHECK(Run(env).status == Converged::kChanged);
  CHECK(root.Read("/env.txt") == "hi there");
  Resource cwd = Exec("pwd > $KEEL_ROOT/pwd.txt", {{"cwd", "/work/dir"}});
  CHECK(Run(cwd).status == Converged::kChanged);
  std::string pwd = root.Read("/pwd.txt");
  CHECK(pwd.size() > 10);
  CHECK(pwd.find("/work/dir\n") == pwd.size() - 10);
  Resource keel_root = Exec("printf '%s' \"$KEEL_ROOT\" > \"$KEEL_ROOT/root.txt\"");
  CHECK(Run(keel_root).status == Converged::kChanged);
  CHECK(std::filesystem::equivalent(root.Read("/root.txt"), root.path()));
  // A list is argv: no shell expands "$HOME" or ';'.
  Resource argv = Exec("argv", {{"command", List{"/bin/sh", "-c", "printf '%s' \"$0\" > \"$1\"",
                                                 "a;$HOME", root.Real("/argv.txt")}}});
  CHECK(Run(argv).status == Converged::kChanged);
  CHECK(root.Read("/argv.txt") == "a;$HOME");
}

TEST_CASE_FIXTURE(ExecFixture, "exec: chroot true runs inside the root") {
  // A minimal root: dash and the libraries it needs.
  namespace fs = std::filesystem;
  if (!fs::exists("/bin/dash") || !fs::exists("/lib64/ld-linux-x86-64.so.2") ||
      !fs::exists("/lib/x86_64-linux-gnu/libc.so.6")) {
    MESSAGE("skipped: no dash/glibc to build a chroot");
    return;
  }
  for (const char* p : {"/lib64/ld-linux-x86-64.so.2", "/lib/x86_64-linux-gnu/libc.so.6"}) {
    root.Mkdir(fs::path(p).parent_path().string());
    fs::copy_file(p, root.Real(p));
  }
  root.Mkdir("/bin");
  fs::copy_file("/bin/dash", root.Real("/bin/sh"));
  ::chmod(root.Real("/bin/sh").c_str(), 0755);
  Resource want = MakeResource(reg, "exec", "write-inside",
                               {{"command", "echo inside > /marker"}, {"creates", "/marker"}});
  auto r = Run(want);
  CHECK_MESSAGE(r.status == Converged::kChanged, r.error);
  CHECK(root.Read("/marker") == "inside\n");
  CHECK_FALSE(fs::exists("/marker"));
  CHECK(Run(want).status == Converged::kUnchanged);
}

TEST_CASE_FIXTURE(ExecFixture, "exec: bad attributes are load-time errors") {
  Resource r;
  r.ref = {"exec", "x"};
  r.attrs = Attrs{{"returns", List{"zero"}}};
  auto problems = PrepareResource(*reg.Find("exec"), r);
  REQUIRE(!problems.empty());
  CHECK(problems[0].message.find("returns expects exit codes") != std::string::npos);
  r.attrs = Attrs{{"cwd", "relative"}};
  CHECK_FALSE(PrepareResource(*reg.Find("exec"), r).empty());
  r.attrs = Attrs{{"timeout", "soon"}};
  CHECK_FALSE(PrepareResource(*reg.Find("exec"), r).empty());
  r.attrs = Attrs{{"environment", Map{{"A=B", Value("x")}}}};
  CHECK_FALSE(PrepareResource(*reg.Find("exec"), r).empty());
  // The title is the identity: two execs may run one command.
  Resource a = MakeResource(reg, "exec", "a", {{"command", "true"}});
  Resource b = MakeResource(reg, "exec", "b", {{"command", "true"}});
  CHECK(ResourceIdentity(*reg.Find("exec"), a) != ResourceIdentity(*reg.Find("exec"), b));
  auto uses = reg.Find("exec")->uses(MakeResource(reg, "exec", "c", {{"cwd", "/srv"}}));
  CHECK(uses == std::vector<std::string>{"/srv"});
}

TEST_CASE_FIXTURE(ExecFixture, "exec: a root without a shell fails clearly, never hangs") {
  Resource want = MakeResource(reg, "exec", "echo hi", {});
  auto r = Run(want);
  CHECK(r.status == Converged::kFailed);
  MESSAGE(r.error);
  CHECK(r.error.find("echo hi") != std::string::npos);
}

TEST_CASE_FIXTURE(ExecFixture, "exec: sensitive hides the command and its output in messages") {
  Resource want = Exec("echo s3cret-token; exit 2");
  want.sensitive = true;
  auto r = Run(want);
  CHECK(r.status == Converged::kFailed);
  CHECK(r.error.find("[redacted] returned 2 instead of one of [0]") != std::string::npos);
  CHECK(r.error.find("s3cret") == std::string::npos);
  auto p = reg.Find("exec")->make_provider();
  RunContext ctx;
  auto overlay = MakeOverlayHost(*host);
  Change c{"returns", Value("notrun"), Value("0"), ""};
  Outcome out;
  REQUIRE(p->Apply(want, Observation{}, std::span<const Change>(&c, 1), *overlay, ctx, out).ok());
  CHECK(out.message == "would run [redacted]");
}

TEST_CASE_FIXTURE(ExecFixture, "exec: a notified exec that already ran is not run twice") {
  Resource want = Exec("echo x >> $KEEL_ROOT/count");
  auto p = reg.Find("exec")->make_provider();
  RunContext ctx;
  auto have = p->Read(want, *host, ctx);
  REQUIRE(have.ok());
  auto changes = p->Diff(want, *have, ctx);
  REQUIRE(changes.size() == 1);
  Outcome out;
  REQUIRE(p->Apply(want, *have, changes, *host, ctx, out).ok());
  Outcome refresh;
  REQUIRE(p->Refresh(want, *host, ctx, refresh).ok());
  CHECK(refresh.message == "already ran in this run");
  CHECK(root.Read("/count") == "x\n");
  // A later run (a new provider) refreshes it.
  Outcome later;
  REQUIRE(Refresh(want, later).ok());
  CHECK(root.Read("/count") == "x\nx\n");
}
