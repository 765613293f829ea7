// mount type: the fstab format on strings (with findmnt as a second,
// independent reader), the provider timeline on a TempRoot, and the live
// half for real: a tmpfs mounted and unmounted inside a private mount
// namespace of a forked child (skipped when not root).
#include <doctest/doctest.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>

#include "engine/host_real.h"
#include "engine/registry.h"
#include "resources/mount/fstab.h"
#include "tests/unit/support/converge.h"
#include "tests/unit/support/temp_root.h"
#include "tests/unit/support/test_data.h"

using namespace keel;
using keel::fstab::Entry;
using keel::fstab::Fstab;
using keel::testing::Converge;
using keel::testing::Converged;
using keel::testing::MakeResource;
using keel::testing::TempRoot;

namespace {

std::string DataFile(const std::string& name) {
  return keel::testing::TestData("sysfiles/" + name);
}

std::string RunCapture(const std::string& cmd) {
  std::string out;
  FILE* p = popen(cmd.c_str(), "r");
  REQUIRE(p);
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  pclose(p);
  return out;
}

// util-linux's own fstab parser.
std::string Findmnt(const std::string& file, const std::string& point) {
  return RunCapture("findmnt --fstab --tab-file " + file + " -n -o TARGET,SOURCE,FSTYPE,OPTIONS " +
                    point + " 2>&1");
}

std::string SetEntry(const std::string& text, Entry e) {
  Fstab f = Fstab::Parse(text);
  f.Set(e);
  return f.Render();
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
    return MakeResource(registry, "mount", title, std::move(attrs));
  }
};

}  // namespace

TEST_CASE("fstab: parse and render give back the exact bytes of real files") {
  for (const char* name :
       {"fstab.debian-unconfigured", "fstab.util-linux-example", "fstab.ec2-centos5"}) {
    std::string text = DataFile(name);
    CHECK_MESSAGE(Fstab::Parse(text).Render() == text, name);
  }
  for (std::string text : {"", "x", "/dev/a / ext4 defaults 0 1 extra\r\n", "  # c\n\t\n"})
    CHECK(Fstab::Parse(text).Render() == text);
}

TEST_CASE("fstab: escapes, find, missing dump/pass are 0") {
  CHECK(fstab::Encode("/mnt/my disk\\x") == "/mnt/my\\040disk\\134x");
  CHECK(fstab::Decode("/mnt/my\\040disk\\134x") == "/mnt/my disk\\x");
  CHECK(fstab::Decode("\\04") == "\\04");
  Fstab f = Fstab::Parse("LABEL=a\\040b /mnt/my\\040disk ext4 noatime\n");
  auto e = f.Find("/mnt/my disk");
  REQUIRE(e);
  CHECK(e->device == "LABEL=a b");
  CHECK(e->dump == "0");
  CHECK(e->pass == "0");
  CHECK_FALSE(f.Find("/mnt/my\\040disk"));
}

TEST_CASE("fstab: an aligned file gets new and changed lines on its columns") {
  std::string text = DataFile("fstab.ec2-centos5");
  std::string added = SetEntry(text, {"/dev/sdb", "/mnt", "ext3", "defaults,noatime", "0", "2"});
  CHECK(added ==
        text + "/dev/sdb                /mnt                    ext3    defaults,noatime 0 2\n");
  std::string changed = SetEntry(text, {"/dev/xvda1", "/", "ext4", "defaults", "1", "1"});
  CHECK(changed.substr(0, changed.find('\n')) ==
        "/dev/xvda1              /                       ext4    defaults        1 1");
  CHECK(changed.substr(changed.find('\n')) == text.substr(text.find('\n')));
  // The util-linux example: columns 42, 53, 60, 76, 81.
  std::string ex = DataFile("fstab.util-linux-example");
  std::string ex2 = SetEntry(ex, {"tmpfs", "/tmp", "tmpfs", "mode=1777", "0", "0"});
  CHECK(ex2 ==
        ex +
            "tmpfs                                     /tmp       tmpfs  mode=1777       0    0\n");
}

TEST_CASE("fstab: single-tab and single-space files stay so; dump/pass kept missing") {
  CHECK(SetEntry("/dev/a\t/\text4\tdefaults\t0\t1\n",
                 {"/dev/b", "/srv", "xfs", "defaults", "0", "2"}) ==
        "/dev/a\t/\text4\tdefaults\t0\t1\n/dev/b\t/srv\txfs\tdefaults\t0\t2\n");
  CHECK(SetEntry("/dev/a / ext4 defaults\n", {"/dev/a", "/", "ext4", "ro", "0", "0"}) ==
        "/dev/a / ext4 ro\n");
  CHECK(SetEntry("/dev/a / ext4 defaults\n", {"/dev/a", "/", "ext4", "defaults", "0", "1"}) ==
        "/dev/a / ext4 defaults 0 1\n");
  CHECK(SetEntry("", {"tmpfs", "/tmp", "tmpfs", "defaults", "0", "0"}) ==
        "tmpfs\t/tmp\ttmpfs\tdefaults\t0\t0\n");
  // Unchanged: same bytes, even with "00".
  std::string odd = "/dev/a  /  ext4  defaults  00 1 \r\n";
  CHECK(SetEntry(odd, {"/dev/a", "/", "ext4", "defaults", "0", "1"}) == odd);
}

