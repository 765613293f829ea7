// sysctl type: the sysctl.conf format on strings, the persistent half on a
// TempRoot, and the live half for real inside a fresh network namespace of
// a forked child (net.ipv4.ip_forward is per namespace; skipped when not
// root).
#include <doctest/doctest.h>
#include <sched.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "engine/host_real.h"
#include "engine/registry.h"
#include "resources/sysctl/sysctl_conf.h"
#include "tests/unit/support/converge.h"
#include "tests/unit/support/temp_root.h"
#include "tests/unit/support/test_data.h"

using namespace keel;
using keel::sysctl::SysctlConf;
using keel::testing::Converge;
using keel::testing::Converged;
using keel::testing::MakeResource;
using keel::testing::TempRoot;

namespace {

std::string DataFile(const std::string& name) {
  return keel::testing::TestData("sysfiles/" + name);
}

std::string SetKey(const std::string& text, const std::string& key, const std::string& value) {
  SysctlConf f = SysctlConf::Parse(text);
  f.Set(key, value);
  return f.Render();
}

std::string ReadReal(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

struct Fixture {
  Registry registry;
  TempRoot root;
  std::unique_ptr<Host> host;
  Fixture() {
    RegisterBuiltinTypes(registry);
    auto h = OpenRealHost(root.path(), nullptr);
    REQUIRE_MESSAGE(h.ok(), (h.ok() ? "" : h.error().message));
    host = std::move(*h);
  }
  Resource Make(const std::string& title, Attrs attrs) {
    return MakeResource(registry, "sysctl", title, std::move(attrs));
  }
};

}  // namespace

TEST_CASE("sysctl_conf: parse and render give back the exact bytes of real files") {
  std::string text = DataFile("sysctl.conf.debian");
  CHECK(SysctlConf::Parse(text).Render() == text);
  for (std::string t : {"", "x", "; c\n  # c\n", " -net.a = 1 \r\n", "garbage line\n=\n"})
    CHECK(SysctlConf::Parse(t).Render() == t);
}

TEST_CASE("sysctl_conf: keys in dot or slash form, last assignment wins") {
  CHECK(sysctl::KeyPath("net.ipv4.ip_forward") == "net/ipv4/ip_forward");
  CHECK(sysctl::KeyPath("net/ipv4/conf/eth0.100/rp_filter") == "net/ipv4/conf/eth0.100/rp_filter");
  CHECK(sysctl::NormalizeValue(" 4096\t87380   6291456 ") == "4096 87380 6291456");
  SysctlConf f = SysctlConf::Parse("net.a = 1\n-net/a=2\n#net.a = 3\n");
  CHECK(f.Get("net.a") == "2");
  CHECK(f.Get("net/a") == "2");
  CHECK_FALSE(f.Get("net.b"));
}

TEST_CASE("sysctl_conf: set changes only the value bytes, keeps spacing, appends in style") {
  std::string debian = DataFile("sysctl.conf.debian");
  // Debian's file has the key commented out: a new line is appended.
  CHECK(SetKey(debian, "net.ipv4.ip_forward", "1") == debian + "net.ipv4.ip_forward = 1\n");
  CHECK(SetKey("kernel.x=1\n", "net.y", "2") == "kernel.x=1\nnet.y=2\n");
  CHECK(SetKey("# c\n  net.ipv4.ip_forward\t=  0   \r\n", "net/ipv4/ip_forward", "1") ==
        "# c\n  net.ipv4.ip_forward\t=  1   \r\n");
  std::string tabbed = "net.ipv4.tcp_rmem = 4096\t87380\t6291456\n";
  CHECK(SetKey(tabbed, "net.ipv4.tcp_rmem", "4096 87380 6291456") == tabbed);
  CHECK(SetKey("a = 1\nb = 2\na = 3", "a", "4") == "a = 4\nb = 2\na = 4");
  CHECK(SetKey("no newline", "a", "1") == "no newline\na = 1\n");
}

TEST_CASE("sysctl: load-time checks") {
  Registry r;
  RegisterBuiltinTypes(r);
  CHECK_THROWS_WITH(MakeResource(r, "sysctl", "net.ipv4.ip_forward", {}),
                    doctest::Contains("missing required attribute 'value'"));
  CHECK_THROWS_WITH(MakeResource(r, "sysctl", "net ipv4", {{"value", "1"}}),
                    doctest::Contains("not a sysctl key"));
  auto ok = MakeResource(r, "sysctl", "net.ipv4.ip_forward", {{"value", 1}});
  CHECK(ok.GetString("value") == "1");
  CHECK(ResourceIdentity(*r.Find("sysctl"), ok) ==
        ResourceIdentity(*r.Find("sysctl"),
                         MakeResource(r, "sysctl", "net/ipv4/ip_forward", {{"value", 1}})));
}

TEST_CASE_FIXTURE(Fixture,
                  "sysctl: timeline under a root: file only, idempotent, foreign bytes kept") {
  Resource fwd = Make("net.ipv4.netfilter.ip_conntrack_tcp_be_liberal", {{"value", 1}});
  auto before = root.Snapshot();
  auto plan = Converge(registry, fwd, *host, true);
  CHECK(plan.status == Converged::kChanged);
  CHECK(root.Snapshot() == before);
  for (const auto& c : plan.changes) CHECK(c.attr != "live_value");  // never under --root
  auto r = Converge(registry, fwd, *host);
  CHECK_MESSAGE(r.status == Converged::kChanged, r.error);
  CHECK(root.Read("/etc/sysctl.d/99-keel.conf") ==
        "net.ipv4.netfilter.ip_conntrack_tcp_be_liberal = 1\n");
  CHECK(root.Mode("/etc/sysctl.d") == 0755);
  CHECK(root.Mode("/etc/sysctl.d/99-keel.conf") == 0644);
  CHECK(Converge(registry, fwd, *host).status == Converged::kUnchanged);

  std::string debian = DataFile("sysctl.conf.debian");
  root.Write("/etc/sysctl.conf", debian);
  Resource syn = Make("net/ipv4/tcp_syncookies", {{"value", 1}, {"file", "/etc/sysctl.conf"}});
  auto s = Converge(registry, syn, *host);
  CHECK(s.status == Converged::kChanged);
  CHECK(s.changes[0].attr == "value");
  CHECK(root.Read("/etc/sysctl.conf") == debian + "net/ipv4/tcp_syncookies = 1\n");
  Resource syn0 = Make("net.ipv4.tcp_syncookies", {{"value", 0}, {"file", "/etc/sysctl.conf"}});
  CHECK(Converge(registry, syn0, *host).status == Converged::kChanged);
  CHECK(root.Read("/etc/sysctl.conf") == debian + "net/ipv4/tcp_syncookies = 0\n");
  CHECK(Converge(registry, syn0, *host).status == Converged::kUnchanged);
}

TEST_CASE_FIXTURE(Fixture, "sysctl: a binary file is refused and left alone") {
  root.Write("/etc/sysctl.d/99-keel.conf", std::string("a = 1\n\0\0", 8));
  auto before = root.Snapshot();
  auto r = Converge(registry, Make("net.ipv4.ip_forward", {{"value", 1}}), *host);
  CHECK(r.status == Converged::kFailed);
  CHECK(r.error.find("binary") != std::string::npos);
  CHECK(root.Snapshot() == before);
}

TEST_CASE("sysctl: live half for real in a new network namespace") {
  if (geteuid() != 0) {
    MESSAGE("skipped: needs root for a network namespace");
    return;
  }
  TempRoot dir;
  std::string file = dir.Real("/sysctl.d/99-keel.conf");
  std::string host_before = ReadReal("/proc/sys/net/ipv4/ip_forward");
  std::string want = host_before == "1\n" ? "0" : "1";
  pid_t pid = fork();
  if (pid == 0) {
    if (unshare(CLONE_NEWNET) != 0) _exit(77);
    Registry registry;
    RegisterBuiltinTypes(registry);
    auto h = OpenRealHost("/", nullptr);
    if (!h.ok() || !(*h)->live()) _exit(2);
    std::string start = ReadReal("/proc/sys/net/ipv4/ip_forward");
    Resource r =
        MakeResource(registry, "sysctl", "net.ipv4.ip_forward", {{"value", want}, {"file", file}});
    if (start == want + "\n") _exit(3);  // a fresh namespace starts at the default
    auto plan = Converge(registry, r, **h, true);
    if (plan.status != Converged::kChanged || plan.changes.back().attr != "live_value") _exit(4);
    if (ReadReal("/proc/sys/net/ipv4/ip_forward") != start) _exit(5);  // plan wrote nothing
    auto ap = Converge(registry, r, **h);
    if (ap.status != Converged::kChanged) {
      fprintf(stderr, "apply: %s\n", ap.error.c_str());
      _exit(6);
    }
    if (ReadReal("/proc/sys/net/ipv4/ip_forward") != want + "\n") _exit(7);
    if (Converge(registry, r, **h).status != Converged::kUnchanged) _exit(8);
    // Only the live half differs: only it is reported.
    Resource back =
        MakeResource(registry, "sysctl", "net.ipv4.ip_forward", {{"value", want}, {"file", file}});
    if (FILE* f = fopen("/proc/sys/net/ipv4/ip_forward", "w")) {
      fputs(start.c_str(), f);
      fclose(f);
    }
    auto live = Converge(registry, back, **h);
    if (live.status != Converged::kChanged || live.changes.size() != 1 ||
        live.changes[0].attr != "live_value")
      _exit(9);
    _exit(0);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  int rc = WIFEXITED(status) ? WEXITSTATUS(status) : 100;
  if (rc == 77) {
    MESSAGE("skipped: unshare(CLONE_NEWNET) not permitted");
    return;
  }
  CHECK(rc == 0);
  CHECK(ReadReal(file) == "net.ipv4.ip_forward = " + want + "\n");
  CHECK(ReadReal("/proc/sys/net/ipv4/ip_forward") == host_before);  // the host's own value
}
