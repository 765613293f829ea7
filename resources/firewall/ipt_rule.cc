#include "resources/firewall/ipt_rule.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <map>

namespace keel::fw {
namespace {

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}
std::string Upper(std::string s) {
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}
bool AllDigits(const std::string& s) {
  return !s.empty() && s.size() <= 6 && std::all_of(s.begin(), s.end(), [](char c) {
    return std::isdigit(static_cast<unsigned char>(c));
  });
}

// Protocol numbers iptables-save prints by name (its own table and the
// names of /etc/protocols on Debian and RHEL).
const std::map<std::string, std::string>& ProtoNames() {
  static const std::map<std::string, std::string> m = {{"1", "icmp"},
                                                       {"2", "igmp"},
                                                       {"4", "ipencap"},
                                                       {"6", "tcp"},
                                                       {"17", "udp"},
                                                       {"41", "ipv6"},
                                                       {"47", "gre"},
                                                       {"50", "esp"},
                                                       {"51", "ah"},
                                                       {"58", "ipv6-icmp"},
                                                       {"89", "ospf"},
                                                       {"103", "pim"},
                                                       {"112", "vrrp"},
                                                       {"132", "sctp"},
                                                       {"136", "udplite"},
                                                       {"33", "dccp"},
                                                       {"135", "mobility-header"}};
  return m;
}

// ICMP type names and the number iptables-save prints for them.
const std::map<std::string, std::string>& IcmpTypes(bool v6) {
  static const std::map<std::string, std::string> v4 = {{"any", "any"},
                                                        {"echo-reply", "0"},
                                                        {"pong", "0"},
                                                        {"destination-unreachable", "3"},
                                                        {"network-unreachable", "3/0"},
                                                        {"host-unreachable", "3/1"},
                                                        {"protocol-unreachable", "3/2"},
                                                        {"port-unreachable", "3/3"},
                                                        {"fragmentation-needed", "3/4"},
                                                        {"source-route-failed", "3/5"},
                                                        {"network-unknown", "3/6"},
                                                        {"host-unknown", "3/7"},
                                                        {"network-prohibited", "3/9"},
                                                        {"host-prohibited", "3/10"},
                                                        {"TOS-network-unreachable", "3/11"},
                                                        {"TOS-host-unreachable", "3/12"},
                                                        {"communication-prohibited", "3/13"},
                                                        {"host-precedence-violation", "3/14"},
                                                        {"precedence-cutoff", "3/15"},
                                                        {"source-quench", "4"},
                                                        {"redirect", "5"},
                                                        {"network-redirect", "5/0"},
                                                        {"host-redirect", "5/1"},
                                                        {"echo-request", "8"},
                                                        {"ping", "8"},
                                                        {"router-advertisement", "9"},
                                                        {"router-solicitation", "10"},
                                                        {"time-exceeded", "11"},
                                                        {"ttl-exceeded", "11"},
                                                        {"ttl-zero-during-transit", "11/0"},
                                                        {"ttl-zero-during-reassembly", "11/1"},
                                                        {"parameter-problem", "12"},
                                                        {"timestamp-request", "13"},
                                                        {"timestamp-reply", "14"},
                                                        {"address-mask-request", "17"},
                                                        {"address-mask-reply", "18"}};
  static const std::map<std::string, std::string> v6m = {{"destination-unreachable", "1"},
                                                         {"no-route", "1/0"},
                                                         {"communication-prohibited", "1/1"},
                                                         {"address-unreachable", "1/3"},
                                                         {"port-unreachable", "1/4"},
                                                         {"packet-too-big", "2"},
                                                         {"time-exceeded", "3"},
                                                         {"ttl-exceeded", "3"},
                                                         {"parameter-problem", "4"},
                                                         {"echo-request", "128"},
                                                         {"ping", "128"},
                                                         {"echo-reply", "129"},
                                                         {"pong", "129"},
                                                         {"router-solicitation", "133"},
                                                         {"router-advertisement", "134"},
                                                         {"neighbour-solicitation", "135"},
                                                         {"neighbor-solicitation", "135"},
                                                         {"neighbour-advertisement", "136"},
                                                         {"neighbor-advertisement", "136"},
                                                         {"redirect", "137"}};
  return v6 ? v6m : v4;
}

const std::vector<std::string>& RejectWith(bool v6) {
  static const std::vector<std::string> v4 = {"icmp-net-unreachable",  "icmp-host-unreachable",
                                              "icmp-port-unreachable", "icmp-proto-unreachable",
                                              "icmp-net-prohibited",   "icmp-host-prohibited",
                                              "icmp-admin-prohibited", "tcp-reset"};
  static const std::vector<std::string> v6m = {"icmp6-no-route",
                                               "icmp6-adm-prohibited",
                                               "icmp6-addr-unreachable",
                                               "icmp6-port-unreachable",
                                               "icmp6-policy-fail",
                                               "icmp6-reject-route",
                                               "tcp-reset"};
  return v6 ? v6m : v4;
}

// The IPv6 counterpart of an IPv4 --reject-with (family both).
std::string RejectFor6(const std::string& v4) {
  static const std::map<std::string, std::string> m = {
      {"icmp-net-unreachable", "icmp6-no-route"},
      {"icmp-host-unreachable", "icmp6-addr-unreachable"},
      {"icmp-port-unreachable", "icmp6-port-unreachable"},
      {"icmp-proto-unreachable", "icmp6-port-unreachable"},
      {"icmp-net-prohibited", "icmp6-adm-prohibited"},
      {"icmp-host-prohibited", "icmp6-adm-prohibited"},
      {"icmp-admin-prohibited", "icmp6-adm-prohibited"}};
  auto it = m.find(v4);
  return it == m.end() ? v4 : it->second;
}

// "10.1.2.3/16" -> "10.1.0.0/16"; "" when the whole space (iptables omits it).
std::optional<std::string> CanonAddress(const std::string& attr, const std::string& text, bool v6,
                                        std::vector<SpecProblem>& problems) {
  std::string addr = text, len;
  if (size_t slash = text.find('/'); slash != std::string::npos) {
    addr = text.substr(0, slash);
    len = text.substr(slash + 1);
  }
  bool is6 = IsIpv6Address(addr);
  if (is6 != v6) {
    problems.push_back({attr, attr + " " + text + " is an " + (is6 ? "IPv6" : "IPv4") +
                                  " address, but the rule is for " +
                                  (v6 ? "ip6tables" : "iptables") +
                                  "; set family to match, or declare one rule per family"});
    return std::nullopt;
  }
  unsigned char buf[16] = {};
  int af = v6 ? AF_INET6 : AF_INET;
  int bits = v6 ? 128 : 32;
  if (inet_pton(af, addr.c_str(), buf) != 1) {
    problems.push_back(
        {attr, attr + " '" + text + "' is not an IP address (keel resolves no names)"});
    return std::nullopt;
  }
  int prefix = bits;
  if (!len.empty()) {
    unsigned char mask[16] = {};
    if (AllDigits(len) && std::stoi(len) <= bits) {
      prefix = std::stoi(len);
    } else if (!v6 && inet_pton(AF_INET, len.c_str(), mask) == 1) {
      // a dotted netmask: must be contiguous
      uint32_t m = (uint32_t{mask[0]} << 24) | (uint32_t{mask[1]} << 16) |
                   (uint32_t{mask[2]} << 8) | mask[3];
      prefix = 0;
      while (prefix < 32 && (m & (0x80000000u >> prefix))) ++prefix;
      if (prefix < 32 && (m << prefix) != 0) prefix = -1;
    } else {
      prefix = -1;
    }
    if (prefix < 0) {
      problems.push_back({attr, attr + " '" + text + "': bad prefix length '" + len + "'"});
      return std::nullopt;
    }
  }
  for (int i = 0; i < bits; ++i)
    if (i >= prefix) buf[i / 8] &= static_cast<unsigned char>(~(0x80 >> (i % 8)));
  if (prefix == 0) return std::string();
  char out[INET6_ADDRSTRLEN] = {};
  inet_ntop(af, buf, out, sizeof out);
  return std::string(out) + "/" + std::to_string(prefix);
}

// One port or range, canonical ("1024:" -> "1024:65535").
std::optional<std::string> CanonPort(const std::string& attr, const std::string& p,
                                     std::vector<SpecProblem>& problems) {
  auto bad = [&](const std::string& why) {
    problems.push_back({attr, attr + " '" + p + "': " + why});
    return std::nullopt;
  };
  auto num = [](const std::string& s) -> int {
    if (!AllDigits(s)) return -1;
    int v = std::stoi(s);
    return v > 65535 ? -1 : v;
  };
  size_t colon = p.find(':');
  if (colon == std::string::npos) {
    if (num(p) < 0) return bad("not a port number 0-65535 (write numbers, not service names)");
    return std::to_string(num(p));
  }
  std::string a = p.substr(0, colon), b = p.substr(colon + 1);
  int lo = a.empty() ? 0 : num(a), hi = b.empty() ? 65535 : num(b);
  if (lo < 0 || hi < 0) return bad("not a port range a:b of numbers 0-65535");
  if (lo > hi) return bad("range runs backwards");
  if (lo == hi) return std::to_string(lo);
  return std::to_string(lo) + ":" + std::to_string(hi);
}

bool PortProto(const std::string& p) {
  return p == "tcp" || p == "udp" || p == "sctp" || p == "dccp";
}

}  // namespace

