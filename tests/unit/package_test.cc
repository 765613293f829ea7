// package through the real transaction with the real package managers:
// .deb files built here with dpkg-deb installed by dpkg --root into a
// TempRoot with its own dpkg database, .rpm files built with rpmbuild
// installed by rpm --root into an empty TempRoot. Timeline (plan leaves
// the tree, apply, second apply changes nothing), several packages in one
// call (the report's message says so), upgrade, removal, failures that name
// the packages, load-time checks. dnf/apt are in tests/integration.
#include <doctest/doctest.h>
#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "engine/host_real.h"
#include "engine/registry.h"
#include "engine/report.h"
#include "tests/unit/support/converge.h"
#include "tests/unit/support/temp_root.h"

using namespace keel;
using keel::testing::ConvergeAll;
using keel::testing::Converged;
using keel::testing::MakeResource;
using keel::testing::TempRoot;
using keel::testing::TimelineAll;

namespace {

bool Have(const char* tool) {
  return std::system((std::string("command -v ") + tool + " >/dev/null 2>&1").c_str()) == 0;
}

void Sh(const std::string& cmd) { REQUIRE_MESSAGE(std::system(cmd.c_str()) == 0, cmd); }

// Builds <dir>/<name>_<version>.deb holding /usr/share/<name>/version.
std::string BuildDeb(const std::string& dir, const std::string& name, const std::string& version,
                     const std::string& extra_control = "") {
  std::string tree = dir + "/build-" + name + "-" + version;
  std::filesystem::create_directories(tree + "/DEBIAN");
  std::filesystem::create_directories(tree + "/usr/share/" + name);
  std::ofstream(tree + "/DEBIAN/control")
      << "Package: " << name << "\nVersion: " << version
      << "\nArchitecture: all\nMaintainer: keel <keel@example.org>\nDescription: keel test\n"
      << extra_control;
  std::ofstream(tree + "/usr/share/" + name + "/version") << version << "\n";
  std::string out = dir + "/" + name + "_" + version + ".deb";
  Sh("dpkg-deb --root-owner-group -b " + tree + " " + out + " >/dev/null");
  return out;
}

// Builds <dir>/<name>-<version>-<release>.noarch.rpm.
std::string BuildRpm(const std::string& dir, const std::string& name, const std::string& version,
                     const std::string& release) {
  std::string spec = dir + "/" + name + "-" + version + ".spec";
  std::ofstream(spec) << "Name: " << name << "\nVersion: " << version << "\nRelease: " << release
                      << "\nSummary: keel test\nLicense: MIT\nBuildArch: noarch\n"
                      << "%description\nkeel test\n%install\nmkdir -p %{buildroot}/usr/share/"
                      << name << "\necho " << version << " > %{buildroot}/usr/share/" << name
                      << "/version\n%files\n/usr/share/" << name << "/version\n";
  Sh("rpmbuild -bb --define '_topdir " + dir + "/top' --define '__os_install_post %{nil}' " + spec +
     " >/dev/null 2>&1");
  std::string out =
      dir + "/top/RPMS/noarch/" + name + "-" + version + "-" + release + ".noarch.rpm";
  REQUIRE(std::filesystem::exists(out));
  return out;
}

// A root with an empty dpkg database, as a Debian image has before packages.
void SeedDpkgRoot(TempRoot& root) {
  root.Write("/var/lib/dpkg/status", "");
  root.Mkdir("/var/lib/dpkg/info");
  root.Mkdir("/var/lib/dpkg/updates");
  root.Mkdir("/var/log");
  root.Write("/etc/keep.conf", "unmanaged\n");
}

struct Fixture {
  Registry reg;
  TempRoot root;
  TempRoot repo;  // package files, outside the root (the config repo)
  std::unique_ptr<Host> host;
  Fixture() {
    RegisterBuiltinTypes(reg);
    auto h = OpenRealHost(root.path(), nullptr);
    REQUIRE(h.ok());
    host = std::move(*h);
  }
  Resource Pkg(const std::string& name, Attrs attrs) {
    return MakeResource(reg, "package", name, std::move(attrs));
  }
  std::string Query(const std::string& name) {
    std::string cmd = "dpkg-query --admindir=" + root.path() +
                      "/var/lib/dpkg -W -f='${Version} ${db:Status-Abbrev}' " + name +
                      " 2>/dev/null > " + repo.path() + "/q.out";
    if (std::system(cmd.c_str()) != 0) return "";
    std::ifstream in(repo.path() + "/q.out");
    std::string v, s;
    in >> v >> s;
    return v + " " + s;
  }
};

}  // namespace

