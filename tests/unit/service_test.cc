// service: the init script header and rc link rules on strings, then the
// sysvinit --root timelines through the real transaction on a CentOS-shaped
// tree (/etc/rc.d/rcN.d with /etc/rcN.d links): the link sets for rngd
// (`-`), firstboot (35) and an LSB-only script compared with those the real
// chkconfig 1.33 made (recorded in tests/unit/data/service/chkconfig-1.33/), foreign links
// kept, ensure ignored under --root, plan leaves the tree byte for byte, and
// chkconfig itself used when the root has it (a recording stand-in,
// chrooted: chkconfig is not packaged by Debian). The live systemd half
// (start/stop/enable, refresh rules) runs against a stand-in systemctl, since
// systemd cannot be PID 1 here. The live sysvinit and the systemd --root
// halves run for real in tests/integration/service_sysv_live.sh and
// tests/cli/service_root.sh.
#include <doctest/doctest.h>
#include <unistd.h>

#include <filesystem>
#include <map>
#include <set>

#include "engine/host_real.h"
#include "engine/registry.h"
#include "resources/service/init_header.h"
#include "tests/unit/support/converge.h"
#include "tests/unit/support/faulty_host.h"
#include "tests/unit/support/temp_root.h"
#include "tests/unit/support/test_data.h"

using namespace keel;
using keel::testing::Converge;
using keel::testing::Converged;
using keel::testing::FaultyHost;
using keel::testing::MakeResource;
using keel::testing::TempRoot;
using keel::testing::Timeline;
namespace is = keel::initscript;

namespace {

std::string Data(const std::string& name) { return keel::testing::TestData("service/" + name); }

/// A CentOS 6 shaped tree: /etc/rc.d/{init.d,rc0.d..rc6.d} with the
/// /etc/init.d and /etc/rcN.d links, the script installed, and the K links
/// `chkconfig --add` left at package install (all K for `-`).
void SeedCentos(TempRoot& root, const std::string& name, const std::string& script) {
  root.Write("/etc/rc.d/init.d/" + name, script, 0755);
  root.Symlink("/etc/init.d", "rc.d/init.d");
  for (int l = 0; l <= 6; ++l) {
    std::string n = std::to_string(l);
    root.Mkdir("/etc/rc.d/rc" + n + ".d");
    root.Symlink("/etc/rc" + n + ".d", "rc.d/rc" + n + ".d");
    root.Symlink("/etc/rc.d/rc" + n + ".d/K90network", "../init.d/network");  // foreign
  }
}

/// The S/K links of `name` as "LEVEL:NAME->TARGET" lines, levels 0-6 (the
/// format of the sets recorded with the real chkconfig in
/// tests/unit/data/service/chkconfig-1.33/). `dir` holds "%" for the level.
std::string LinkLines(const TempRoot& root, const std::string& name,
                      const std::string& dir = "/etc/rc.d/rc%.d") {
  std::string out;
  for (int l = 0; l <= 6; ++l) {
    std::string d = dir;
    d.replace(d.find('%'), 1, std::to_string(l));
    std::set<std::string> lines;
    for (const auto& e : std::filesystem::directory_iterator(root.Real(d))) {
      std::string n = e.path().filename();
      if (!is::ParseLinkName(n, name)) continue;
      lines.insert(std::to_string(l) + ":" + n + "->" +
                   std::filesystem::read_symlink(e.path()).string() + "\n");
    }
    for (const auto& x : lines) out += x;
  }
  return out;
}

/// A link set recorded with chkconfig 1.33 (see its README).
std::string Recorded(const std::string& name) { return Data("chkconfig-1.33/" + name); }

struct Fixture {
  TempRoot root;
  Registry registry;
  std::unique_ptr<Host> host;
  Fixture() { RegisterBuiltinTypes(registry); }
  Host& Open() {
    auto h = OpenRealHost(root.path(), nullptr);
    REQUIRE(h.ok());
    host = std::move(*h);
    return *host;
  }
  Resource Svc(const std::string& name, Attrs attrs) {
    if (!attrs.Has("provider")) attrs.Set("provider", Value("sysvinit"));
    return MakeResource(registry, "service", name, std::move(attrs));
  }
};

}  // namespace

