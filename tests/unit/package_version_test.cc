// package: version ordering (libapt-pkg for Debian, librpm for RPM),
// cross-checked against the real `dpkg --compare-versions` where dpkg is
// here, and the formats of the package managers' query output on captured
// samples (tests/unit/data/package/) and strings.
#include <doctest/doctest.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "resources/package/pkg_commands.h"
#include "resources/package/pkg_query.h"
#include "resources/package/pkg_version.h"
#include "tests/unit/support/test_data.h"

using namespace keel;
using namespace keel::pkg;

namespace {

struct Case {
  const char* a;
  const char* b;
  int want;
};

bool HaveDpkg() { return std::system("command -v dpkg >/dev/null 2>&1") == 0; }

// dpkg's own verdict: -1, 0 or 1.
int DpkgSays(const std::string& a, const std::string& b) {
  auto q = [](const std::string& s) { return "'" + s + "'"; };
  if (std::system(("dpkg --compare-versions " + q(a) + " lt " + q(b)).c_str()) == 0) return -1;
  if (std::system(("dpkg --compare-versions " + q(a) + " eq " + q(b)).c_str()) == 0) return 0;
  return 1;
}

}  // namespace

TEST_CASE("package: Debian ordering is dpkg's (epochs, tilde, revisions), not text order") {
  const std::vector<Case> cases = {
      {"1.0", "1.0", 0},          {"1.0-1", "1.0-2", -1},
      {"1.10", "1.9", 1},         {"1.0~rc1", "1.0", -1},
      {"1.0~rc1", "1.0~rc2", -1}, {"1.0~~", "1.0~", -1},
      {"1.0", "1.0+b1", -1},      {"1:0.9", "2.0", 1},
      {"0:1.0-1", "1.0-1", 0},    {"1.0a", "1.0", 1},
      {"1.0-1", "1.0", 1},        {"2.6.32-754", "2.6.32-431", 1},
      {"1.21.22", "1.21.23", -1}, {"4.18.0+dfsg-1", "4.18.0-1", 1},
      {"1.0.0", "1.0", 1},
  };
  const bool dpkg = HaveDpkg();
  for (const auto& c : cases) {
    CAPTURE(c.a);
    CAPTURE(c.b);
    CHECK(CompareDeb(c.a, c.b) == c.want);
    CHECK(CompareDeb(c.b, c.a) == -c.want);
    if (dpkg) CHECK(DpkgSays(c.a, c.b) == c.want);
  }
}

TEST_CASE("package: RPM ordering is rpm's (alpha, tilde, caret, epoch, release)") {
  const std::vector<Case> cases = {
      {"1.0", "1.0", 0},
      {"1.0", "2.0", -1},
      {"2.0.1", "2.0", 1},
      {"1.0a", "1.0", 1},  // rpm: a letter after the version is newer
      {"5.5p10", "5.5p1", 1},
      {"10xyz", "10.1xyz", -1},
      {"1.0~rc1", "1.0", -1},  // tilde: before anything
      {"1.0~rc1", "1.0~rc2", -1},
      {"1.0^git1", "1.0", 1},     // caret: after the base ...
      {"1.0^git1", "1.0.1", -1},  // ... but before the next version
      {"1.0^git1", "1.01", -1},
      {"1:1.0-1", "2.0-1", 1},  // epoch first
      {"0:1.0-1", "1.0-1", 0},
      {"1.0-1", "1.0-2", -1},
      {"1.0-10.el9", "1.0-9.el9", 1},
      {"1.0", "1.0-3.el9", 0},  // no release: the version alone
      {"2.6.32-754.el6", "2.6.32-431.el6", 1},
      {"1.10", "1.9", 1},
  };
  for (const auto& c : cases) {
    CAPTURE(c.a);
    CAPTURE(c.b);
    CHECK(CompareRpm(c.a, c.b) == c.want);
    CHECK(CompareRpm(c.b, c.a) == -c.want);
  }
}

TEST_CASE("package: plausible versions for ensure") {
  CHECK(PlausibleVersion(Family::kDeb, "1.0-1"));
  CHECK(PlausibleVersion(Family::kDeb, "1:2.0~rc1+b2"));
  CHECK(PlausibleVersion(Family::kRpm, "2:1.0^git1-3.el9_2"));
  CHECK_FALSE(PlausibleVersion(Family::kDeb, ""));
  CHECK_FALSE(PlausibleVersion(Family::kDeb, "-1.0"));
  CHECK_FALSE(PlausibleVersion(Family::kDeb, "1.0 2"));
  CHECK_FALSE(PlausibleVersion(Family::kRpm, "1.0/../x"));
  CHECK_FALSE(PlausibleVersion(Family::kRpm, "x:1.0"));
  CHECK_FALSE(PlausibleVersion(Family::kRpm, "1:"));
  CHECK_FALSE(PlausibleVersion(Family::kDeb, "1.0;rm -rf /"));
}