bool IsIpv6Address(const std::string& addr) { return addr.find(':') != std::string::npos; }

std::string Render(const RuleSpec& s, std::vector<SpecProblem>& problems) {
  std::vector<std::string> w;
  auto add = [&](std::initializer_list<std::string> xs) { w.insert(w.end(), xs); };
  if (!s.source.empty())
    if (auto a = CanonAddress("source", s.source, s.ipv6, problems); a && !a->empty())
      add({"-s", *a});
  if (!s.destination.empty())
    if (auto a = CanonAddress("destination", s.destination, s.ipv6, problems); a && !a->empty())
      add({"-d", *a});
  for (const auto& [attr, opt, val] :
       {std::tuple<std::string, std::string, std::string>{"iniface", "-i", s.iniface},
        {"outiface", "-o", s.outiface}}) {
    if (val.empty()) continue;
    if (val.size() > 15 || val.find_first_of(" \t\"'/") != std::string::npos)
      problems.push_back({attr, attr + " '" + val + "' is not an interface name"});
    add({opt, val});
  }
  std::string proto = Lower(s.proto);
  if (auto it = ProtoNames().find(proto); it != ProtoNames().end()) proto = it->second;
  if (proto == "icmpv6") proto = "ipv6-icmp";
  if (proto == "icmp" && s.ipv6) proto = "ipv6-icmp";
  if (proto == "all" || proto == "0") proto.clear();
  if (!proto.empty()) {
    if (proto.find_first_of(" \t\"'!") != std::string::npos)
      problems.push_back({"proto", "proto '" + s.proto + "' is not a protocol name or number"});
    add({"-p", proto});
  }
  // Ports: a single port/range in the protocol's own match, lists in multiport.
  std::vector<std::string> sp, dp;
  for (const auto& p : s.sport)
    if (auto c = CanonPort("sport", p, problems)) sp.push_back(*c);
  for (const auto& p : s.dport)
    if (auto c = CanonPort("dport", p, problems)) dp.push_back(*c);
  if ((!sp.empty() || !dp.empty()) && !PortProto(proto))
    problems.push_back({sp.empty() ? "dport" : "sport",
                        "ports need proto tcp, udp, sctp or dccp (proto is '" + s.proto + "')"});
  std::vector<std::string> own;
  if (sp.size() == 1) own.insert(own.end(), {"--sport", sp[0]});
  if (dp.size() == 1) own.insert(own.end(), {"--dport", dp[0]});
  if (!own.empty()) {
    add({"-m", proto});
    w.insert(w.end(), own.begin(), own.end());
  }
  for (const auto& [attr, opt, list] :
       {std::tuple<std::string, std::string, const std::vector<std::string>*>{"sport", "--sports",
                                                                              &sp},
        {"dport", "--dports", &dp}}) {
    if (list->size() < 2) continue;
    size_t slots = 0;
    std::string joined;
    for (const auto& p : *list) {
      slots += p.find(':') == std::string::npos ? 1 : 2;
      joined += (joined.empty() ? "" : ",") + p;
    }
    if (slots > 15)
      problems.push_back({attr, attr + ": more than 15 ports (a range counts 2): the multiport "
                                       "match holds no more; split the rule"});
    add({"-m", "multiport", opt, joined});
  }
  if (!s.icmp_type.empty()) {
    if (proto != "icmp" && proto != "ipv6-icmp")
      problems.push_back({"icmp_type", "icmp_type needs proto icmp"});
    std::string t = s.icmp_type;
    const auto& names = IcmpTypes(s.ipv6);
    if (auto it = names.find(t); it != names.end()) t = it->second;
    if (t.find_first_of(" \t\"'") != std::string::npos)
      problems.push_back({"icmp_type", "icmp_type '" + s.icmp_type + "' is not an ICMP type"});
    if (s.ipv6)
      add({"-m", "icmp6", "--icmpv6-type", t});
    else
      add({"-m", "icmp", "--icmp-type", t});
  }
  if (!s.state.empty()) {
    static const std::vector<std::string> kOrder = {"INVALID", "NEW", "RELATED", "ESTABLISHED"};
    std::vector<bool> has(kOrder.size(), false);
    for (const auto& st : s.state) {
      auto it = std::find(kOrder.begin(), kOrder.end(), Upper(st));
      if (it == kOrder.end())
        problems.push_back(
            {"state", "state '" + st + "': expected NEW, ESTABLISHED, RELATED or INVALID"});
      else
        has[static_cast<size_t>(it - kOrder.begin())] = true;
    }
    std::string joined;
    for (size_t i = 0; i < kOrder.size(); ++i)
      if (has[i]) joined += (joined.empty() ? "" : ",") + kOrder[i];
    add({"-m", "state", "--state", joined});
  }
  if (!s.raw.empty()) {
    std::string err;
    auto words = SplitWords(s.raw, &err);
    if (!words) {
      problems.push_back({"raw", "raw: " + err});
    } else {
      for (const auto& x : *words) {
        if (x == "-j" || x == "-g" || x == "-A" || x == "-I" || x == "-D" || x == "--jump" ||
            x == "--goto")
          problems.push_back(
              {"raw", "raw holds match arguments only; '" + x + "' belongs elsewhere (use jump)"});
        if (x.find_first_of("\n\r") != std::string::npos)
          problems.push_back({"raw", "raw must be one line"});
        w.push_back(x.empty() || x.find_first_of(" \t\"'\\") != std::string::npos ? Quote(x) : x);
      }
    }
  }
  if (s.comment.empty() || s.comment.size() > 255 ||
      s.comment.find_first_of("\n\r") != std::string::npos)
    problems.push_back({"comment",
                        "comment must be 1-255 characters on one line (keel recognises "
                        "its rules by it)"});
  add({"-m", "comment", "--comment"});
  w.push_back(Quote(s.comment));
  if (!s.jump.empty()) {
    if (s.jump.size() > 28 || s.jump.find_first_of(" \t\"'!") != std::string::npos ||
        s.jump.front() == '-')
      problems.push_back({"jump", "jump '" + s.jump + "' is not a target or chain name"});
    add({"-j", s.jump});
  }
  if (!s.reject_with.empty() && s.jump != "REJECT")
    problems.push_back({"reject_with", "reject_with needs jump REJECT"});
  if (!s.log_prefix.empty() && s.jump != "LOG")
    problems.push_back({"log_prefix", "log_prefix needs jump LOG"});
  if (s.jump == "REJECT") {
    std::string rw = s.reject_with.empty()
                         ? (s.ipv6 ? "icmp6-port-unreachable" : "icmp-port-unreachable")
                         : (s.ipv6 ? RejectFor6(s.reject_with) : s.reject_with);
    const auto& ok = RejectWith(s.ipv6);
    if (std::find(ok.begin(), ok.end(), rw) == ok.end()) {
      std::string list;
      for (const auto& o : ok) list += (list.empty() ? "" : ", ") + o;
      problems.push_back({"reject_with", "reject_with '" + s.reject_with + "' for " +
                                             (s.ipv6 ? "ip6tables" : "iptables") +
                                             ": expected one of " + list});
    }
    if (rw == "tcp-reset" && proto != "tcp")
      problems.push_back({"reject_with", "reject_with tcp-reset needs proto tcp"});
    add({"--reject-with", rw});
  }
  if (s.jump == "LOG" && !s.log_prefix.empty()) {
    if (s.log_prefix.size() > 29 || s.log_prefix.find_first_of("\n\r") != std::string::npos)
      problems.push_back({"log_prefix", "log_prefix holds at most 29 characters on one line"});
    add({"--log-prefix"});
    w.push_back(Quote(s.log_prefix));
  }
  std::string out;
  for (const auto& x : w) out += (out.empty() ? "" : " ") + x;  // quoted where iptables-save does
  return out;
}