TEST_CASE_FIXTURE(Fixture, "package dpkg: two .deb files into a --root tree in one dpkg call") {
  if (!Have("dpkg-deb") || !Have("dpkg")) return;  // not a Debian machine
  SeedDpkgRoot(root);
  std::string a = BuildDeb(repo.path(), "keeltest-a", "1.0-1");
  std::string b = BuildDeb(repo.path(), "keeltest-b", "2.0-1");
  std::vector<Resource> rs = {Pkg("keeltest-a", {{"source", a}}),
                              Pkg("keeltest-b", {{"source", b}, {"ensure", "2.0-1"}})};
  // Plan: the tree stays byte for byte; apply; the second apply changes nothing.
  auto applied = TimelineAll(reg, rs, *host, root);
  CHECK(applied[0].changes.at(0).to == Value("1.0-1"));
  CHECK(root.Read("/usr/share/keeltest-a/version") == "1.0-1\n");
  CHECK(root.Read("/usr/share/keeltest-b/version") == "2.0-1\n");
  CHECK(Query("keeltest-a") == "1.0-1 ii");
  // One call installed both: each report says so.
  CHECK(applied[0].message.find("installed by one dpkg call for 2 packages") != std::string::npos);
  CHECK(applied[0].message.find("(1 package-manager call this run)") != std::string::npos);
  // The root's own log, the root's own database; unmanaged files stay.
  CHECK(root.Read("/var/log/dpkg.log").find("install keeltest-a") != std::string::npos);
  CHECK(root.Read("/etc/keep.conf") == "unmanaged\n");
}

TEST_CASE_FIXTURE(Fixture, "package dpkg: upgrade to a newer .deb, latest, downgrade, removal") {
  if (!Have("dpkg-deb") || !Have("dpkg")) return;
  SeedDpkgRoot(root);
  std::string v1 = BuildDeb(repo.path(), "keeltest-a", "1.0-1");
  std::string v2 = BuildDeb(repo.path(), "keeltest-a", "1.10-1");
  REQUIRE(ConvergeAll(reg, {Pkg("keeltest-a", {{"source", v1}})}, *host)[0].status ==
          Converged::kChanged);
  // present with any version installed: in sync, even with a newer file.
  CHECK(ConvergeAll(reg, {Pkg("keeltest-a", {{"source", v2}})}, *host)[0].status ==
        Converged::kUnchanged);
  // latest from the file: 1.10 > 1.0 (dpkg's ordering; as text it is smaller).
  auto up = testing::Timeline(reg, Pkg("keeltest-a", {{"source", v2}, {"ensure", "latest"}}), *host,
                              root);
  REQUIRE(up.changes.size() == 1);
  CHECK(up.changes[0].from == Value("1.0-1"));
  CHECK(up.changes[0].to == Value("1.10-1"));
  CHECK(Query("keeltest-a") == "1.10-1 ii");
  // An older file is not "latest".
  CHECK(ConvergeAll(reg, {Pkg("keeltest-a", {{"source", v1}, {"ensure", "latest"}})}, *host)[0]
            .status == Converged::kUnchanged);
  // ensure VERSION installs exactly that version (a downgrade here).
  auto down = ConvergeAll(reg, {Pkg("keeltest-a", {{"source", v1}, {"ensure", "1.0-1"}})}, *host);
  CHECK(down[0].status == Converged::kChanged);
  CHECK(Query("keeltest-a") == "1.0-1 ii");
  // A file of another version than ensure is a clear error, nothing runs.
  auto wrong = ConvergeAll(reg, {Pkg("keeltest-a", {{"source", v2}, {"ensure", "1.0-1"}})}, *host);
  CHECK(wrong[0].status == Converged::kFailed);
  CHECK(wrong[0].error.find("is version 1.10-1, not 1.0-1") != std::string::npos);
  // Removal: dpkg --remove, in sync afterwards; no source needed.
  auto gone = testing::Timeline(
      reg, Pkg("keeltest-a", {{"ensure", "absent"}, {"provider", "dpkg"}}), *host, root);
  CHECK_FALSE(gone.changes[0].to.has_value());  // absent
  CHECK_FALSE(root.Exists("/usr/share/keeltest-a/version"));
}

