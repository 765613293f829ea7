// audit_rule type: the rules format on strings (render, canonical form of
// `auditctl -l`, ordering check), libaudit's load-time check, and the
// provider timeline on a TempRoot through the real transaction.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "engine/host_real.h"
#include "engine/registry.h"
#include "resources/audit_rule/audit_check.h"
#include "resources/audit_rule/audit_rules.h"
#include "tests/unit/support/converge.h"
#include "tests/unit/support/temp_root.h"

using namespace keel;
using keel::testing::Converge;
using keel::testing::ConvergeAll;
using keel::testing::Converged;
using keel::testing::MakeResource;
using keel::testing::TempRoot;
using keel::testing::TimelineAll;

namespace {

std::optional<std::string> Check(const std::string& rule) {
  std::string err;
  auto w = audit::SplitRule(rule, &err);
  if (!w) return err;
  return audit::CheckRule(*w);
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
  Resource Make(const std::string& title, const std::string& rule, int64_t order = 50) {
    Attrs a;
    a.Set("rule", Value(rule));
    a.Set("order", Value(order));
    return MakeResource(registry, "audit_rule", title, std::move(a));
  }
  std::string Read(const std::string& rel) {
    std::ifstream in(root.path() + rel, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }
  void Write(const std::string& rel, const std::string& data) {
    std::filesystem::create_directories(std::filesystem::path(root.path() + rel).parent_path());
    std::ofstream(root.path() + rel, std::ios::binary) << data;
  }
  std::vector<AttrProblem> Problems(const std::string& rule) {
    Resource r;
    r.ref = {"audit_rule", "x"};
    r.attrs.Set("rule", Value(rule));
    return PrepareResource(*registry.Find("audit_rule"), r);
  }
};

const char* kFile = "/etc/audit/rules.d/keel.rules";

}  // namespace

TEST_CASE("audit_rules: split, normalise and refuse what is not one rule") {
  std::string err;
  auto w = audit::SplitRule("  -w\t/home/user/   -p wa -k home ", &err);
  REQUIRE(w);
  CHECK(audit::Normalize(*w) == "-w /home/user/ -p wa -k home");
  CHECK_FALSE(audit::SplitRule("", &err));
  CHECK(err == "the rule is empty");
  CHECK_FALSE(audit::SplitRule("   ", &err));
  CHECK_FALSE(audit::SplitRule("-w /a\n-w /b", &err));
  CHECK(err.find("line break") != std::string::npos);
  CHECK_FALSE(audit::SplitRule("-w /a\r", &err));
  CHECK_FALSE(audit::SplitRule("# -w /a", &err));
  CHECK(audit::IsControl(*audit::SplitRule("-b 8192", nullptr)));
  CHECK(audit::IsControl(*audit::SplitRule("-D", nullptr)));
  CHECK_FALSE(audit::IsControl(*audit::SplitRule("-w /x", nullptr)));
}

TEST_CASE("audit_rules: the file is the header and the rules by (order, declaration)") {
  std::vector<audit::Entry> e = {{"-w /home/user/ -p wa", 50, 0, "a"},
                                 {"-a exit,never  -F dir=/home/user/.cache/", 10, 1, "b"},
                                 {"-D", 0, 2, "c"},
                                 {"-b 8192", 50, 3, "d"}};
  CHECK(audit::RenderFile(e) == std::string(audit::kHeader) +
                                    "-D\n-a exit,never -F dir=/home/user/.cache/\n"
                                    "-w /home/user/ -p wa\n-b 8192\n");
}

TEST_CASE("audit_rules: canonical form matches what auditctl -l prints") {
  // Left: as written in a rules file; right: as auditctl -l lists it.
  CHECK(audit::Canonical("-a exit,never -F dir=/tmp/aw/.cache/") ==
        audit::Canonical("-a never,exit -S all -F dir=/tmp/aw/.cache/"));
  CHECK(audit::Canonical("-w /tmp/aw/ -p wa -k home") ==
        audit::Canonical("-w /tmp/aw -p wa -k home"));
  CHECK(audit::Canonical("-a exit,always -F dir=/tmp/srvx/ -F perm=wa") ==
        audit::Canonical("-w /tmp/srvx/ -p wa"));
  CHECK(audit::Canonical("-a always,exit -F arch=b64 -S openat -S open -F auid>=1000 -k opn") ==
        audit::Canonical("-a always,exit -F arch=b64 -S open,openat -F auid>=1000 -F key=opn"));
  CHECK(audit::Canonical("-w /etc/passwd") == "-w /etc/passwd -p rwxa");
  CHECK(audit::Canonical("-w /etc/group -p aw") == "-w /etc/group -p wa");
  CHECK(audit::Canonical("-a always,exit -F auid!=-1 -S unlink") ==
        audit::Canonical("-a always,exit -S unlink -F auid!=unset"));
  CHECK(audit::Canonical("-w /a -p wa") != audit::Canonical("-w /a -p r"));
  CHECK(audit::Canonical("-b 8192").empty());
  CHECK(audit::Canonical("No rules").empty());
  CHECK(audit::CanonicalRules("# c\n-D\n\n-w /x -p wa\r\nNo rules\n") ==
        std::vector<std::string>{"-w /x -p wa"});
  CHECK(audit::EnabledFlag("enabled 2\nfailure 1\n") == 2);
  CHECK(audit::EnabledFlag("AUDIT_STATUS: enabled=1 flag=1 pid=0") == 1);
  CHECK_FALSE(audit::EnabledFlag("nothing"));
}

TEST_CASE("audit_rules: an exclusion after the rule covering it is an ordering problem") {
  // The seed: exclusions only work when listed before the rule they carve out.
  std::vector<audit::Entry> bad = {
      {"-w /home/user/ -p wa -k home", 50, 0, "audit_rule[home]"},
      {"-a exit,never -F dir=/home/user/.cache/", 50, 1, "audit_rule[cache]"},
      {"-a exit,never -F path=/etc/other", 50, 2, "audit_rule[x]"}};
  auto p = audit::OrderProblems(bad);
  REQUIRE(p.size() == 1);
  CHECK(p[0].never.who == "audit_rule[cache]");
  CHECK(p[0].cover.who == "audit_rule[home]");
  CHECK(p[0].path == "/home/user/.cache");
  bad[1].order = 10;  // placed before: fine
  CHECK(audit::OrderProblems(bad).empty());
  std::vector<audit::Entry> seed = {
      {"-a exit,always -F dir=/directory/ -F perm=wa", 50, 0, "main"},
      {"-a exit,never -F path=/directory/file-to-exclude", 50, 1, "file"},
      {"-a exit,never -F dir=/directorymore/", 50, 2, "sibling"}};
  auto q = audit::OrderProblems(seed);
  REQUIRE(q.size() == 1);
  CHECK(q[0].never.who == "file");
}

TEST_CASE("audit_rule: libaudit checks syscalls, fields, lists and actions at load time") {
  CHECK_FALSE(Check("-w /home/user/ -p wa -k home"));
  CHECK_FALSE(Check("-a exit,never -F dir=/home/user/.cache/"));
  CHECK_FALSE(Check("-a always,exit -F arch=b64 -S open,openat -F auid>=1000 -F key=opn"));
  CHECK_FALSE(Check("-a always,exit -F arch=b32 -S socketcall -F a0=1"));
  CHECK_FALSE(Check("-a always,exit -S unlink -F exit=-EACCES"));
  for (const char* ok : {"-D", "-b 8192", "-f 1", "-e 2", "--backlog_wait_time 60000"})
    CHECK_MESSAGE(!Check(ok), ok);
  auto e = Check("-a always,exit -F arch=b64 -S opne");
  REQUIRE(e);
  CHECK(*e == "unknown syscall 'opne' (-S opne)");
  e = Check("-a always,exit -F bogus=1");
  REQUIRE(e);
  CHECK(*e == "unknown field in -F bogus=1");
  e = Check("-a exit,sometimes -F dir=/x/");
  REQUIRE(e);
  CHECK(e->find("unknown action 'sometimes'") != std::string::npos);
  e = Check("-a exot,always -F dir=/x/");
  REQUIRE(e);
  CHECK(e->find("unknown list 'exot'") != std::string::npos);
  CHECK(*Check("-a always,exit -S unlink -F exit=-ENOTANERRNO") ==
        "unknown errno in -F exit=-ENOTANERRNO");
  CHECK(*Check("-w /etc/passwd -p wz") == "permission 'z' is not one of rwxa (-p wz)");
  CHECK(*Check("-w etc/passwd") == "watch path 'etc/passwd' is not absolute");
  CHECK(*Check("-e 3") == "enabled flag '3' must be 0, 1 or 2 (-e)");
  CHECK(*Check("-b lots") == "'lots' is not a number (-b)");
  CHECK(*Check("-x foo") ==
        "unknown option '-x' (a rule starts with -w, -a, -A or a control option)");
  CHECK(*Check("-a always,exit -S") == "-S needs a value");
  CHECK(*Check("-a always,task -S open") == "-S open: syscalls only on the exit list");
}

TEST_CASE("audit_rule: a bad rule is a load error naming the attribute and the bad word") {
  Fixture fx;
  auto p = fx.Problems("-a always,exit -F arch=b64 -S opne -k x");
  REQUIRE(p.size() == 1);
  CHECK(p[0].attr == "rule");
  CHECK(p[0].message == "audit_rule[x]: unknown syscall 'opne' (-S opne)");
  p = fx.Problems("-w /a\n-w /b");
  REQUIRE(p.size() == 1);
  CHECK(p[0].message.find("line break") != std::string::npos);
  CHECK(fx.Problems("").size() == 1);
  CHECK(fx.Problems("-w   /home/user/    -p wa").empty());
}

TEST_CASE("audit_rule: timeline; foreign lines removed and shown; second run unchanged") {
  Fixture fx;
  fx.Write(kFile, "-w /etc/shadow -p wa\n-D\r\n");
  std::vector<Resource> rs = {fx.Make("home", "-w /home/user/ -p wa -k home"),
                              fx.Make("cache", "-a exit,never  -F dir=/home/user/.cache/", 10),
                              fx.Make("delete", "-D", 0)};
  auto results = TimelineAll(fx.registry, rs, *fx.host, fx.root);
  CHECK(fx.Read(kFile) == std::string(audit::kHeader) +
                              "-D\n-a exit,never -F dir=/home/user/.cache/\n"
                              "-w /home/user/ -p wa -k home\n");
  // The first resource carries the file's change, with the foreign lines as '-'.
  REQUIRE(results[0].status == Converged::kChanged);
  std::string diff;
  for (const auto& c : results[0].changes)
    if (c.attr == "content") diff = c.detail;
  CHECK(diff.find("-w /etc/shadow -p wa") != std::string::npos);
  CHECK(diff.find("+-w /home/user/ -p wa -k home") != std::string::npos);
  CHECK(results[1].status == Converged::kUnchanged);
  CHECK(results[2].status == Converged::kUnchanged);
}

TEST_CASE("audit_rule: the seed's misordered exclusion warns naming both resources") {
  Fixture fx;
  RunContext ctx;
  std::vector<Resource> rs = {fx.Make("home", "-w /home/user/ -p wa"),
                              fx.Make("cache", "-a exit,never -F dir=/home/user/.cache/")};
  ConvergeAll(fx.registry, rs, *fx.host, true, &ctx);
  auto w = ctx.TakeWarnings();
  REQUIRE(w.size() == 1);
  CHECK(w[0].find("audit_rule[cache]") == 0);
  CHECK(w[0].find("audit_rule[home]") != std::string::npos);
  RunContext ok;
  rs[1] = fx.Make("cache", "-a exit,never -F dir=/home/user/.cache/", 10);
  ConvergeAll(fx.registry, rs, *fx.host, true, &ok);
  CHECK(ok.TakeWarnings().empty());
}

TEST_CASE("audit_rule: CentOS 6 roots (no augenrules) get /etc/audit/audit.rules") {
  Fixture fx;
  RunContext ctx;
  ctx.facts = Value(Map{{"os", Value(Map{{"family", Value("RedHat")},
                                         {"release", Value(Map{{"major", Value("6")}})}})}});
  auto r =
      ConvergeAll(fx.registry, {fx.Make("passwd", "-w /etc/passwd -p wa")}, *fx.host, false, &ctx);
  CHECK(r[0].status == Converged::kChanged);
  CHECK(fx.Read("/etc/audit/audit.rules") ==
        std::string(audit::kHeader) + "-w /etc/passwd -p wa\n");
  CHECK_FALSE(std::filesystem::exists(fx.root.path() + kFile));
}

TEST_CASE("audit_rule: a binary rules file fails clearly and is left alone") {
  Fixture fx;
  std::string bin("-w /x\0\x01\x02", 8);
  fx.Write(kFile, bin);
  auto r = Converge(fx.registry, fx.Make("x", "-w /x -p wa"), *fx.host);
  CHECK(r.status == Converged::kFailed);
  CHECK(r.error.find(kFile) != std::string::npos);
  CHECK(fx.Read(kFile) == bin);
}
