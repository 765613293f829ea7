// The audit rules file format (auditctl -R, augenrules' rules.d) as pure
// string functions: splitting a rule into words, the file keel renders from
// its rules, the canonical form used to compare a file with `auditctl -l`,
// and the ordering check (an exclusion after the rule it carves out of).
// No libaudit here: names are checked in audit_check.{h,cc}.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace keel::audit {

/// The words of one rule, split on blanks (spaces, tabs) as auditctl does.
/// nullopt with `error` set when the rule is empty, or holds a newline, a
/// carriage return or another control character (a rule is one line).
std::optional<std::vector<std::string>> SplitRule(std::string_view rule, std::string* error);

/// The rule as keel writes it: its words joined by one space.
std::string Normalize(const std::vector<std::string>& words);

/// True for control lines (-D, -b, -f, -e, -r, -i, -c, --backlog_wait_time,
/// --loginuid-immutable, --reset-lost): settings, not rules `auditctl -l`
/// lists.
bool IsControl(const std::vector<std::string>& words);

/// One rule of a file with where it sorts: (order, index) ascending.
struct Entry {
  std::string rule;  // as written in the manifest
  int64_t order = 50;
  size_t index = 0;  // declaration order among the file's rules
  std::string who;   // the resource, for messages ("audit_rule[home]")
};

/// The first line of every file keel writes.
inline constexpr std::string_view kHeader =
    "# Managed by keel (audit_rule resources): exactly keel's rules, in order.\n"
    "# Lines added here are removed on the next run.\n";

/// The whole file: kHeader, then every rule normalised, sorted stably by
/// (order, index), one per line. Rules that do not split are skipped (the
/// loader has already refused them).
std::string RenderFile(std::vector<Entry> entries);

/// Entries sorted as RenderFile writes them.
std::vector<Entry> Sorted(std::vector<Entry> entries);

/// A rule in the form `auditctl -l` prints it, so the two compare equal:
/// `-a never,exit` for `-a exit,never` (and -A), `-S a -S b` as one sorted
/// list (`-S all` on the exit list when none), `-k k` as `-F key=k` on
/// syscall rules, a watch as `-w PATH -p PERMS [-k K]` (perms in rwxa
/// order, default rwxa; a syscall-less exit rule of only dir/path, perm and
/// key is a watch too), trailing '/' dropped from paths. "" for control
/// lines, comments, blank lines and "No rules".
std::string Canonical(std::string_view line);

/// Canonical() of every line of a rules file or of `auditctl -l` output,
/// empty results dropped.
std::vector<std::string> CanonicalRules(std::string_view text);

/// An exclusion placed after a rule that covers it.
struct OrderProblem {
  Entry never;  // the `never` rule
  Entry cover;  // the earlier always rule or watch covering its path
  std::string path;
};

/// In the sorted order of `entries`: each exit-list `never` rule with a
/// dir= or path= field that comes after an `always` exit rule or a -w
/// watch on the same path or a parent directory of it.
std::vector<OrderProblem> OrderProblems(const std::vector<Entry>& entries);

/// The value after `enabled ` in `auditctl -s` output; nullopt if absent.
std::optional<int> EnabledFlag(std::string_view status);

}  // namespace keel::audit