RuleSpec FromRule(const Rule& rule, bool ipv6) {
  RuleSpec s;
  s.ipv6 = ipv6;
  RuleParts p = rule.Parts();
  std::vector<std::string> raw;
  for (size_t i = 0; i < p.base.size(); ++i) {
    const std::string& o = p.base[i];
    bool has_arg = i + 1 < p.base.size();
    if (o == "!" || !has_arg) {
      raw.insert(raw.end(), p.base.begin() + static_cast<long>(i), p.base.end());
      break;
    }
    const std::string& v = p.base[++i];
    if (o == "-s")
      s.source = v;
    else if (o == "-d")
      s.destination = v;
    else if (o == "-i")
      s.iniface = v;
    else if (o == "-o")
      s.outiface = v;
    else if (o == "-p")
      s.proto = v;
    else
      raw.insert(raw.end(), {o, v});
  }
  for (const auto& m : p.matches) {
    const auto& w = m.words;
    bool done = false;
    if (m.name == s.proto && !s.proto.empty() && w.size() % 2 == 0) {
      done = true;
      for (size_t i = 0; i < w.size(); i += 2) {
        if (w[i] == "--sport" && s.sport.empty())
          s.sport = {w[i + 1]};
        else if (w[i] == "--dport" && s.dport.empty())
          s.dport = {w[i + 1]};
        else if ((w[i] == "--icmp-type" || w[i] == "--icmpv6-type") && s.icmp_type.empty())
          s.icmp_type = w[i + 1];
        else
          done = false;
      }
      if (!done) s.sport.clear(), s.dport.clear(), s.icmp_type.clear();
    } else if ((m.name == "icmp" || m.name == "icmp6") && w.size() == 2 &&
               (w[0] == "--icmp-type" || w[0] == "--icmpv6-type")) {
      s.icmp_type = w[1];
      done = true;
    } else if (m.name == "multiport" && w.size() == 2 &&
               (w[0] == "--sports" || w[0] == "--dports")) {
      auto& list = w[0] == "--sports" ? s.sport : s.dport;
      if (list.empty()) {
        size_t start = 0;
        while (true) {
          size_t comma = w[1].find(',', start);
          list.push_back(w[1].substr(start, comma - start));
          if (comma == std::string::npos) break;
          start = comma + 1;
        }
        done = true;
      }
    } else if ((m.name == "state" && w.size() == 2 && w[0] == "--state" && s.state.empty())) {
      size_t start = 0;
      while (true) {
        size_t comma = w[1].find(',', start);
        s.state.push_back(w[1].substr(start, comma - start));
        if (comma == std::string::npos) break;
        start = comma + 1;
      }
      done = true;
    } else if (m.name == "comment" && w.size() == 2 && w[0] == "--comment" && s.comment.empty()) {
      s.comment = w[1];
      done = true;
    }
    if (!done) {
      raw.insert(raw.end(), {"-m", m.name});
      raw.insert(raw.end(), w.begin(), w.end());
    }
  }
  if (p.target.size() >= 2 && p.target[0] == "-j") {
    s.jump = p.target[1];
    const auto& t = p.target;
    if (t.size() == 4 && t[2] == "--reject-with") s.reject_with = t[3];
    if (t.size() == 4 && t[2] == "--log-prefix") s.log_prefix = t[3];
  }
  for (const auto& x : raw)
    s.raw += (s.raw.empty() ? "" : " ") +
             (x.empty() || x.find_first_of(" \t\"'\\") != std::string::npos ? Quote(x) : x);
  return s;
}

}  // namespace keel::fw