TEST_CASE("package: dpkg-query output (captured from Debian 12) and package states") {
  auto set = ParseDpkgQuery(testing::TestData("package/dpkg-query-debian12.txt"));
  REQUIRE(set.ok());
  CHECK(set->size() >= 40);
  auto text =
      "a\t1.0-1\tii \tamd64\n"
      "b\t2.0\trc \tamd64\n"  // removed, configuration left: absent
      "c\t3.0\tiU \tall\n"    // unpacked, not configured: not installed
      "d\t1:4.0\thi \tall\n"  // held, installed
      "e\t1.0\tii \tamd64\n"  // multiarch: the highest version
      "e\t1.1\tii \ti386\n"
      "\n";
  auto s = ParseDpkgQuery(text);
  REQUIRE(s.ok());
  CHECK(s->size() == 3);
  CHECK(s->at("a").version == "1.0-1");
  CHECK(s->count("b") == 0);
  CHECK(s->count("c") == 0);
  CHECK(s->at("d").version == "1:4.0");
  CHECK(s->at("e").version == "1.1");
  CHECK(s->at("e").arches.size() == 2);
  auto bad = ParseDpkgQuery("a 1.0 ii amd64\n");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().message.find("line 1") != std::string::npos);
  CHECK_FALSE(ParseDpkgQuery(std::string("a\t1\tii \tall\n\x01\xff garbage\n")).ok());
}

TEST_CASE("package: names with an architecture find the installed package") {
  auto deb = ParseDpkgQuery("libc6\t2.36-9\tii \tamd64\nlibc6\t2.36-9\tii \ti386\n");
  REQUIRE(deb.ok());
  CHECK(FindInstalled(*deb, Family::kDeb, "libc6") != nullptr);
  CHECK(FindInstalled(*deb, Family::kDeb, "libc6:i386") != nullptr);
  CHECK(FindInstalled(*deb, Family::kDeb, "libc6:arm64") == nullptr);
  auto rpm = ParseRpmQuery("glibc\t0:2.12-1\tx86_64\npython3.11\t0:3.11.2-1\tx86_64\n");
  REQUIRE(rpm.ok());
  CHECK(FindInstalled(*rpm, Family::kRpm, "glibc.x86_64") != nullptr);
  CHECK(FindInstalled(*rpm, Family::kRpm, "glibc.i686") == nullptr);
  CHECK(FindInstalled(*rpm, Family::kRpm, "python3.11") != nullptr);  // a dot in the name
  CHECK(FindInstalled(*rpm, Family::kRpm, "python3.12") == nullptr);
}

TEST_CASE("package: rpm -qa output, kernels and gpg-pubkey") {
  auto s = ParseRpmQuery(
      "kernel\t0:2.6.32-431.el6\tx86_64\n"
      "kernel\t0:2.6.32-754.el6\tx86_64\n"
      "gpg-pubkey\t(none):c105b9de-4e0fd3a3\t(none)\n"
      "OpenIPMI\t0:2.0.16-14.el6\tx86_64\n"
      "glibc\t0:2.12-1.212.el6\ti686\n"
      "glibc\t0:2.12-1.212.el6\tx86_64\n");
  REQUIRE(s.ok());
  CHECK(s->at("kernel").version == "0:2.6.32-754.el6");
  CHECK(s->count("gpg-pubkey") == 0);
  CHECK(s->at("glibc").arches.size() == 2);
  CHECK_FALSE(ParseRpmQuery("only-a-name\n").ok());
}

TEST_CASE("package: candidates from apt-cache policy (captured) and repoquery") {
  auto c = ParseAptPolicy(testing::TestData("package/apt-cache-policy.txt"));
  CHECK(c.at("dpkg") == "1.21.23");
  CHECK(c.at("libapt-pkg-dev") == "2.6.2");
  CHECK(ParseAptPolicy("ghost:\n  Installed: (none)\n  Candidate: (none)\n").empty());
  auto r = ParseRepoquery(
      "ipmitool\t0:1.8.11-30.el6\tx86_64\n"
      "ipmitool\t0:1.8.11-28.el6\tx86_64\n"
      "Last metadata expiration check: 0:00:01 ago\n"
      "rng-tools\t(none):5-4.el6\tx86_64\n");
  CHECK(r.at("ipmitool") == "0:1.8.11-30.el6");
  CHECK(r.at("rng-tools") == "0:5-4.el6");
  CHECK(r.size() == 2);
}

