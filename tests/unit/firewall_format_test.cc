// iptables_rule / iptables_chain formats on strings: the iptables-save
// parser and serializer on real outputs (tests/unit/data/firewall/, taken
// from iptables 1.8.9 in network namespaces, nf_tables and legacy), the
// renderer's canonical text, and the chain planner's order.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "resources/firewall/ipt_plan.h"
#include "resources/firewall/ipt_rule.h"
#include "resources/firewall/ipt_save.h"
#include "tests/unit/support/test_data.h"

using namespace keel;
using namespace keel::fw;
using keel::testing::TestData;

namespace {

std::string WithoutComments(const std::string& text) {
  std::string out;
  size_t start = 0;
  while (start < text.size()) {
    size_t nl = text.find('\n', start);
    std::string line =
        text.substr(start, nl == std::string::npos ? std::string::npos : nl - start + 1);
    if (line.empty() || line[0] != '#') out += line;
    if (nl == std::string::npos) break;
    start = nl + 1;
  }
  return out;
}

std::string Render1(RuleSpec s, std::vector<SpecProblem>* out = nullptr) {
  std::vector<SpecProblem> ps;
  if (s.comment.empty()) s.comment = "t";
  std::string r = Render(s, ps);
  if (out)
    *out = ps;
  else
    CHECK_MESSAGE(ps.empty(), (ps.empty() ? "" : ps[0].second));
  return r;
}

}  // namespace

TEST_CASE("firewall: real iptables-save outputs round-trip byte for byte (comment lines aside)") {
  for (const char* f : {"firewall/centos5-seed.nft.save", "firewall/centos5-seed.legacy.save",
                        "firewall/centos5-seed-counters.nft.save", "firewall/varied-v4.nft.save",
                        "firewall/varied-v6.nft.save"}) {
    CAPTURE(f);
    std::string text = TestData(f);
    auto rs = Parse(text);
    REQUIRE_MESSAGE(rs.ok(), (rs.ok() ? "" : rs.error().message));
    CHECK(Serialize(*rs) == WithoutComments(text));
  }
}

TEST_CASE("firewall: the parser splits tables, chains, policies, rules, matches and target") {
  auto rs = Parse(TestData("firewall/varied-v4.nft.save"));
  REQUIRE(rs.ok());
  REQUIRE(rs->tables.size() == 4);
  CHECK(rs->tables[0].name == "mangle");
  const Table* f = rs->Find("filter");
  REQUIRE(f);
  CHECK(f->FindChain("FORWARD")->policy == "DROP");
  CHECK_FALSE(f->FindChain("web-in")->builtin());
  auto in = f->RulesOf("INPUT");
  REQUIRE(in.size() == 12);
  // comment with quotes and spaces, unquoted
  CHECK(in[2]->Comment() == "allow \"web\" and more");
  RuleParts p = in[2]->Parts();
  CHECK(p.base == std::vector<std::string>{"-p", "tcp"});
  REQUIRE(p.matches.size() == 2);
  CHECK(p.matches[0].name == "multiport");
  CHECK(p.matches[0].words == std::vector<std::string>{"--dports", "80,443,8000:8080"});
  CHECK(p.target == std::vector<std::string>{"-j", "web-in"});
  // negations stay in the base / match words
  CHECK(in[1]->Parts().base == std::vector<std::string>{"!", "-s", "10.1.0.0/16", "-p", "tcp"});
  CHECK(in[1]->Parts().matches[0].words == std::vector<std::string>{"!", "--dport", "22"});
  // an escaped quote and backslash
  CHECK(f->RulesOf("web-in")[1]->Comment() == "it's a \\back");
  // an unknown module is kept opaque
  CHECK(in[11]->Parts().matches[0].name == "limit");
  CHECK(in[11]->Parts().matches[0].words == std::vector<std::string>{"--limit", "5/min"});
  auto counters = Parse(TestData("firewall/centos5-seed-counters.nft.save"));
  REQUIRE(counters.ok());
  CHECK(counters->tables[0].rules[0].counters == "[0:0]");
  CHECK(Serialize(*counters, false) ==
        Serialize(*Parse(TestData("firewall/centos5-seed.nft.save")), false));
}

