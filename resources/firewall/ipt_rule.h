// A declared firewall rule (the attributes of iptables_rule) and its
// canonical iptables-save text: Render gives exactly what iptables-save
// prints for the rule once loaded (the implicit `-m tcp`, addresses with
// their prefix and host bits cleared, protocol numbers as names, icmp type
// names as numbers, state lists in the kernel's order, REJECT's default
// --reject-with, quoting), so live rules compare as text. Pure.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "resources/firewall/ipt_save.h"

namespace keel::fw {

struct RuleSpec {
  bool ipv6 = false;
  std::string proto, source, destination;
  std::vector<std::string> sport, dport;
  std::string iniface, outiface;
  std::vector<std::string> state;
  std::string icmp_type, jump, reject_with, log_prefix, raw, comment;
};

/// A problem with one attribute: {attr, message}.
using SpecProblem = std::pair<std::string, std::string>;

/// The rule's arguments as iptables-save prints them (the text after
/// "-A CHAIN "). Problems (bad address, address of the other family,
/// port out of range, option without its target, ...) are appended to
/// `problems`; the text is then meaningless.
std::string Render(const RuleSpec& spec, std::vector<SpecProblem>& problems);

/// The family of an address: "ipv6" when it holds ':', else "ipv4".
bool IsIpv6Address(const std::string& addr);

/// Best effort inverse of Render for `keel resource`: the attributes of a
/// live rule. What has no attribute (negations, other modules, target
/// options) goes to `raw` in order. The caller checks Render(result) ==
/// rule.args before trusting it.
RuleSpec FromRule(const Rule& rule, bool ipv6);

}  // namespace keel::fw