TEST_CASE("fstab: duplicates for one point are dropped; remove drops every line") {
  Fstab f = Fstab::Parse("a /x t o\n# c\nb /x t o\nc /y t o\n");
  f.Set({"a", "/x", "t", "o", "0", "0"});
  CHECK(f.Render() == "a /x t o\n# c\nc /y t o\n");
  f.Remove("/y");
  CHECK(f.Render() == "a /x t o\n# c\n");
}

TEST_CASE("fstab: Borrow views the text; changed() says whether an edit changes it") {
  std::string text = "/dev/a\t/\text4\tdefaults\t0\t1\n/dev/b /srv xfs defaults\n";
  auto f = Fstab::Borrow(text);
  f.Set({"/dev/a", "/", "ext4", "defaults", "0", "1"});
  CHECK_FALSE(f.changed());
  f.Remove("/nowhere");
  CHECK_FALSE(f.changed());
  CHECK(f.Render() == text);
  f.Set({"/dev/b", "/srv", "xfs", "noatime", "0", "0"});
  CHECK(f.changed());
  CHECK(f.Find("/srv")->options == "noatime");
  f.Remove("/");
  CHECK(f.Render() == "/dev/b /srv xfs noatime\n");
  CHECK(fstab::DecodedEquals("/mnt/my\\040disk", "/mnt/my disk"));
  CHECK(fstab::DecodedEquals("/mnt/x", "/mnt/x"));
  CHECK_FALSE(fstab::DecodedEquals("/mnt/my\\040disk", "/mnt/my\\040disk"));
}

TEST_CASE("fstab: findmnt reads what we wrote") {
  TempRoot t;
  std::string text = SetEntry(DataFile("fstab.util-linux-example"),
                              {"LABEL=my data", "/srv/my data", "ext4", "noatime,nodev", "0", "2"});
  t.Write("/fstab", text);
  CHECK(Findmnt(t.Real("/fstab"), "'/srv/my data'") ==
        "/srv/my data LABEL=my data ext4   noatime,nodev\n");
  CHECK(Findmnt(t.Real("/fstab"), "/boot").find("/boot  UUID=805e7418") == 0);
}

TEST_CASE("mount: load-time checks") {
  Registry r;
  RegisterBuiltinTypes(r);
  CHECK_THROWS_WITH(MakeResource(r, "mount", "/srv", {{"fstype", "ext4"}}),
                    doctest::Contains("needs 'device'"));
  CHECK_THROWS_WITH(MakeResource(r, "mount", "srv", {{"ensure", "absent"}}),
                    doctest::Contains("absolute path"));
  CHECK_THROWS_WITH(MakeResource(r, "mount", "/srv",
                                 {{"device", "/dev/a"}, {"fstype", "ext4"}, {"options", "a b"}}),
                    doctest::Contains("one word"));
  auto ok = MakeResource(r, "mount", "/srv/", {{"ensure", "absent"}});
  CHECK(ok.GetString("name") == "/srv");
}

TEST_CASE_FIXTURE(Fixture, "mount: timeline: plan exact, apply, idempotent, foreign bytes kept") {
  std::string seed = DataFile("fstab.ec2-centos5");
  root.Write("/etc/fstab", seed);
  Resource m = Make(
      "/mnt", {{"device", "/dev/sdb"}, {"fstype", "ext3"}, {"pass", 2}, {"ensure", "mounted"}});
  auto before = root.Snapshot();
  auto plan = Converge(registry, m, *host, true);
  CHECK(plan.status == Converged::kChanged);
  CHECK(root.Snapshot() == before);
  REQUIRE(plan.changes.size() == 2);  // no "mounted" change under a root
  CHECK(plan.changes[0].attr == "ensure");
  CHECK(plan.changes[1].detail.find("+/dev/sdb ") != std::string::npos);
  auto r = Converge(registry, m, *host);
  CHECK_MESSAGE(r.status == Converged::kChanged, r.error);
  CHECK(root.Read("/etc/fstab") ==
        seed + "/dev/sdb                /mnt                    ext3    defaults        0 2\n");
  CHECK(Findmnt(root.Real("/etc/fstab"), "/mnt") == "/mnt   /dev/sdb ext3   defaults\n");
  CHECK(Converge(registry, m, *host).status == Converged::kUnchanged);

  Resource opts = Make(
      "/mnt", {{"device", "/dev/sdb"}, {"fstype", "ext3"}, {"pass", 2}, {"options", "noatime"}});
  auto o = Converge(registry, opts, *host);
  CHECK(o.status == Converged::kChanged);
  CHECK(o.changes[0].attr == "options");
  CHECK(root.Read("/etc/fstab") ==
        seed + "/dev/sdb                /mnt                    ext3    noatime         0 2\n");

  Resource gone = Make("/mnt", {{"ensure", "absent"}});
  CHECK(Converge(registry, gone, *host).status == Converged::kChanged);
  CHECK(root.Read("/etc/fstab") == seed);
  CHECK(Converge(registry, gone, *host).status == Converged::kUnchanged);
}