TEST_CASE("firewall: bad input is a clear error naming the line") {
  auto err = [](const std::string& text) {
    auto r = Parse(text);
    REQUIRE_FALSE(r.ok());
    return r.error().message;
  };
  CHECK(err("hello world\n") ==
        "line 1: 'hello world' before any *table line: not iptables-save output");
  CHECK(err("*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -j ACCEPT\n") ==
        "table filter ends without COMMIT (truncated?)");
  CHECK(err("*filter\n-A NOPE -j ACCEPT\nCOMMIT\n") ==
        "line 2: rule for chain NOPE, which table filter does not declare");
  CHECK(err("*filter\n-A INPUT -m comment --comment \"open\nCOMMIT\n")
            .starts_with("line 2: unterminated quote"));
  CHECK(err(std::string("*filter\n\0\nCOMMIT\n", 17)).starts_with("binary content"));
  CHECK(err("*filter\n-I INPUT -j ACCEPT\nCOMMIT\n").starts_with("line 2: unexpected '-I INPUT"));
  CHECK(err("*filter\n:INPUT ACCEPT [x:0]\nCOMMIT\n").starts_with("line 2: bad chain line"));
  CHECK(err("*filter\n*nat\nCOMMIT\n").starts_with("line 2: table filter has no COMMIT"));
  // A built-in chain used without its line is fine (hand-written files).
  CHECK(Parse("*filter\n-A INPUT -j ACCEPT\nCOMMIT\n").ok());
  CHECK(Parse("").ok());
}

TEST_CASE("firewall: Quote is iptables-save's quoting") {
  CHECK(Quote("x") == "x");
  CHECK(Quote("-x") == "-x");
  CHECK(Quote("a b") == "\"a b\"");
  CHECK(Quote("a,b") == "\"a,b\"");
  CHECK(Quote("it's a \\back") == "\"it\\'s a \\\\back\"");
  CHECK(Quote("a\"b") == "\"a\\\"b\"");
  CHECK(Quote("") == "\"\"");
}

TEST_CASE(
    "firewall: Render gives the text iptables-save prints (cases taken from the real outputs)") {
  // the seed's HTTP rule, without --state NEW
  CHECK(Render1({.proto = "tcp", .dport = {"80"}, .jump = "ACCEPT", .comment = "100 allow http"}) ==
        "-p tcp -m tcp --dport 80 -m comment --comment \"100 allow http\" -j ACCEPT");
  CHECK(Render1({.proto = "6",
                 .source = "10.0.0.1",
                 .destination = "192.168.1.7/24",
                 .dport = {"1000:2000"},
                 .iniface = "eth0",
                 .jump = "ACCEPT",
                 .comment = "x"}) ==
        "-s 10.0.0.1/32 -d 192.168.1.0/24 -i eth0 -p tcp -m tcp --dport 1000:2000 -m comment "
        "--comment x -j ACCEPT");
  CHECK(Render1({.proto = "tcp", .dport = {"80", "443", "8000:8080"}, .jump = "ACCEPT"}) ==
        "-p tcp -m multiport --dports 80,443,8000:8080 -m comment --comment t -j ACCEPT");
  CHECK(Render1({.proto = "tcp", .sport = {"1024:"}, .dport = {"80"}}) ==
        "-p tcp -m tcp --sport 1024:65535 --dport 80 -m comment --comment t");
  CHECK(Render1({.state = {"established", "NEW", "RELATED", "INVALID"}, .jump = "ACCEPT"}) ==
        "-m state --state INVALID,NEW,RELATED,ESTABLISHED -m comment --comment t -j ACCEPT");
  CHECK(Render1({.proto = "icmp", .icmp_type = "echo-request", .jump = "ACCEPT"}) ==
        "-p icmp -m icmp --icmp-type 8 -m comment --comment t -j ACCEPT");
  CHECK(Render1({.proto = "icmp", .icmp_type = "any"}) ==
        "-p icmp -m icmp --icmp-type any -m comment --comment t");
  CHECK(Render1({.proto = "50", .jump = "ACCEPT"}) == "-p esp -m comment --comment t -j ACCEPT");
  CHECK(Render1({.proto = "47", .outiface = "eth1"}) == "-o eth1 -p gre -m comment --comment t");
  CHECK(Render1({.jump = "REJECT"}) ==
        "-m comment --comment t -j REJECT --reject-with icmp-port-unreachable");
  CHECK(Render1({.jump = "REJECT", .reject_with = "icmp-host-prohibited"}) ==
        "-m comment --comment t -j REJECT --reject-with icmp-host-prohibited");
  CHECK(Render1({.jump = "LOG", .log_prefix = "HTTP in: "}) ==
        "-m comment --comment t -j LOG --log-prefix \"HTTP in: \"");
  CHECK(Render1({.jump = "LOG", .raw = "-m limit --limit 5/min"}) ==
        "-m limit --limit 5/min -m comment --comment t -j LOG");
  CHECK(Render1({.proto = "all", .source = "0.0.0.0/0", .jump = "ACCEPT"}) ==
        "-m comment --comment t -j ACCEPT");
  CHECK(Render1({.comment = "it's a \\back"}) == "-m comment --comment \"it\\'s a \\\\back\"");
  // IPv6
  CHECK(Render1({.ipv6 = true,
                 .proto = "tcp",
                 .source = "2001:DB8:0:0::1/64",
                 .dport = {"22"},
                 .jump = "ACCEPT",
                 .comment = "22 ssh v6"}) ==
        "-s 2001:db8::/64 -p tcp -m tcp --dport 22 -m comment --comment \"22 ssh v6\" -j ACCEPT");
  CHECK(Render1({.ipv6 = true, .proto = "icmp", .icmp_type = "neighbour-solicitation"}) ==
        "-p ipv6-icmp -m icmp6 --icmpv6-type 135 -m comment --comment t");
  CHECK(Render1({.ipv6 = true, .jump = "REJECT", .reject_with = "icmp-host-prohibited"}) ==
        "-m comment --comment t -j REJECT --reject-with icmp6-adm-prohibited");
}