TEST_CASE("service header: rngd (-), firstboot (35, LSB block not read), LSB only") {
  auto rngd = is::ParseHeader(Data("rngd.init"));
  REQUIRE(rngd.ok());
  CHECK(rngd->chkconfig);
  CHECK_FALSE(rngd->lsb);  // the description ends chkconfig's reading first
  CHECK(rngd->levels == 0);
  CHECK(rngd->EnableLevels() == 0x3c);  // 2345
  CHECK(rngd->start_priority == 13);
  CHECK(rngd->stop_priority == 87);

  auto fb = is::ParseHeader(Data("firstboot.init"));
  REQUIRE(fb.ok());
  CHECK(is::LevelsText(fb->levels) == "35");
  CHECK(fb->start_priority == 99);
  CHECK(fb->stop_priority == 95);
  CHECK_FALSE(fb->lsb);

  auto lsb = is::ParseHeader(Data("lsb-only.init"));
  REQUIRE(lsb.ok());
  CHECK(lsb->lsb);
  CHECK_FALSE(lsb->chkconfig);
  CHECK(is::LevelsText(lsb->levels) == "2345");
  CHECK(lsb->start_priority == 50);  // chkconfig's LSB default
  CHECK(lsb->stop_priority == 50);
}

TEST_CASE("service header: LSB block first is read; Default-Stop clears; odd input fails cleanly") {
  auto h = is::ParseHeader(
      "#!/bin/sh\n### BEGIN INIT INFO\n# Default-Start: 1 2 3 4 5\n# Default-Stop: 0 1 6\n"
      "# Short-Description: x\n### END INIT INFO\n# chkconfig: 2345 20 80\n");
  REQUIRE(h.ok());
  CHECK(is::LevelsText(h->levels) == "2345");
  CHECK(h->start_priority == 50);  // reading stopped before the chkconfig line

  auto both = is::ParseHeader("# chkconfig: 2345 08 92\n### BEGIN INIT INFO\n");
  REQUIRE(both.ok());  // no description: the LSB marker after it is still read
  CHECK(both->lsb);
  CHECK(both->start_priority == 8);

  for (const char* bad :
       {"# chkconfig: 2345 20\n# description: x\n", "# chkconfig: 2345 20 80 extra\n",
        "# chkconfig: 2345 100 80\n", "# chkconfig: 2385 20 80\n", "# chkconfig: 2345 -1 80\n",
        "# chkconfig:\n", "#!/bin/sh\necho no header\n", "",
        "# Default-Start: 2 3 4 5\n# description: no LSB marker\n"}) {
    CAPTURE(bad);
    auto r = is::ParseHeader(bad);
    CHECK_FALSE(r.ok());
  }
  // Binary garbage and a huge script: an error, no crash.
  std::string garbage(1 << 16, '\0');
  for (size_t i = 0; i < garbage.size(); ++i) garbage[i] = static_cast<char>(i * 131 % 251);
  CHECK_FALSE(is::ParseHeader(garbage).ok());
  std::string huge(8 << 20, '#');
  CHECK_FALSE(is::ParseHeader(huge).ok());
  CHECK(is::ParseHeader(huge + "\n# chkconfig: 35 1 2\n").ok());
}

