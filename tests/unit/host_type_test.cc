// host type: the hosts_file format on strings, then the provider timeline
// on a TempRoot through the real Host, checked by an independent reader.
#include <doctest/doctest.h>

#include <cstdio>
#include <fstream>
#include <sstream>

#include "engine/host_real.h"
#include "engine/registry.h"
#include "resources/host/hosts_file.h"
#include "tests/unit/support/converge.h"
#include "tests/unit/support/temp_root.h"
#include "tests/unit/support/test_data.h"

using namespace keel;
using keel::hosts::HostsFile;
using keel::testing::Converge;
using keel::testing::Converged;
using keel::testing::MakeResource;
using keel::testing::TempRoot;

namespace {

std::string DataFile(const std::string& name) {
  return keel::testing::TestData("sysfiles/" + name);
}

std::string SetHost(const std::string& text, const std::string& name, const std::string& ip,
                    std::vector<std::string> aliases = {}) {
  HostsFile f = HostsFile::Parse(text);
  f.Set(name, {ip, std::move(aliases)});
  return f.Render();
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

// An independent reader: python3 resolves a name the way glibc's files
// backend does (first line listing it, '#' starts a comment).
std::string PyLookup(const std::string& file, const std::string& name) {
  return RunCapture(
      "python3 -c 'import sys\nfor l in open(sys.argv[1]):\n"
      "  f=l.split(\"#\")[0].split()\n"
      "  if len(f)>1 and sys.argv[2] in f[1:]:\n"
      "    print(f[0], \" \".join(f[1:])); break' " +
      file + " " + name);
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
    return MakeResource(registry, "host", title, std::move(attrs));
  }
};

}  // namespace

TEST_CASE("hosts_file: parse and render give back the exact bytes of real files") {
  for (const char* name : {"hosts.runsc", "hosts.debian", "hosts.centos5", "hosts.ec2-centos5"}) {
    std::string text = DataFile(name);
    CHECK_MESSAGE(HostsFile::Parse(text).Render() == text, name);
  }
  for (std::string text : {"", "\n", "no newline", "1.2.3.4 a\r\n", "  \t# c\n  lone\n",
                           "10.0.0.1\tweb  # the web\n::1 x"})
    CHECK(HostsFile::Parse(text).Render() == text);
}

TEST_CASE("hosts_file: find canonical name, alias, case-insensitive") {
  HostsFile f = HostsFile::Parse(DataFile("hosts.debian"));
  auto vm = f.Find("vm.example.org");
  REQUIRE(vm);
  CHECK(vm->ip == "127.0.1.1");
  CHECK(vm->aliases == std::vector<std::string>{"vm"});
  auto alias = f.Find("VM");
  REQUIRE(alias);
  CHECK(alias->ip == "127.0.1.1");
  CHECK(alias->aliases.empty());
  CHECK_FALSE(f.Find("nowhere"));
  CHECK_FALSE(HostsFile::Parse("# 10.0.0.1 web\n").Find("web"));
}

TEST_CASE("hosts_file: set edits the canonical line in place and keeps its style") {
  std::string text = "# c\n10.0.0.1\tweb\twww  # front\n10.0.0.9 db\n";
  CHECK(SetHost(text, "web", "10.0.0.2", {"www"}) ==
        "# c\n10.0.0.2\tweb\twww  # front\n10.0.0.9 db\n");
  CHECK(SetHost(text, "web", "10.0.0.1", {"www", "w"}) ==
        "# c\n10.0.0.1\tweb\twww\tw  # front\n10.0.0.9 db\n");
  CHECK(SetHost(text, "web", "10.0.0.1") == "# c\n10.0.0.1\tweb  # front\n10.0.0.9 db\n");
  // Unchanged: the same bytes.
  CHECK(SetHost(text, "web", "10.0.0.1", {"www"}) == text);
}

TEST_CASE("hosts_file: space-padded columns stay aligned when the address changes") {
  std::string text = "127.0.0.1       localhost\n10.0.0.1        web\n";
  CHECK(SetHost(text, "web", "192.168.100.200") ==
        "127.0.0.1       localhost\n192.168.100.200 web\n");
  // A new line takes the column of the last entry.
  CHECK(SetHost(text, "db", "10.1.1.1", {"mysql"}) ==
        "127.0.0.1       localhost\n10.0.0.1        web\n10.1.1.1        db mysql\n");
}

TEST_CASE("hosts_file: new lines follow the file's separators; empty file gets a tab") {
  CHECK(SetHost(DataFile("hosts.debian"), "db", "10.0.0.5", {"db.example.org"}) ==
        DataFile("hosts.debian") + "10.0.0.5\tdb\tdb.example.org\n");
  CHECK(SetHost("", "db", "10.0.0.5") == "10.0.0.5\tdb\n");
  CHECK(SetHost("1.1.1.1 a", "db", "10.0.0.5") == "1.1.1.1 a\n10.0.0.5 db\n");
}

