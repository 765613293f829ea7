// iptables_rule / iptables_chain through the real transaction on a
// TempRoot (--root: only the persisted file is read and written; the live
// half is tested with the real iptables in tests/integration/firewall_*.sh).
#include <doctest/doctest.h>

#include "engine/host_real.h"
#include "engine/registry.h"
#include "tests/unit/support/converge.h"
#include "tests/unit/support/temp_root.h"
#include "tests/unit/support/test_data.h"

using namespace keel;
using keel::testing::ConvergeAll;
using keel::testing::Converged;
using keel::testing::MakeResource;
using keel::testing::TempRoot;
using keel::testing::TestData;
using keel::testing::TimelineAll;

namespace {

struct Fixture {
  Registry registry;
  TempRoot root;
  std::unique_ptr<Host> host;
  Fixture() {
    RegisterBuiltinTypes(registry);
    auto h = OpenRealHost(root.path(), nullptr);
    REQUIRE(h.ok());
    host = std::move(*h);
  }
  Resource Rule(const std::string& title, Attrs a) {
    return MakeResource(registry, "iptables_rule", title, std::move(a));
  }
};

std::string Seed() {
  std::string s = TestData("firewall/centos5-seed.nft.save");
  return s;
}

}  // namespace

TEST_CASE("iptables_rule: timeline on a Debian-style root creates /etc/iptables/rules.v4") {
  Fixture f;
  auto results = TimelineAll(
      f.registry,
      {f.Rule("100 allow http", {{"proto", "tcp"}, {"dport", "80"}, {"jump", "ACCEPT"}}),
       f.Rule("999 reject", {{"jump", "REJECT"}})},
      *f.host, f.root);
  CHECK(results[0].status == Converged::kChanged);
  CHECK(
      f.root.Read("/etc/iptables/rules.v4") ==
      "# Written by keel: the iptables rules (iptables-save format)\n"
      "*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n"
      "-A INPUT -p tcp -m tcp --dport 80 -m comment --comment \"100 allow http\" -j ACCEPT\n"
      "-A INPUT -m comment --comment \"999 reject\" -j REJECT --reject-with icmp-port-unreachable\n"
      "COMMIT\n");
}

TEST_CASE(
    "iptables_rule: the seed's HTTP rule lands before the REJECT of a purged chain; "
    "every unmanaged byte elsewhere is kept") {
  Fixture f;
  std::string nat =
      "*nat\n:PREROUTING ACCEPT [5:300]\n:INPUT ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n"
      ":POSTROUTING ACCEPT [0:0]\n-A POSTROUTING -o eth0 -j MASQUERADE\nCOMMIT\n";
  f.root.Write("/etc/iptables/rules.v4", Seed() + nat, 0600);
  std::vector<Resource> rs;
  rs.push_back(
      MakeResource(f.registry, "iptables_chain", "filter:RH-Firewall-1-INPUT", {{"purge", true}}));
  rs.push_back(
      f.Rule("010 lo", {{"chain", "RH-Firewall-1-INPUT"}, {"iniface", "lo"}, {"jump", "ACCEPT"}}));
  rs.push_back(f.Rule("999 reject", {{"chain", "RH-Firewall-1-INPUT"},
                                     {"jump", "REJECT"},
                                     {"reject_with", "icmp-host-prohibited"}}));
  rs.push_back(f.Rule(
      "100 allow http",
      {{"chain", "RH-Firewall-1-INPUT"}, {"proto", "tcp"}, {"dport", "80"}, {"jump", "ACCEPT"}}));
  auto res = TimelineAll(f.registry, rs, *f.host, f.root);
  REQUIRE(res.size() == 4);
  // the chain resource carries the purge: one '-' line per stock rule
  bool purge = false;
  for (const auto& c : res[0].changes)
    if (c.attr == "purge") {
      purge = true;
      CHECK(c.detail.find("--A RH-Firewall-1-INPUT -p tcp -m state --state NEW -m tcp --dport 22 "
                          "-j ACCEPT\n") != std::string::npos);
    }
  CHECK(purge);
  std::string file = f.root.Read("/etc/iptables/rules.v4");
  CHECK(file.find("-A RH-Firewall-1-INPUT -i lo -m comment --comment \"010 lo\" -j ACCEPT\n"
                  "-A RH-Firewall-1-INPUT -p tcp -m tcp --dport 80 -m comment --comment "
                  "\"100 allow http\" -j ACCEPT\n"
                  "-A RH-Firewall-1-INPUT -m comment --comment \"999 reject\" -j REJECT "
                  "--reject-with icmp-host-prohibited\nCOMMIT\n") != std::string::npos);
  CHECK(file.find("-A INPUT -j RH-Firewall-1-INPUT\n-A FORWARD -j RH-Firewall-1-INPUT\n") !=
        std::string::npos);
  CHECK(file.find("-A POSTROUTING -o eth0 -j MASQUERADE\n") != std::string::npos);
}

