#include "resources/audit_rule/audit_rules.h"

#include <algorithm>
#include <cctype>
#include <tuple>

namespace keel::audit {
namespace {

bool Blank(char c) { return c == ' ' || c == '\t'; }

std::string StripSlashes(std::string p) {
  while (p.size() > 1 && p.back() == '/') p.pop_back();
  return p;
}

// "auid>=1000" -> {"auid", ">=", "1000"}; op "" when there is none.
struct Pair {
  std::string name, op, value;
};
Pair SplitPair(const std::string& s) {
  size_t i = s.find_first_of("!<>=&");
  if (i == std::string::npos) return {s, "", ""};
  size_t j = i;
  while (j < s.size() && j < i + 2 &&
         std::string_view("!<>=&").find(s[j]) != std::string_view::npos)
    ++j;
  return {s.substr(0, i), s.substr(i, j - i), s.substr(j)};
}

std::string Perms(const std::string& p) {
  std::string out;
  for (char c : std::string("rwxa"))
    if (p.find(c) != std::string::npos || p.find(char(std::toupper(c))) != std::string::npos)
      out += c;
  return out;
}

std::vector<std::string> SplitComma(const std::string& s) {
  std::vector<std::string> out;
  size_t start = 0;
  while (true) {
    size_t c = s.find(',', start);
    out.push_back(s.substr(start, c == std::string::npos ? c : c - start));
    if (c == std::string::npos) break;
    start = c + 1;
  }
  return out;
}

// The -a/-A argument as {action, list}: either order is accepted.
std::pair<std::string, std::string> ActionList(const std::string& arg) {
  auto parts = SplitComma(arg);
  if (parts.size() != 2) return {"", arg};
  if (parts[0] == "always" || parts[0] == "never") return {parts[0], parts[1]};
  return {parts[1], parts[0]};
}

// The words after a -a/-A rule's first two, read as (option, value) pairs.
struct SyscallRule {
  std::string action, list;
  std::vector<std::string> arch, syscalls, fields, keys;
  std::optional<std::string> watch_path, perm;
  int path_fields = 0;
};

SyscallRule ReadSyscallRule(const std::vector<std::string>& w) {
  SyscallRule r;
  std::tie(r.action, r.list) = ActionList(w.size() > 1 ? w[1] : "");
  for (size_t i = 2; i + 1 < w.size(); i += 2) {
    const std::string& opt = w[i];
    const std::string& val = w[i + 1];
    if (opt == "-S") {
      for (auto& s : SplitComma(val))
        if (s != "all") r.syscalls.push_back(s);
    } else if (opt == "-k") {
      r.keys.push_back(val);
    } else if (opt == "-C") {
      r.fields.push_back("-C " + val);
    } else if (opt == "-F") {
      Pair p = SplitPair(val);
      if (p.name == "key" && p.op == "=") {
        r.keys.push_back(p.value);
      } else if (p.name == "arch") {
        r.arch.push_back("-F " + val);
      } else if ((p.name == "dir" || p.name == "path") && p.op == "=") {
        ++r.path_fields;
        r.watch_path = StripSlashes(p.value);
        r.fields.push_back("-F " + p.name + "=" + *r.watch_path);
      } else if (p.name == "perm" && p.op == "=") {
        r.perm = Perms(p.value);
        r.fields.push_back("-F perm=" + *r.perm);
      } else {
        if ((p.name == "auid" || p.name == "loginuid") &&
            (p.value == "-1" || p.value == "4294967295"))
          p.value = "unset";
        r.fields.push_back("-F " + p.name + p.op + p.value);
      }
    } else {
      r.fields.push_back(opt + " " + val);
    }
  }
  return r;
}

std::string WatchText(const std::string& path, const std::string& perm,
                      const std::vector<std::string>& keys) {
  std::string out = "-w " + path + " -p " + perm;
  for (const auto& k : keys) out += " -k " + k;
  return out;
}

}  // namespace

std::optional<std::vector<std::string>> SplitRule(std::string_view rule, std::string* error) {
  std::vector<std::string> words;
  std::string cur;
  for (char c : rule) {
    if (c == '\n' || c == '\r') {
      if (error) *error = "a rule is one line (it holds a line break)";
      return std::nullopt;
    }
    if (std::iscntrl(static_cast<unsigned char>(c)) && c != '\t') {
      if (error) *error = "the rule holds a control character";
      return std::nullopt;
    }
    if (Blank(c)) {
      if (!cur.empty()) words.push_back(std::move(cur));
      cur.clear();
    } else {
      cur += c;
    }
  }
  if (!cur.empty()) words.push_back(std::move(cur));
  if (words.empty()) {
    if (error) *error = "the rule is empty";
    return std::nullopt;
  }
  if (words[0][0] == '#') {
    if (error) *error = "the rule is a comment";
    return std::nullopt;
  }
  return words;
}

std::string Normalize(const std::vector<std::string>& words) {
  std::string out;
  for (const auto& w : words) out += (out.empty() ? "" : " ") + w;
  return out;
}

bool IsControl(const std::vector<std::string>& words) {
  if (words.empty()) return false;
  static const char* const kControl[] = {"-D",
                                         "-b",
                                         "-f",
                                         "-e",
                                         "-r",
                                         "-i",
                                         "-c",
                                         "--backlog_wait_time",
                                         "--loginuid-immutable",
                                         "--reset-lost"};
  for (const char* c : kControl)
    if (words[0] == c) return true;
  return false;
}

std::vector<Entry> Sorted(std::vector<Entry> entries) {
  std::stable_sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
    return a.order != b.order ? a.order < b.order : a.index < b.index;
  });
  return entries;
}