TEST_CASE("service links: names, two-digit priorities, wanted sets") {
  auto s = is::ParseLinkName("S13rngd", "rngd");
  REQUIRE(s);
  CHECK(s->kind == 'S');
  CHECK(s->priority == 13);
  CHECK(is::ParseLinkName("K05rngd", "rngd")->priority == 5);
  CHECK_FALSE(is::ParseLinkName("S13rngd2", "rngd"));
  CHECK_FALSE(is::ParseLinkName("S1rngd", "rngd"));
  CHECK_FALSE(is::ParseLinkName("X13rngd", "rngd"));
  CHECK_FALSE(is::ParseLinkName("S1xrngd", "rngd"));
  CHECK(is::LinkName{'K', 5}.Text("rngd") == "K05rngd");
  is::Header h;
  h.levels = 0;
  h.start_priority = 13;
  h.stop_priority = 87;
  auto on = is::WantedLinks(h, true);
  std::string got;
  for (const auto& l : on) got += l.Text("x") + " ";
  CHECK(got == "K87x K87x S13x S13x S13x S13x K87x ");
  got.clear();
  for (const auto& l : is::WantedLinks(h, false)) got += l.Text("x") + " ";
  CHECK(got == "K87x K87x K87x K87x K87x K87x K87x ");
  CHECK(is::ValidServiceName("rngd"));
  CHECK(is::ValidServiceName("getty@tty1.service"));
  for (const char* bad : {"", ".", "..", "-x", ".hidden", "a/b", "a b", "a\nb"})
    CHECK_FALSE(is::ValidServiceName(bad));
}

TEST_CASE_FIXTURE(Fixture, "service sysvinit --root: rngd on gives chkconfig's links; idempotent") {
  SeedCentos(root, "rngd", Data("rngd.init"));
  for (int l = 0; l <= 6; ++l)  // what `chkconfig --add rngd` leaves for `-`
    root.Symlink("/etc/rc.d/rc" + std::to_string(l) + ".d/K87rngd", "../init.d/rngd");
  REQUIRE(LinkLines(root, "rngd") == Recorded("rngd-add"));
  Host& h = Open();
  // ensure is not managed under --root: no command runs, nothing reported.
  auto r = Timeline(registry, Svc("rngd", {{"enable", true}, {"ensure", "running"}}), h, root);
  CHECK(r.error == "");
  REQUIRE(r.changes.size() == 1);
  CHECK(r.changes[0].attr == "enable");
  CHECK(LinkLines(root, "rngd") == Recorded("rngd-on"));
  CHECK(root.Exists("/etc/rc.d/rc3.d/K90network"));
  // Absolute link target of the link itself kept as chkconfig writes it.
  CHECK(std::filesystem::read_symlink(root.Real("/etc/rc3.d")) == "rc.d/rc3.d");

  FaultyHost counter(h);
  auto again = Converge(registry, Svc("rngd", {{"enable", true}, {"ensure", "running"}}), counter);
  CHECK(again.status == Converged::kUnchanged);
  CHECK(counter.Count(FaultyHost::Op::kRun) == 0);
}

TEST_CASE_FIXTURE(Fixture, "service sysvinit --root: firstboot off and on; partly enabled") {
  SeedCentos(root, "firstboot", Data("firstboot.init"));
  // After `chkconfig --add firstboot`: S99 in 3 5, K95 elsewhere.
  for (int l = 0; l <= 6; ++l) {
    bool on = l == 3 || l == 5;
    root.Symlink("/etc/rc.d/rc" + std::to_string(l) + ".d/" + (on ? "S99" : "K95") + "firstboot",
                 "../init.d/firstboot");
  }
  REQUIRE(LinkLines(root, "firstboot") == Recorded("firstboot-add"));
  Host& h = Open();
  auto off = Timeline(registry, Svc("firstboot", {{"enable", false}}), h, root);
  CHECK(off.error == "");
  REQUIRE(off.changes.size() == 1);
  CHECK(off.changes[0].from == Value(true));
  CHECK(LinkLines(root, "firstboot") == Recorded("firstboot-off"));

  auto on = Timeline(registry, Svc("firstboot", {{"enable", true}}), h, root);
  CHECK(on.error == "");
  CHECK(LinkLines(root, "firstboot") == Recorded("firstboot-add"));

  // S in level 3 only: neither on nor off.
  std::filesystem::remove(root.Real("/etc/rc.d/rc5.d/S99firstboot"));
  auto partly = Timeline(registry, Svc("firstboot", {{"enable", false}}), h, root);
  REQUIRE(partly.changes.size() == 1);
  CHECK(partly.changes[0].from == Value("partly"));
  CHECK(LinkLines(root, "firstboot") == Recorded("firstboot-off"));
  // Links at other priorities count: S20 in 3 and 5 is enabled already.
  for (int l : {3, 5}) {
    std::string d = "/etc/rc.d/rc" + std::to_string(l) + ".d/";
    std::filesystem::remove(root.Real(d + "K95firstboot"));
    root.Symlink(d + "S20firstboot", "../init.d/firstboot");
  }
  CHECK(Converge(registry, Svc("firstboot", {{"enable", true}}), h).status ==
        Converged::kUnchanged);
}