TEST_CASE_FIXTURE(Fixture, "mount: a directory as fstab is a clear failure") {
  root.Mkdir("/etc/fstab");
  auto r = Converge(registry, Make("/mnt", {{"device", "a"}, {"fstype", "tmpfs"}}), *host);
  CHECK(r.status == Converged::kFailed);
  CHECK(r.error.find("is a directory") != std::string::npos);
}

// Runs `body` in a forked child inside a private mount namespace; returns
// the child's exit status (0 ok), or -1 when namespaces are unavailable.
template <typename F>
int InMountNamespace(F body) {
  pid_t pid = fork();
  if (pid == 0) {
    if (unshare(CLONE_NEWNS) != 0) _exit(77);
    if (mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) _exit(77);
    _exit(body());
  }
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 100;
}

TEST_CASE("mount: live mounted/unmounted for real in a private mount namespace") {
  if (geteuid() != 0) {
    MESSAGE("skipped: needs root for a mount namespace");
    return;
  }
  TempRoot dir;
  dir.Mkdir("/point");
  dir.Write("/fstab", "# test fstab\n");
  std::string point = dir.Real("/point");
  std::string fstab = dir.Real("/fstab");
  int rc = InMountNamespace([&]() -> int {
    Registry registry;
    RegisterBuiltinTypes(registry);
    auto h = OpenRealHost("/", nullptr);
    if (!h.ok() || !(*h)->live()) return 2;
    Resource m = MakeResource(registry, "mount", point,
                              {{"device", "tmpfs"},
                               {"fstype", "tmpfs"},
                               {"options", "size=1m"},
                               {"ensure", "mounted"},
                               {"target", fstab}});
    auto plan = Converge(registry, m, **h, true);
    if (plan.status != Converged::kChanged || plan.changes.back().attr != "mounted") return 3;
    if (RunCapture("findmnt -n " + point).size() != 0) return 4;  // plan mounted nothing
    auto r = Converge(registry, m, **h);
    if (r.status != Converged::kChanged) {
      fprintf(stderr, "apply: %s\n", r.error.c_str());
      return 5;
    }
    if (RunCapture("findmnt -n -o FSTYPE " + point) != "tmpfs\n") return 6;
    if (Converge(registry, m, **h).status != Converged::kUnchanged) return 7;
    Resource u = MakeResource(registry, "mount", point,
                              {{"device", "tmpfs"},
                               {"fstype", "tmpfs"},
                               {"options", "size=1m"},
                               {"ensure", "unmounted"},
                               {"target", fstab}});
    auto ur = Converge(registry, u, **h);
    if (ur.status != Converged::kChanged || ur.changes.size() != 1) return 8;
    if (RunCapture("findmnt -n " + point).size() != 0) return 9;
    if (Converge(registry, u, **h).status != Converged::kUnchanged) return 10;
    // absent: unmounted (like Puppet) and the line removed.
    if (Converge(registry, m, **h).status != Converged::kChanged) return 11;
    Resource a = MakeResource(registry, "mount", point, {{"ensure", "absent"}, {"target", fstab}});
    auto ar = Converge(registry, a, **h);
    if (ar.status != Converged::kChanged || ar.changes.back().attr != "mounted") return 12;
    if (RunCapture("findmnt -n " + point).size() != 0) return 13;
    if (Converge(registry, a, **h).status != Converged::kUnchanged) return 14;
    return 0;
  });
  if (rc == 77) {
    MESSAGE("skipped: unshare(CLONE_NEWNS) not permitted");
    return;
  }
  CHECK(rc == 0);
  CHECK(dir.Read("/fstab") == "# test fstab\n");
  CHECK(RunCapture("findmnt -n " + point) == "");  // the parent never saw it
}