TEST_CASE_FIXTURE(Fixture,
                  "package dpkg: a failing transaction names the packages and dpkg's words") {
  if (!Have("dpkg-deb") || !Have("dpkg")) return;
  SeedDpkgRoot(root);
  // Depends on a package nobody has: dpkg leaves it unconfigured and fails.
  std::string bad = BuildDeb(repo.path(), "keeltest-bad", "1.0", "Depends: keel-no-such-dep\n");
  std::string ok = BuildDeb(repo.path(), "keeltest-ok", "1.0");
  std::vector<Resource> rs = {Pkg("keeltest-bad", {{"source", bad}}),
                              Pkg("keeltest-ok", {{"source", ok}})};
  Report report;
  auto got = ConvergeAll(reg, rs, *host, false, nullptr, &report);
  REQUIRE(got[0].status == Converged::kFailed);
  CHECK(got[0].error.find("installing keeltest-bad, keeltest-ok with dpkg") != std::string::npos);
  CHECK(got[0].error.find("keel-no-such-dep") != std::string::npos);  // dpkg's last lines
  // The broken package is not "installed" (half-configured): the next run
  // tries again rather than calling it done.
  auto again = ConvergeAll(reg, {rs[0]}, *host);
  CHECK(again[0].status == Converged::kFailed);

  // A source that is not a package, and one holding another package.
  static const char kJunk[] =
      "\x7f"
      "ELF garbage\0\xff";
  std::ofstream(repo.path() + "/junk.deb") << std::string(kJunk, sizeof kJunk - 1);
  auto junk = ConvergeAll(reg, {Pkg("junk", {{"source", repo.path() + "/junk.deb"}})}, *host);
  CHECK(junk[0].status == Converged::kFailed);
  CHECK(junk[0].error.find("junk.deb") != std::string::npos);
  auto other = ConvergeAll(reg, {Pkg("keeltest-x", {{"source", ok}})}, *host);
  CHECK(other[0].error.find("holds package 'keeltest-ok', not 'keeltest-x'") != std::string::npos);
  // dpkg without a source cannot install.
  auto nosrc = ConvergeAll(reg, {Pkg("keeltest-y", {{"provider", "dpkg"}})}, *host);
  CHECK(nosrc[0].error.find("set source") != std::string::npos);
}

TEST_CASE_FIXTURE(Fixture, "package dpkg: an absolute symlink at the root's top is refused") {
  if (!Have("dpkg-deb") || !Have("dpkg")) return;
  SeedDpkgRoot(root);
  root.Symlink("/usr", "/usr");  // would lead dpkg onto the build machine's /usr
  std::string a = BuildDeb(repo.path(), "keeltest-a", "1.0-1");
  auto got = ConvergeAll(reg, {Pkg("keeltest-a", {{"source", a}})}, *host);
  CHECK(got[0].status == Converged::kFailed);
  CHECK(got[0].error.find("absolute symlink") != std::string::npos);
  CHECK_FALSE(std::filesystem::exists("/usr/share/keeltest-a"));
}