TEST_CASE_FIXTURE(Fixture, "service sysvinit --root: LSB-only script on a tree without rc dirs") {
  root.Write("/etc/init.d/rsync", Data("lsb-only.init"), 0755);
  Host& h = Open();
  auto r = Timeline(registry, Svc("rsync", {{"enable", true}}), h, root);
  CHECK(r.error == "");
  CHECK(LinkLines(root, "rsync", "/etc/rc%.d") == Recorded("rsync-add"));
}

TEST_CASE_FIXTURE(Fixture, "service sysvinit: no header or no script is a clear error") {
  root.Write("/etc/init.d/plain", "#!/bin/sh\nexit 0\n", 0755);
  Host& h = Open();
  auto r = Converge(registry, Svc("plain", {{"enable", true}}), h);
  CHECK(r.status == Converged::kFailed);
  CHECK(r.error.find("/etc/init.d/plain: no `# chkconfig: LEVELS START STOP` line") !=
        std::string::npos);
  auto before = root.Snapshot();
  auto missing = Converge(registry, Svc("ghost", {{"enable", true}}), h);
  CHECK(missing.status == Converged::kFailed);
  CHECK(missing.error.find("no init script /etc/init.d/ghost") != std::string::npos);
  // A plan says what it would do once a package brings the script.
  auto plan = Converge(registry, Svc("ghost", {{"enable", true}}), h, true);
  CHECK(plan.status == Converged::kChanged);
  CHECK(plan.message.find("would enable once /etc/init.d/ghost exists") != std::string::npos);
  CHECK(root.Snapshot() == before);
  // Disabling what has no links at all changes nothing.
  CHECK(Converge(registry, Svc("ghost", {{"enable", false}}), h).status == Converged::kUnchanged);
}

TEST_CASE_FIXTURE(Fixture, "service sysvinit: chkconfig itself when the root has it (chrooted)") {
  if (geteuid() != 0) {
    MESSAGE("skipped: chroot needs root");
    return;
  }
  // Debian has no chkconfig: a recording stand-in in the root (a real dash
  // and its libraries copied in) shows which calls keel makes, chrooted.
  namespace fs = std::filesystem;
  for (const char* lib : {"/lib/x86_64-linux-gnu/libc.so.6", "/lib64/ld-linux-x86-64.so.2"}) {
    if (!fs::exists(lib)) {
      MESSAGE("skipped: no " << lib);
      return;
    }
    fs::create_directories(fs::path(root.Real(lib)).parent_path());
    fs::copy_file(fs::canonical(lib), root.Real(lib));
  }
  root.Mkdir("/bin");
  fs::copy_file("/bin/dash", root.Real("/bin/sh"));
  ::chmod(root.Real("/bin/sh").c_str(), 0755);
  root.Write("/sbin/chkconfig", "#!/bin/sh\necho \"$@\" >> /var/log/chkconfig.log\n", 0755);
  root.Mkdir("/var/log");
  SeedCentos(root, "rngd", Data("rngd.init"));
  Host& h = Open();
  auto r = Converge(registry, Svc("rngd", {{"enable", true}}), h);
  // The stand-in makes no links, so the re-read still differs: the calls
  // are what this test is about.
  CHECK(root.Read("/var/log/chkconfig.log") ==
        "--add rngd\n--level 2345 rngd on\n--level 016 rngd off\n");
  fs::remove(root.Real("/var/log/chkconfig.log"));
  root.Symlink("/etc/rc.d/rc3.d/S13rngd", "../init.d/rngd");
  Converge(registry, Svc("rngd", {{"enable", false}}), h);
  CHECK(root.Read("/var/log/chkconfig.log") == "--add rngd\n--level 0123456 rngd off\n");
  (void)r;
}