std::string RenderFile(std::vector<Entry> entries) {
  std::string out(kHeader);
  for (const auto& e : Sorted(std::move(entries)))
    if (auto w = SplitRule(e.rule, nullptr)) out += Normalize(*w) + "\n";
  return out;
}

std::string Canonical(std::string_view line) {
  auto w = SplitRule(line, nullptr);
  if (!w || IsControl(*w) || (*w)[0] == "No") return "";
  if ((*w)[0] == "-w" && w->size() >= 2) {
    std::string perm = "rwxa";
    std::vector<std::string> keys;
    for (size_t i = 2; i + 1 < w->size(); i += 2) {
      if ((*w)[i] == "-p") perm = Perms((*w)[i + 1]);
      if ((*w)[i] == "-k") keys.push_back((*w)[i + 1]);
    }
    return WatchText(StripSlashes((*w)[1]), perm, keys);
  }
  if ((*w)[0] != "-a" && (*w)[0] != "-A") return Normalize(*w);
  SyscallRule r = ReadSyscallRule(*w);
  // A syscall-less exit rule on one path with a perm is what -w makes.
  if (r.list == "exit" && r.action == "always" && r.syscalls.empty() && r.arch.empty() &&
      r.path_fields == 1 && r.perm && r.fields.size() == 2)
    return WatchText(*r.watch_path, *r.perm, r.keys);
  std::string out = "-a " + r.action + "," + r.list;
  for (const auto& a : r.arch) out += " " + a;
  std::sort(r.syscalls.begin(), r.syscalls.end());
  r.syscalls.erase(std::unique(r.syscalls.begin(), r.syscalls.end()), r.syscalls.end());
  if (!r.syscalls.empty()) {
    std::string s;
    for (const auto& c : r.syscalls) s += (s.empty() ? "" : ",") + c;
    out += " -S " + s;
  } else if (r.list == "exit") {
    out += " -S all";
  }
  for (const auto& f : r.fields) out += " " + f;
  for (const auto& k : r.keys) out += " -F key=" + k;
  return out;
}

std::vector<std::string> CanonicalRules(std::string_view text) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= text.size()) {
    size_t nl = text.find('\n', start);
    std::string_view line =
        text.substr(start, nl == std::string_view::npos ? std::string_view::npos : nl - start);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (std::string c = Canonical(line); !c.empty()) out.push_back(std::move(c));
    if (nl == std::string_view::npos) break;
    start = nl + 1;
  }
  return out;
}

std::vector<OrderProblem> OrderProblems(const std::vector<Entry>& entries) {
  struct Cover {
    const Entry* e;
    std::string path;
    bool subtree;
  };
  std::vector<Cover> covers;
  std::vector<OrderProblem> out;
  std::vector<Entry> sorted = Sorted(entries);
  for (const Entry& e : sorted) {
    auto w = SplitRule(e.rule, nullptr);
    if (!w || w->size() < 2) continue;
    if ((*w)[0] == "-w") {
      covers.push_back({&e, StripSlashes((*w)[1]), true});
      continue;
    }
    if ((*w)[0] != "-a" && (*w)[0] != "-A") continue;
    SyscallRule r = ReadSyscallRule(*w);
    if (r.list != "exit") continue;
    std::vector<std::pair<std::string, bool>> paths;  // (path, is dir)
    for (size_t i = 2; i + 1 < w->size(); i += 2) {
      if ((*w)[i] != "-F") continue;
      Pair p = SplitPair((*w)[i + 1]);
      if ((p.name == "dir" || p.name == "path") && p.op == "=")
        paths.emplace_back(StripSlashes(p.value), p.name == "dir");
    }
    if (r.action == "always") {
      for (auto& [p, dir] : paths) covers.push_back({&e, p, dir});
    } else if (r.action == "never" && (*w)[0] == "-a") {
      // -A puts the rule at the head of the list: it comes before everything.
      for (auto& [p, dir] : paths) {
        (void)dir;
        for (const Cover& c : covers) {
          bool under =
              p == c.path ||
              (c.subtree && (c.path == "/" ? p.size() > 1 : p.rfind(c.path + "/", 0) == 0));
          if (under) {
            out.push_back({e, *c.e, p});
            break;
          }
        }
      }
    }
  }
  return out;
}

std::optional<int> EnabledFlag(std::string_view status) {
  // "enabled 1" (auditctl 2.x+) or "AUDIT_STATUS: enabled=1 flag=1 ..." (1.x).
  size_t at = 0;
  while ((at = status.find("enabled", at)) != std::string_view::npos) {
    bool word_start = at == 0 || !std::isalnum(static_cast<unsigned char>(status[at - 1]));
    size_t v = at + 7;
    at = v;
    if (!word_start || v >= status.size() || (status[v] != ' ' && status[v] != '=')) continue;
    ++v;
    if (v < status.size() && std::isdigit(static_cast<unsigned char>(status[v])))
      return status[v] - '0';
  }
  return std::nullopt;
}

}  // namespace keel::audit