TEST_CASE("iptables_rule: without purge, unmanaged rules keep their places") {
  Fixture f;
  f.root.Write("/etc/iptables/rules.v4",
               "*filter\n:INPUT DROP [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n"
               "-A INPUT -i lo -j ACCEPT\n"
               "-A INPUT -m comment --comment \"300 c\" -j ACCEPT\n"
               "-A INPUT -p esp -j ACCEPT\nCOMMIT\n");
  std::vector<Resource> rs = {f.Rule("300 c", {{"jump", "ACCEPT"}}),
                              f.Rule("200 b", {{"jump", "ACCEPT"}}),
                              f.Rule("400 d", {{"jump", "ACCEPT"}})};
  TimelineAll(f.registry, rs, *f.host, f.root);
  CHECK(f.root.Read("/etc/iptables/rules.v4") ==
        "# Written by keel: the iptables rules (iptables-save format)\n"
        "*filter\n:INPUT DROP [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n"
        "-A INPUT -i lo -j ACCEPT\n"
        "-A INPUT -m comment --comment \"200 b\" -j ACCEPT\n"
        "-A INPUT -m comment --comment \"300 c\" -j ACCEPT\n"
        "-A INPUT -p esp -j ACCEPT\n"
        "-A INPUT -m comment --comment \"400 d\" -j ACCEPT\nCOMMIT\n");
}

TEST_CASE(
    "iptables_rule: ensure absent removes the rule with a '-' line; a changed rule shows both") {
  Fixture f;
  f.root.Write(
      "/etc/iptables/rules.v4",
      "*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n"
      "-A INPUT -m comment --comment \"100 old\" -j ACCEPT\n"
      "-A INPUT -p tcp -m tcp --dport 22 -m comment --comment \"022 ssh\" -j DROP\nCOMMIT\n");
  std::vector<Resource> rs = {
      f.Rule("100 old", {{"ensure", "absent"}}),
      f.Rule("022 ssh", {{"proto", "tcp"}, {"dport", "22"}, {"jump", "ACCEPT"}})};
  auto res = ConvergeAll(f.registry, rs, *f.host);
  REQUIRE(res[0].status == Converged::kChanged);
  CHECK(res[0].changes[0].attr == "ensure");
  CHECK(res[0].changes[0].detail.find("--A INPUT -m comment --comment \"100 old\" -j ACCEPT") !=
        std::string::npos);
  REQUIRE(res[1].status == Converged::kChanged);
  CHECK(res[1].changes[0].attr == "rule");
  auto again = ConvergeAll(f.registry, rs, *f.host);
  CHECK(again[0].status == Converged::kUnchanged);
  CHECK(again[1].status == Converged::kUnchanged);
  CHECK(f.root.Read("/etc/iptables/rules.v4").find("100 old") == std::string::npos);
}