TEST_CASE("firewall: Render refuses what iptables would, naming the attribute") {
  std::vector<SpecProblem> ps;
  Render1({.source = "2001:db8::1"}, &ps);
  REQUIRE(ps.size() == 1);
  CHECK(ps[0].first == "source");
  CHECK(ps[0].second.find("is an IPv6 address, but the rule is for iptables") != std::string::npos);
  Render1({.ipv6 = true, .destination = "10.0.0.1"}, &ps);
  REQUIRE(ps.size() == 1);
  CHECK(ps[0].first == "destination");
  Render1({.source = "web1.example.com"}, &ps);
  CHECK(ps.at(0).second ==
        "source 'web1.example.com' is not an IP address (keel resolves no names)");
  Render1({.proto = "tcp", .dport = {"99999"}}, &ps);
  CHECK(ps.at(0).first == "dport");
  Render1({.proto = "tcp", .dport = {"http"}}, &ps);
  CHECK(ps.at(0).second.find("not a port number") != std::string::npos);
  Render1({.dport = {"80"}}, &ps);
  CHECK(ps.at(0).second.find("ports need proto") != std::string::npos);
  Render1({.proto = "udp", .jump = "REJECT", .reject_with = "tcp-reset"}, &ps);
  CHECK(ps.at(0).second == "reject_with tcp-reset needs proto tcp");
  Render1({.state = {"NEWISH"}}, &ps);
  CHECK(ps.at(0).first == "state");
  Render1({.raw = "-j ACCEPT"}, &ps);
  CHECK(ps.at(0).first == "raw");
  Render1({.raw = "-m comment --comment \"open"}, &ps);
  CHECK(ps.at(0).second == "raw: unterminated quote");
  Render1({.log_prefix = "x"}, &ps);
  CHECK(ps.at(0).second == "log_prefix needs jump LOG");
  Render1({.source = "10.0.0.0/33"}, &ps);
  CHECK(ps.at(0).second.find("bad prefix length") != std::string::npos);
  Render1({.comment = std::string(300, 'x')}, &ps);
  CHECK(ps.at(0).first == "comment");
}

TEST_CASE("firewall: FromRule reads keel-shaped rules back into attributes") {
  auto rs = Parse(TestData("firewall/varied-v4.nft.save"));
  REQUIRE(rs.ok());
  int exact = 0;
  for (const auto& t : rs->tables)
    for (const auto& r : t.rules) {
      RuleSpec s = FromRule(r, false);
      if (s.comment.empty()) continue;
      std::vector<SpecProblem> ps;
      if (Render(s, ps) == r.args) ++exact;
    }
  CHECK(exact >= 2);
  Rule r;
  r.chain = "INPUT";
  r.args =
      "-s 10.0.0.0/8 -p tcp -m tcp --dport 80 -m state --state NEW -m comment --comment \"100 x\" "
      "-j ACCEPT";
  r.words = *SplitWords(r.args, nullptr);
  RuleSpec s = FromRule(r, false);
  CHECK(s.source == "10.0.0.0/8");
  CHECK(s.dport == std::vector<std::string>{"80"});
  CHECK(s.state == std::vector<std::string>{"NEW"});
  CHECK(s.comment == "100 x");
  CHECK(s.jump == "ACCEPT");
  std::vector<SpecProblem> ps;
  CHECK(Render(s, ps) == r.args);
}

namespace {

std::vector<Rule> MakeChain(const std::vector<std::string>& args) {
  std::vector<Rule> out;
  for (const auto& a : args) {
    Rule r;
    r.chain = "C";
    r.args = a;
    r.words = *SplitWords(a, nullptr);
    out.push_back(r);
  }
  return out;
}
std::vector<const Rule*> Ptrs(const std::vector<Rule>& v) {
  std::vector<const Rule*> out;
  for (const auto& r : v) out.push_back(&r);
  return out;
}
std::string C(const std::string& comment, const std::string& rest = "-j ACCEPT") {
  return "-m comment --comment " + Quote(comment) + " " + rest;
}
auto kNever = [](size_t, const Rule&) { return false; };

}  // namespace