TEST_CASE("hosts_file: moving a name removes it from the old line, dropping an emptied line") {
  std::string text = "10.0.0.1 web www\n10.0.0.2 old-web\n10.0.0.3 other web\n";
  // web is canonical on line 1: edited there; the alias mention on line 3 goes.
  CHECK(SetHost(text, "web", "10.0.0.7") == "10.0.0.7 web\n10.0.0.2 old-web\n10.0.0.3 other\n");
  // old-web is alone on its line: moving it drops that line.
  CHECK(SetHost("10.0.0.2 old-web # was here\n# keep\n", "old-web", "10.0.0.8") ==
        "10.0.0.8 old-web # was here\n# keep\n");
  // A line where the name is only an alias loses it; a line with just the
  // name (as a non-canonical duplicate) is dropped.
  CHECK(SetHost("10.0.0.1 web\n10.0.0.2 alias-only old\n10.0.0.3 a old\n", "old", "10.0.0.9") ==
        "10.0.0.1 web\n10.0.0.2 alias-only\n10.0.0.3 a\n10.0.0.9 old\n");
  CHECK(SetHost("127.0.0.1 localhost vm\n", "vm", "127.0.1.1") ==
        "127.0.0.1 localhost\n127.0.1.1 vm\n");
}

TEST_CASE("hosts_file: remove drops the canonical line, strips alias mentions") {
  HostsFile f = HostsFile::Parse("# c\n10.0.0.1 web www\n10.0.0.3 other web\n10.0.0.4 web2\n");
  f.Remove("web");
  CHECK(f.Render() == "# c\n10.0.0.3 other\n10.0.0.4 web2\n");
}

TEST_CASE("hosts_file: unparseable lines are kept byte for byte") {
  std::string text = "garbage\n\t\n10.0.0.1\n10.0.0.2 x\n";
  CHECK(SetHost(text, "y", "10.0.0.3") == text + "10.0.0.3 y\n");
}

TEST_CASE("host: load-time checks") {
  Registry r;
  RegisterBuiltinTypes(r);
  CHECK_THROWS_WITH(MakeResource(r, "host", "web", {}),
                    doctest::Contains("needs 'ip' unless ensure is absent"));
  CHECK_THROWS_WITH(MakeResource(r, "host", "web", {{"ip", "10.0.0.300"}}),
                    doctest::Contains("not an IPv4 or IPv6 address"));
  CHECK_THROWS_WITH(MakeResource(r, "host", "web", {{"ip", "::1"}, {"ensure", "gone"}}),
                    doctest::Contains("must be one of present, absent"));
  CHECK_NOTHROW(MakeResource(r, "host", "web", {{"ensure", "absent"}}));
  CHECK_NOTHROW(MakeResource(r, "host", "web", {{"ip", "fe80::1"}}));
}

TEST_CASE_FIXTURE(Fixture, "host: timeline: plan exact, apply, idempotent, foreign bytes kept") {
  std::string seed = DataFile("hosts.debian");
  root.Write("/etc/hosts", seed);
  Resource web = Make("web", {{"ip", "10.0.0.5"}, {"aliases", Value(List{"web.example.org"})}});
  auto before = root.Snapshot();
  auto plan = Converge(registry, web, *host, /*noop=*/true);
  CHECK(plan.status == Converged::kChanged);
  CHECK(root.Snapshot() == before);
  REQUIRE(!plan.changes.empty());
  CHECK(plan.changes.front().attr == "ensure");
  CHECK(plan.changes.back().attr == "content");
  CHECK(plan.changes.back().detail.find("+10.0.0.5\tweb\tweb.example.org") != std::string::npos);

  auto applied = Converge(registry, web, *host);
  CHECK_MESSAGE(applied.status == Converged::kChanged, applied.error);
  std::string after = root.Read("/etc/hosts");
  CHECK(after == seed + "10.0.0.5\tweb\tweb.example.org\n");
  CHECK(PyLookup(root.Real("/etc/hosts"), "web") == "10.0.0.5 web web.example.org\n");
  CHECK(PyLookup(root.Real("/etc/hosts"), "vm") == "127.0.1.1 vm.example.org vm\n");
  CHECK(Converge(registry, web, *host).status == Converged::kUnchanged);

  // Move it: the same line changes, nothing else.
  Resource moved = Make("web", {{"ip", "10.0.0.6"}, {"aliases", Value(List{"web.example.org"})}});
  auto mv = Converge(registry, moved, *host);
  CHECK(mv.status == Converged::kChanged);
  CHECK(mv.changes.front().attr == "ip");
  CHECK(root.Read("/etc/hosts") == seed + "10.0.0.6\tweb\tweb.example.org\n");
  CHECK(PyLookup(root.Real("/etc/hosts"), "web.example.org") == "10.0.0.6 web web.example.org\n");

  Resource gone = Make("web", {{"ensure", "absent"}});
  CHECK(Converge(registry, gone, *host).status == Converged::kChanged);
  CHECK(root.Read("/etc/hosts") == seed);
  CHECK(PyLookup(root.Real("/etc/hosts"), "web") == "");
  CHECK(Converge(registry, gone, *host).status == Converged::kUnchanged);
}