TEST_CASE("iptables_rule: RedHat family persists to /etc/sysconfig/iptables and ip6tables") {
  Fixture f;
  RunContext ctx;
  ctx.facts = Value(Map{{"os", Value(Map{{"family", Value("RedHat")}})}});
  std::vector<Resource> rs = {f.Rule(
      "100 http", {{"family", "both"}, {"proto", "tcp"}, {"dport", "80"}, {"jump", "ACCEPT"}})};
  auto res = ConvergeAll(f.registry, rs, *f.host, false, &ctx);
  CHECK(res[0].status == Converged::kChanged);
  CHECK(f.root.Read("/etc/sysconfig/iptables").find("--comment \"100 http\"") != std::string::npos);
  CHECK(f.root.Read("/etc/sysconfig/ip6tables").find("--comment \"100 http\"") !=
        std::string::npos);
  RunContext ctx2;
  ctx2.facts = ctx.facts;
  CHECK(ConvergeAll(f.registry, rs, *f.host, false, &ctx2)[0].status == Converged::kUnchanged);
}

TEST_CASE(
    "iptables_rule: a garbage or truncated persisted file fails clearly and stays as it was") {
  for (std::string garbage : {std::string("\x7f"
                                          "ELF\x01\x02\0\0binary",
                                          14),
                              std::string("hello\n"),
                              std::string("*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -j ACCEPT\n")}) {
    Fixture f;
    f.root.Write("/etc/iptables/rules.v4", garbage);
    auto res = ConvergeAll(f.registry, {f.Rule("100 x", {{"jump", "ACCEPT"}})}, *f.host);
    CHECK(res[0].status == Converged::kFailed);
    CHECK(res[0].error.find("/etc/iptables/rules.v4: ") == 0);
    CHECK(res[0].error.find("keel will not replace it") != std::string::npos);
    CHECK(f.root.Read("/etc/iptables/rules.v4") == garbage);
  }
}

TEST_CASE("iptables_rule: load-time checks name the attribute") {
  Registry reg;
  RegisterBuiltinTypes(reg);
  const TypeInfo* t = reg.Find("iptables_rule");
  REQUIRE(t);
  auto problems = [&](Attrs a) {
    Resource r;
    r.ref = {"iptables_rule", "100 x"};
    r.attrs = std::move(a);
    return PrepareResource(*t, r);
  };
  auto p = problems({{"family", "both"}, {"source", "10.0.0.1"}});
  REQUIRE(p.size() == 1);
  CHECK(p[0].attr == "source");
  CHECK(p[0].message.find("is an IPv4 address, but the rule is for ip6tables") !=
        std::string::npos);
  CHECK(problems({{"proto", "tcp"}, {"dport", "100000"}}).at(0).attr == "dport");
  CHECK(problems({{"chain", "bad chain"}}).at(0).attr == "chain");
  CHECK(problems({{"proto", "tcp"}, {"dport", Value(List{Value("80"), Value("443")})}}).empty());
  // order defaults to the title's number, comment to the title
  Resource r;
  r.ref = {"iptables_rule", "042 answer"};
  REQUIRE(PrepareResource(*t, r).empty());
  CHECK(r.GetInt("order", 0) == 42);
  CHECK(r.GetString("comment") == "042 answer");
  Resource n;
  n.ref = {"iptables_rule", "allow web"};
  REQUIRE(PrepareResource(*t, n).empty());
  CHECK(n.GetInt("order", 0) == 50);
  const TypeInfo* c = reg.Find("iptables_chain");
  Resource bad;
  bad.ref = {"iptables_chain", "filter"};
  CHECK(PrepareResource(*c, bad).at(0).attr == "name");
  Resource pol;
  pol.ref = {"iptables_chain", "filter:mine"};
  pol.attrs.Set("policy", Value("DROP"));
  CHECK(PrepareResource(*c, pol).at(0).attr == "policy");
  Resource gone;
  gone.ref = {"iptables_chain", "filter:INPUT"};
  gone.attrs.Set("ensure", Value("absent"));
  CHECK(PrepareResource(*c, gone).at(0).attr == "ensure");
}