TEST_CASE_FIXTURE(Fixture, "service: load-time checks") {
  Resource r;
  r.ref = {"service", "../etc/passwd"};
  auto problems = PrepareResource(*registry.Find("service"), r);
  REQUIRE(problems.size() == 1);
  CHECK(problems[0].attr == "name");
  Resource e;
  e.ref = {"service", "rngd"};
  e.attrs.Set("ensure", Value("started"));
  auto p2 = PrepareResource(*registry.Find("service"), e);
  REQUIRE(p2.size() == 1);
  CHECK(p2[0].attr == "ensure");
  Resource x;
  x.ref = {"service", "rngd"};
  x.attrs.Set("restart", Value(""));
  auto p3 = PrepareResource(*registry.Find("service"), x);
  REQUIRE(p3.size() == 1);
  CHECK(p3[0].attr == "restart");
  CHECK(registry.Find("service")->requires_same_name == std::vector<std::string>{"package"});
}

namespace {

/// A live host whose `systemctl` is a stand-in: systemd cannot run as PID 1
/// here, so the live systemd half is driven through this double (the
/// --root half runs the real systemctl in tests/cli/service_root.sh). It
/// keeps one unit's active/enabled state, answers is-active/is-enabled as
/// systemctl does (exit 0/3, "enabled"/"disabled"), and records every call.
class FakeSystemdHost : public Host {
 public:
  explicit FakeSystemdHost(Host& base) : base_(base) {}
  bool active = false;
  std::string enabled = "disabled";
  std::vector<std::string> calls;  // non-query calls, "start rngd.service"
  int queries = 0;

  bool live() const override { return true; }
  const std::string& root() const override { return root_; }
  Result<std::optional<std::string>> ReadFile(const HostPath& p) override {
    return base_.ReadFile(p);
  }
  Result<FileInfo> Lstat(const HostPath& p) override { return base_.Lstat(p); }
  Result<FileInfo> Stat(const HostPath& p) override { return base_.Stat(p); }
  Result<std::vector<std::string>> ListDir(const HostPath& p) override { return base_.ListDir(p); }
  Result<void> WriteFileAtomic(const HostPath& p, std::string_view d, const FileAttrs& a) override {
    return base_.WriteFileAtomic(p, d, a);
  }
  Result<void> MakeDir(const HostPath& p, const FileAttrs& a) override {
    return base_.MakeDir(p, a);
  }
  Result<void> Symlink(const HostPath& p, const std::string& t) override {
    return base_.Symlink(p, t);
  }
  Result<void> Remove(const HostPath& p, bool r, bool b) override { return base_.Remove(p, r, b); }
  Result<void> SetAttrs(const HostPath& p, const FileAttrs& a) override {
    return base_.SetAttrs(p, a);
  }
  Result<CommandResult> Run(const Command& cmd) override {
    CommandResult r;
    r.exit_code = 0;
    if (!cmd.shell.empty()) {  // a `restart` command: recorded, not run
      calls.push_back("sh: " + cmd.shell);
      return r;
    }
    if (cmd.argv.empty() || cmd.argv[0] != "systemctl") return base_.Run(cmd);
    const std::string& verb = cmd.argv[1];
    if (verb == "is-active") {
      ++queries;
      r.exit_code = active ? 0 : 3;
      r.out = active ? "active\n" : "inactive\n";
      return r;
    }
    if (verb == "is-enabled") {
      ++queries;
      r.exit_code = enabled == "enabled" ? 0 : 1;
      r.out = enabled + "\n";
      return r;
    }
    calls.push_back(verb + " " + cmd.argv[2]);
    if (verb == "start" || verb == "restart") active = true;
    if (verb == "stop") active = false;
    if (verb == "enable") enabled = "enabled";
    if (verb == "disable") enabled = "disabled";
    return r;
  }