TEST_CASE_FIXTURE(Fixture,
                  "host: creates a missing hosts file 0644 and absent on no file is a no-op") {
  Resource gone = Make("web", {{"ensure", "absent"}});
  CHECK(Converge(registry, gone, *host).status == Converged::kUnchanged);
  CHECK_FALSE(root.Exists("/etc/hosts"));
  Resource web = Make("web", {{"ip", "10.0.0.5"}});
  CHECK(Converge(registry, web, *host).status == Converged::kChanged);
  CHECK(root.Read("/etc/hosts") == "10.0.0.5\tweb\n");
  CHECK(root.Mode("/etc/hosts") == 0644);
  CHECK(Converge(registry, web, *host).status == Converged::kUnchanged);
}

TEST_CASE_FIXTURE(Fixture, "host: a directory or a binary file is a clear failure, untouched") {
  root.Mkdir("/etc/hosts");
  Resource web = Make("web", {{"ip", "10.0.0.5"}});
  auto r = Converge(registry, web, *host);
  CHECK(r.status == Converged::kFailed);
  CHECK(r.error.find("is a directory") != std::string::npos);

  TempRoot other;
  other.Write("/etc/hosts", std::string("127.0.0.1 a\0b\n", 14));
  auto h2 = OpenRealHost(other.path(), nullptr);
  REQUIRE(h2.ok());
  auto before = other.Snapshot();
  auto r2 = Converge(registry, web, **h2);
  CHECK(r2.status == Converged::kFailed);
  CHECK(r2.error.find("binary") != std::string::npos);
  CHECK(other.Snapshot() == before);
}

TEST_CASE_FIXTURE(Fixture, "host: several names on one file, one run, each line kept") {
  root.Write("/etc/hosts", "127.0.0.1 localhost\n");
  std::vector<Resource> rs = {Make("a", {{"ip", "10.0.0.1"}}), Make("b", {{"ip", "10.0.0.2"}})};
  auto before = root.Snapshot();
  auto plan = keel::testing::ConvergeAll(registry, rs, *host, true);
  CHECK(plan[1].changes.back().detail.find("10.0.0.1 a\n+10.0.0.2 b") != std::string::npos);
  CHECK(root.Snapshot() == before);
  auto res = keel::testing::ConvergeAll(registry, rs, *host);
  CHECK(res[0].status == Converged::kChanged);
  CHECK(res[1].status == Converged::kChanged);
  CHECK(root.Read("/etc/hosts") == "127.0.0.1 localhost\n10.0.0.1 a\n10.0.0.2 b\n");
  auto again = keel::testing::ConvergeAll(registry, rs, *host);
  CHECK(again[0].status == Converged::kUnchanged);
  CHECK(again[1].status == Converged::kUnchanged);
}

TEST_CASE("hosts_file: Borrow views the text; changed() says whether an edit changes it") {
  std::string text = "127.0.0.1 localhost\n10.0.0.1\tweb www # front\n";
  auto f = HostsFile::Borrow(text);
  CHECK_FALSE(f.changed());
  f.Set("web", {"10.0.0.1", {"www"}});
  CHECK_FALSE(f.changed());
  CHECK(f.Render() == text);
  f.Remove("nowhere");
  CHECK_FALSE(f.changed());
  f.Set("web", {"10.0.0.2", {"www"}});
  CHECK(f.changed());
  CHECK(f.Render() == "127.0.0.1 localhost\n10.0.0.2\tweb www # front\n");
  // A later edit and a query see the earlier edits.
  CHECK(f.Find("web")->ip == "10.0.0.2");
  f.Set("db", {"10.0.0.3", {}});
  CHECK(f.Find("web")->ip == "10.0.0.2");
  CHECK(f.Render() == "127.0.0.1 localhost\n10.0.0.2\tweb www # front\n10.0.0.3\tdb\n");
  // Parse takes a temporary over (no dangling view).
  auto g = HostsFile::Parse(std::string("10.0.0.1 a\n"));
  g.Remove("a");
  CHECK(g.changed());
  CHECK(g.Render() == "");
}