TEST_CASE_FIXTURE(Fixture, "package rpm: .rpm files into an empty --root tree, upgrade, removal") {
  if (!Have("rpmbuild") || !Have("rpm")) return;
  std::string a1 = BuildRpm(repo.path(), "keeltest-a", "1.0", "1");
  std::string a2 = BuildRpm(repo.path(), "keeltest-a", "1.0", "10");
  std::string b = BuildRpm(repo.path(), "keeltest-b", "2.0", "1");
  std::vector<Resource> rs = {Pkg("keeltest-a", {{"source", a1}}),
                              Pkg("keeltest-b", {{"source", b}})};
  root.Mkdir("/etc");
  auto applied = TimelineAll(reg, rs, *host, root);
  CHECK(applied[1].message.find("installed by one rpm call for 2 packages") != std::string::npos);
  CHECK(root.Read("/usr/share/keeltest-b/version") == "2.0\n");
  // RedHat's database path inside the root, not Debian's ~/.rpmdb.
  CHECK(root.Exists("/var/lib/rpm"));
  CHECK_FALSE(root.Exists("/root/.rpmdb"));
  // Release 10 > release 1 (rpm's ordering; as text it is smaller).
  auto up = testing::Timeline(reg, Pkg("keeltest-a", {{"source", a2}, {"ensure", "latest"}}), *host,
                              root);
  CHECK(up.changes[0].from == Value("0:1.0-1"));
  CHECK(up.changes[0].to == Value("0:1.0-10"));
  // ensure: 1.0 (no release) matches 1.0-10.
  CHECK(
      ConvergeAll(reg, {Pkg("keeltest-a", {{"source", a2}, {"ensure", "1.0"}})}, *host)[0].status ==
      Converged::kUnchanged);
  auto gone = testing::TimelineAll(reg,
                                   {Pkg("keeltest-a", {{"ensure", "absent"}, {"provider", "rpm"}}),
                                    Pkg("keeltest-b", {{"ensure", "absent"}, {"provider", "rpm"}})},
                                   *host, root);
  CHECK(gone[0].message.find("removed by one rpm call for 2 packages") != std::string::npos);
  CHECK_FALSE(root.Exists("/usr/share/keeltest-b/version"));
}

TEST_CASE_FIXTURE(Fixture, "package: provider auto and load-time checks") {
  auto problems = [&](Attrs attrs, const std::string& title = "ipmitool") {
    Resource r;
    r.ref = {"package", title};
    r.attrs = std::move(attrs);
    auto p = PrepareResource(*reg.Find("package"), r);
    return p.empty() ? std::string() : p[0].message;
  };
  CHECK(problems({}) == "");
  CHECK(problems({{"ensure", "1.8.11-30.el6"}}) == "");
  CHECK(problems({{"ensure", "2:1.0^git1"}, {"provider", "dnf"}}) == "");
  CHECK(problems({{"ensure", "newest"}}).find("neither present, absent, latest") !=
        std::string::npos);
  CHECK(problems({}, "-rf").find("not a package name") != std::string::npos);
  CHECK(problems({}, "a b").find("not a package name") != std::string::npos);
  CHECK(problems({{"source", "x.tar.gz"}}).find("neither a .deb nor a .rpm") != std::string::npos);
  CHECK(problems({{"source", "x.deb"}, {"provider", "dnf"}}).find("source is for dpkg") !=
        std::string::npos);
  CHECK(problems({{"source", "x.rpm"}, {"provider", "dpkg"}}).find("cannot install") !=
        std::string::npos);

  // An empty root and no facts: auto cannot tell; the error says to set provider.
  auto got = ConvergeAll(reg, {Pkg("ipmitool", {})}, *host);
  CHECK(got[0].status == Converged::kFailed);
  CHECK(got[0].error.find("set provider") != std::string::npos);
  // A root with a dpkg database and no apt-get: dpkg, which needs a source.
  SeedDpkgRoot(root);
  got = ConvergeAll(reg, {Pkg("ipmitool", {})}, *host);
  CHECK(got[0].error.find("provider dpkg installs from a package file") != std::string::npos);
  // Facts say RedHat 6: yum (dnf/yum are run on the build machine).
  RunContext ctx;
  ctx.facts =
      Value(Map{{"os", Value(Map{{"family", "RedHat"}, {"release", Value(Map{{"major", "6"}})}})}});
  auto plan = ConvergeAll(reg, {Pkg("ipmitool", {{"ensure", "absent"}})}, *host, true, &ctx);
  CHECK(plan[0].status == Converged::kUnchanged);  // no rpm database: nothing installed
}