TEST_CASE("package: package file fields") {
  auto d = ParseDebFields("Package: keeltest-a\nVersion: 1:1.0-1\n");
  REQUIRE(d.ok());
  CHECK(d->name == "keeltest-a");
  CHECK(d->version == "1:1.0-1");
  CHECK_FALSE(ParseDebFields("garbage").ok());
  auto r = ParseRpmFile("rng-tools\t0:5-4.el6\tx86_64\n");
  REQUIRE(r.ok());
  CHECK(r->version == "0:5-4.el6");
  CHECK_FALSE(ParseRpmFile("").ok());
}

TEST_CASE("package: the command lines, under --root and live") {
  Target t{.root = "/img", .live = false, .rpm_dbpath = "/var/lib/rpm", .root_has_reposdir = true};
  Command q = InstalledQuery(Family::kDeb, t);
  CHECK(q.query);
  CHECK_FALSE(q.chroot);
  CHECK(q.Display().find("dpkg-query --admindir=/img/var/lib/dpkg -W") == 0);

  Command in = InstallCommand(Kind::kDpkg, t, {"/repo/a.deb", "/repo/b.deb"}, {});
  CHECK_FALSE(in.query);
  CHECK_FALSE(in.chroot);
  CHECK(in.argv == std::vector<std::string>{"dpkg", "--root=/img", "--log=/img/var/log/dpkg.log",
                                            "--force-confold", "--install", "/repo/a.deb",
                                            "/repo/b.deb"});
  Command rm = RemoveCommand(Kind::kRpm, t, {"a", "b"}, {});
  CHECK(rm.argv ==
        std::vector<std::string>{"rpm", "--root=/img", "--dbpath=/var/lib/rpm", "-e", "a", "b"});

  // dnf under --root: wrapped for the database path, --installroot.
  Command dnf =
      InstallCommand(Kind::kDnf, t, {"ipmitool", "rng-tools-5-4.el6"}, {"--releasever=6"});
  CHECK(dnf.argv[0] == "/bin/sh");
  CHECK(dnf.argv[4] == "/var/lib/rpm");
  std::vector<std::string> tail(dnf.argv.begin() + 5, dnf.argv.end());
  CHECK(tail == std::vector<std::string>{"dnf", "-y", "--installroot=/img", "--releasever=6",
                                         "install", "ipmitool", "rng-tools-5-4.el6"});
  // yum is the same shape (yum is not in Debian: tested here, not run).
  Command yum = RemoveCommand(Kind::kYum, t, {"ipmitool"}, {});
  CHECK(yum.argv[5] == "yum");
  CHECK(yum.argv.back() == "ipmitool");

  // Candidates never write the root: a scratch installroot, the root's repos.
  Command cq = CandidateQuery(Kind::kDnf, t, {"ipmitool"}, {"--releasever=6"});
  CHECK(cq.query);
  CHECK(cq.argv[0] == "/bin/sh");
  CHECK(cq.Display().find("--setopt=reposdir=/img/etc/yum.repos.d") != std::string::npos);
  CHECK(cq.Display().find("--installroot=/img") == std::string::npos);
  Command apt = CandidateQuery(Kind::kApt, t, {"ipmitool"}, {});
  CHECK(apt.chroot);
  CHECK(apt.argv == std::vector<std::string>{"apt-cache", "-o", "Dir::Cache::pkgcache=", "-o",
                                             "Dir::Cache::srcpkgcache=", "policy", "ipmitool"});
  Command apti = InstallCommand(Kind::kApt, t, {VersionSpec(Kind::kApt, "a", "1.0-1")}, {});
  CHECK(apti.chroot);
  CHECK(apti.argv.back() == "a=1.0-1");
  CHECK(apti.env.at("DEBIAN_FRONTEND") == "noninteractive");
  CHECK(VersionSpec(Kind::kDnf, "a", "0:1.0-1") == "a-1.0-1");
  CHECK(VersionSpec(Kind::kDnf, "a", "2:1.0-1") == "a-2:1.0-1");

  Target live;
  CHECK(InstallCommand(Kind::kDpkg, live, {"/r/a.deb"}, {}).argv ==
        std::vector<std::string>{"dpkg", "--force-confold", "--install", "/r/a.deb"});
  CHECK(InstallCommand(Kind::kDnf, live, {"a"}, {}).argv ==
        std::vector<std::string>{"dnf", "-y", "install", "a"});
}
