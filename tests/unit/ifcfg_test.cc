// `ifcfg`: settings edited in place in real ifcfg files (the SixXS sit1
// tunnel gaining IPV6ADDR_SECONDARIES, an EC2 eth0), new files, purge,
// absent, restart only when live — values checked by sourcing in bash.
#include <doctest/doctest.h>

#include <cstdio>
#include <fstream>
#include <sstream>

#include "engine/host_real.h"
#include "resources/builtin.h"
#include "tests/unit/support/converge.h"
#include "tests/unit/support/temp_root.h"
#include "tests/unit/support/test_data.h"

using namespace keel;
using namespace keel::testing;

namespace {

std::string IfcfgRealFile(const std::string& name) {
  return keel::testing::TestData("realfiles/" + name);
}

std::string IfcfgBash(const std::string& path, const std::string& key) {
  std::string cmd = "bash -c 'set -a; source \"$0\" >/dev/null 2>&1; printf \"%s\" \"${" + key +
                    "-<unset>}\"' '" + path + "'";
  FILE* p = popen(cmd.c_str(), "r");
  REQUIRE(p != nullptr);
  std::string out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  pclose(p);
  return out;
}

// The real host of a temp root that claims to be live and records commands
// instead of running them (so restart can be observed without ifup).
class LiveRecordingHost : public Host {
 public:
  explicit LiveRecordingHost(Host& base) : base_(base) {}
  bool live() const override { return true; }
  const std::string& root() const override { return base_.root(); }
  Result<std::optional<std::string>> ReadFile(const HostPath& p) override {
    return base_.ReadFile(p);
  }
  Result<FileInfo> Lstat(const HostPath& p) override { return base_.Lstat(p); }
  Result<FileInfo> Stat(const HostPath& p) override { return base_.Stat(p); }
  Result<std::vector<std::string>> ListDir(const HostPath& p) override { return base_.ListDir(p); }
  Result<void> WriteFileAtomic(const HostPath& p, std::string_view d, const FileAttrs& a) override {
    events.push_back("write " + p.str());
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
  Result<CommandResult> Run(const Command& c) override {
    events.push_back("run " + (c.shell.empty() ? c.Display() : c.shell));
    CommandResult r;
    r.exit_code = exit_code;
    return r;
  }
  std::vector<std::string> events;
  int exit_code = 0;

 private:
  Host& base_;
};

struct IfcfgFixture {
  TempRoot root;
  Registry reg;
  std::unique_ptr<Host> host;
  IfcfgFixture() {
    RegisterIfcfg(reg);
    RegisterShellvar(reg);
    auto h = OpenRealHost(root.path(), nullptr);
    REQUIRE(h.ok());
    host = std::move(*h);
  }
  Resource Make(const std::string& title, Attrs attrs) {
    return MakeResource(reg, "ifcfg", title, std::move(attrs));
  }
  ConvergeResult Run(const Resource& r, bool noop = false) { return Converge(reg, r, *host, noop); }
  void Timeline(const Resource& r) { testing::Timeline(reg, r, *host, root); }
};

const char* kSit1 = "/etc/sysconfig/network-scripts/ifcfg-sit1";

}  // namespace

TEST_CASE("ifcfg: load-time checks of keys, values and device") {
  Registry reg;
  RegisterIfcfg(reg);
  CHECK_THROWS_WITH_AS(MakeResource(reg, "ifcfg", "eth0", {{"settings", Map{{"onboot", "yes"}}}}),
                       doctest::Contains("upper-case"), std::runtime_error);
  CHECK_THROWS_WITH_AS(
      MakeResource(reg, "ifcfg", "eth0", {{"settings", Map{{"X", Map{{"a", 1}}}}}}),
      doctest::Contains("must be a string, number, bool or list"), std::runtime_error);
  CHECK_THROWS_WITH_AS(MakeResource(reg, "ifcfg", "../passwd", {}),
                       doctest::Contains("not a valid interface name"), std::runtime_error);
  auto r = MakeResource(reg, "ifcfg", "bond0.100", {});
  CHECK(reg.Find("ifcfg")->paths(r) ==
        std::vector<std::string>{"/etc/sysconfig/network-scripts/ifcfg-bond0.100"});
}

TEST_CASE_FIXTURE(IfcfgFixture, "ifcfg: sit1 tunnel gains IPV6ADDR_SECONDARIES, rest kept") {
  const std::string before = IfcfgRealFile("ifcfg-sit1");
  root.Write(kSit1, before);
  auto r = Make("sit1", {{"settings", Map{{"IPV6ADDR_SECONDARIES",
                                           List{"2001:db8:1f01:a::1/64", "2001:db8:1f01:a::2/64"}},
                                          {"ONBOOT", true},
                                          {"MTU", 1280}}}});
  Timeline(r);
  CHECK(root.Read(kSit1) == before +
                                "IPV6ADDR_SECONDARIES=\"2001:db8:1f01:a::1/64 "
                                "2001:db8:1f01:a::2/64\"\nMTU=1280\n");
  CHECK(IfcfgBash(root.Real(kSit1), "IPV6ADDR_SECONDARIES") ==
        "2001:db8:1f01:a::1/64 2001:db8:1f01:a::2/64");
  CHECK(IfcfgBash(root.Real(kSit1), "ONBOOT") == "yes");
  // A single-element list is still quoted.
  auto one = Make("sit1", {{"settings", Map{{"IPV6ADDR_SECONDARIES", List{"2001:db8::9/64"}}}}});
  Timeline(one);
  CHECK(root.Read(kSit1).find("\nIPV6ADDR_SECONDARIES=\"2001:db8::9/64\"\n") != std::string::npos);
  // Existing keys are edited in place.
  auto off = Make("sit1", {{"settings", Map{{"ONBOOT", false}}}});
  Timeline(off);
  CHECK(root.Read(kSit1).find("\nBOOTPROTO=none\nONBOOT=no\nIPV6INIT=yes\n") != std::string::npos);
}

TEST_CASE_FIXTURE(IfcfgFixture, "ifcfg: new file starts with DEVICE, keeps manifest order") {
  auto r = Make("eth0", {{"settings", Map{{"BOOTPROTO", "dhcp"},
                                          {"ONBOOT", true},
                                          {"TYPE", "Ethernet"},
                                          {"NAME", "System eth0"}}}});
  Timeline(r);
  const char* path = "/etc/sysconfig/network-scripts/ifcfg-eth0";
  CHECK(root.Read(path) ==
        "DEVICE=eth0\nBOOTPROTO=dhcp\nONBOOT=yes\nTYPE=Ethernet\nNAME=\"System eth0\"\n");
  CHECK(root.Mode(path) == 0644);
  CHECK(root.Mode("/etc/sysconfig/network-scripts") == 0755);
  CHECK(IfcfgBash(root.Real(path), "NAME") == "System eth0");
}

TEST_CASE_FIXTURE(IfcfgFixture, "ifcfg: purge removes other keys but DEVICE; absent removes file") {
  const char* path = "/etc/sysconfig/network-scripts/ifcfg-eth0";
  root.Write(path, "# EC2\n" + IfcfgRealFile("ifcfg-eth0"));
  auto r =
      Make("eth0", {{"purge", true}, {"settings", Map{{"BOOTPROTO", "dhcp"}, {"ONBOOT", "yes"}}}});
  Timeline(r);
  CHECK(root.Read(path) == "# EC2\nDEVICE=eth0\nBOOTPROTO=dhcp\nONBOOT=yes\n");
  auto gone = Make("eth0", {{"ensure", "absent"}});
  auto plan = Run(gone, true);
  REQUIRE(plan.status == Converged::kChanged);
  CHECK(plan.changes.front().attr == "ensure");
  CHECK(root.Exists(path));
  Timeline(gone);
  CHECK_FALSE(root.Exists(path));
}

TEST_CASE_FIXTURE(IfcfgFixture, "ifcfg: tricky values survive bash") {
  const std::vector<std::string> values = {"a b", "it's", "$x", "q\"q", "back\\", "!", "`x`"};
  Map settings;
  for (size_t i = 0; i < values.size(); ++i) settings.Set("V" + std::to_string(i), values[i]);
  Timeline(Make("eth1", {{"settings", settings}}));
  for (size_t i = 0; i < values.size(); ++i)
    CHECK(IfcfgBash(root.Real("/etc/sysconfig/network-scripts/ifcfg-eth1"),
                    "V" + std::to_string(i)) == values[i]);
}

TEST_CASE_FIXTURE(IfcfgFixture, "ifcfg: restart runs ifdown/ifup after the write, only when live") {
  root.Write(kSit1, IfcfgRealFile("ifcfg-sit1"));
  auto r = Make("sit1", {{"restart", true}, {"settings", Map{{"MTU", 1480}}}});
  // Under --root (not live): converges, runs nothing.
  LiveRecordingHost live(*host);
  Timeline(r);
  auto r2 = Make("sit1", {{"restart", true}, {"settings", Map{{"MTU", 1400}}}});
  auto plan = Converge(reg, r2, live, true);
  CHECK(plan.status == Converged::kChanged);
  CHECK(live.events.empty());  // a dry run writes nothing, restarts nothing
  auto ap = Converge(reg, r2, live);
  CHECK(ap.status == Converged::kChanged);
  REQUIRE(live.events.size() == 2);
  CHECK(live.events[0] == "write /etc/sysconfig/network-scripts/ifcfg-sit1");
  CHECK(live.events[1] == "run ifdown 'sit1'; ifup 'sit1'");
  live.events.clear();
  CHECK(Converge(reg, r2, live).status == Converged::kUnchanged);
  CHECK(live.events.empty());
  // A failing ifup fails the resource.
  live.exit_code = 1;
  auto r3 = Make("sit1", {{"restart", true}, {"settings", Map{{"MTU", 1300}}}});
  auto bad = Converge(reg, r3, live);
  CHECK(bad.status == Converged::kFailed);
  CHECK(bad.error.find("exit 1") != std::string::npos);
}

TEST_CASE_FIXTURE(IfcfgFixture, "ifcfg: Read reports the file's settings (keel resource)") {
  root.Write(kSit1, IfcfgRealFile("ifcfg-sit1"));
  auto r = Make("sit1", {});
  auto provider = reg.Find("ifcfg")->make_provider();
  RunContext ctx;
  auto have = provider->Read(r, *host, ctx);
  REQUIRE(have.ok());
  CHECK(*have->Find("ensure") == Value("present"));
  const Value* s = have->Find("settings");
  REQUIRE(s);
  CHECK(*s->as_map().Find("IPV6ADDR") == Value("2001:db8:1f00:a::2/64"));
  CHECK(s->as_map().begin()->first == "DEVICE");
  CHECK(provider->Diff(r, *have, ctx).empty());  // no settings given: nothing to change
}