TEST_CASE("firewall: PlanChain places keel's rules by order among unmanaged ones, stably") {
  auto live = MakeChain({"-i lo -j ACCEPT", C("200 b"), "-p esp -j ACCEPT", C("400 d"),
                         "-j REJECT --reject-with icmp-host-prohibited"});
  std::vector<Want> wants = {{"200 b", C("200 b"), 200, "200 b"},
                             {"300 c", C("300 c"), 300, "300 c"},
                             {"100 a", C("100 a"), 100, "100 a"},
                             {"400 d", C("400 d"), 400, "400 d"}};
  ChainPlan p = PlanChain(Ptrs(live), wants, false, kNever);
  // a new lowest rule goes before the first managed one (after the unmanaged head),
  // a middle one right before the next managed rule, unmanaged rules keep their place
  CHECK(p.after == std::vector<std::string>{"-i lo -j ACCEPT", C("100 a"), C("200 b"),
                                            "-p esp -j ACCEPT", C("300 c"), C("400 d"),
                                            "-j REJECT --reject-with icmp-host-prohibited"});
  CHECK_FALSE(p.wants[0].moved);
  CHECK_FALSE(p.wants[1].found);
  CHECK(p.wants[1].to == 5);
  // planned again: nothing moves
  auto again = MakeChain(p.after);
  ChainPlan p2 = PlanChain(Ptrs(again), wants, false, kNever);
  CHECK_FALSE(p2.changed());
  for (const auto& w : p2.wants) CHECK((w.found && !w.moved && !w.changed));
}

TEST_CASE(
    "firewall: PlanChain moves out-of-order rules, fixes changed text, removes absent and "
    "duplicates") {
  auto live = MakeChain(
      {C("300 c"), C("100 a"), C("200 b", "-j DROP"), C("200 b"), C("900 gone"), "-j LOG"});
  std::vector<Want> wants = {{"100 a", C("100 a"), 100, "100 a"},
                             {"200 b", C("200 b"), 200, "200 b"},
                             {"300 c", C("300 c"), 300, "300 c"},
                             {"900 gone", C("900 gone"), 900, "900 gone", false}};
  ChainPlan p = PlanChain(Ptrs(live), wants, false, kNever);
  // the LOG rule stays after "200 b", the rule before it that stays; "300 c" moves after it
  CHECK(p.after == std::vector<std::string>{C("100 a"), C("200 b"), "-j LOG", C("300 c")});
  CHECK(p.wants[1].changed);
  CHECK(p.wants[1].live_args == C("200 b", "-j DROP"));
  CHECK(p.wants[1].removed == std::vector<std::string>{C("200 b")});
  CHECK(p.wants[2].moved);
  CHECK(p.wants[2].from == 1);
  CHECK(p.wants[2].to == 4);
  CHECK(p.wants[3].removed == std::vector<std::string>{C("900 gone")});
  // "same" keeps a differently written but equivalent live rule as it is
  ChainPlan q = PlanChain(Ptrs(live), wants, false, [](size_t w, const Rule&) { return w == 1; });
  CHECK_FALSE(q.wants[1].changed);
  CHECK(q.after[1] == C("200 b", "-j DROP"));
}

TEST_CASE("firewall: PlanChain purge removes only unmanaged rules; inactive ones stay as found") {
  auto live = MakeChain({"-i lo -j ACCEPT", C("100 a", "-j DROP"), C("200 b"), "-j REJECT"});
  std::vector<Want> wants = {{"100 a", C("100 a"), 100, "100 a", true, /*active=*/false},
                             {"200 b", C("200 b"), 200, "200 b"},
                             {"300 c", C("300 c"), 300, "300 c"}};
  ChainPlan p = PlanChain(Ptrs(live), wants, true, kNever);
  CHECK(p.purged == std::vector<std::string>{"-i lo -j ACCEPT", "-j REJECT"});
  CHECK(p.after == std::vector<std::string>{C("100 a", "-j DROP"), C("200 b"), C("300 c")});
  // an empty chain gets its rules in order
  ChainPlan e = PlanChain({}, wants, true, kNever);
  CHECK(e.after == std::vector<std::string>{C("200 b"), C("300 c")});
  // no managed rule in the chain: appended
  auto plain = MakeChain({"-i lo -j ACCEPT", "-j REJECT"});
  ChainPlan a = PlanChain(Ptrs(plain), {wants[2]}, false, kNever);
  CHECK(a.after.back() == C("300 c"));
}