 private:
  Host& base_;
  std::string root_ = "/";
};

}  // namespace

TEST_CASE_FIXTURE(Fixture, "service systemd live (stand-in systemctl): start, enable, refresh") {
  root.Mkdir("/etc");
  Host& base = Open();
  FakeSystemdHost h(base);
  Resource svc = MakeResource(registry, "service", "rngd",
                              {{"ensure", "running"}, {"enable", true}, {"provider", "systemd"}});
  // The plan runs the queries only.
  auto plan = Converge(registry, svc, h, true);
  CHECK(plan.status == Converged::kChanged);
  CHECK(plan.changes.size() == 2);
  CHECK(h.calls.empty());
  CHECK(h.queries > 0);
  auto r = Converge(registry, svc, h);
  CHECK(r.error == "");
  CHECK(h.calls == std::vector<std::string>{"enable rngd.service", "start rngd.service"});
  CHECK(Converge(registry, svc, h).status == Converged::kUnchanged);

  // A file change notifies: a running service is restarted, once.
  Resource conf = MakeResource(registry, "file", "/etc/rngd.conf", {{"content", "a\n"}});
  conf.notify.push_back({svc.ref, 1, 1});
  h.calls.clear();
  auto rs = keel::testing::ConvergeAll(registry, {conf, svc}, h);
  CHECK(rs[1].refreshed);
  CHECK(h.calls == std::vector<std::string>{"restart rngd.service"});

  // Stopped behind keel's back: observed, started again; the notify of the
  // same run does not restart what was just started.
  h.active = false;
  h.calls.clear();
  root.Write("/etc/rngd.conf", "changed behind keel's back\n");
  rs = keel::testing::ConvergeAll(registry, {conf, svc}, h);
  CHECK(rs[1].status == Converged::kChanged);
  CHECK(h.calls == std::vector<std::string>{"start rngd.service"});
  CHECK(rs[1].message.find("started in this run; not restarted") != std::string::npos);

  // ensure stopped: stop; a refresh of a stopped service does nothing.
  Resource off = MakeResource(registry, "service", "rngd",
                              {{"ensure", "stopped"}, {"enable", false}, {"provider", "systemd"}});
  off.notify = {};
  h.calls.clear();
  CHECK(Converge(registry, off, h).status == Converged::kChanged);
  CHECK(h.calls == std::vector<std::string>{"disable rngd.service", "stop rngd.service"});
  root.Write("/etc/rngd.conf", "again\n");
  h.calls.clear();
  rs = keel::testing::ConvergeAll(registry, {conf, off}, h);
  CHECK(h.calls.empty());
  CHECK(rs[1].message.find("not running; not restarted") != std::string::npos);

  // A custom restart command is what a refresh runs.
  h.active = true;
  Resource custom =
      MakeResource(registry, "service", "rngd",
                   {{"provider", "systemd"}, {"restart", "echo custom > /etc/restarted"}});
  root.Write("/etc/rngd.conf", "once more\n");
  h.calls.clear();
  rs = keel::testing::ConvergeAll(registry, {conf, custom}, h);
  CHECK(h.calls == std::vector<std::string>{"sh: echo custom > /etc/restarted"});
  CHECK(rs[1].error == "");
}

TEST_CASE_FIXTURE(Fixture, "service systemd: static units have no enablement to change") {
  Host& base = Open();
  FakeSystemdHost h(base);
  h.enabled = "static";
  h.active = true;
  auto r = Converge(
      registry,
      MakeResource(registry, "service", "dbus", {{"enable", false}, {"provider", "systemd"}}), h);
  CHECK(r.status == Converged::kUnchanged);
  CHECK(h.calls.empty());
}
