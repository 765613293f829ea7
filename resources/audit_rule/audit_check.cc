#include "resources/audit_rule/audit_check.h"

#include <libaudit.h>

#include <cstdlib>
#include <memory>
#include <mutex>

// libaudit's parse state, shared with its field parser (auditctl declares
// these the same way; they are exported but not in libaudit.h).
extern "C" {
extern int _audit_permadded;
extern int _audit_archadded;
extern int _audit_syscalladded;
extern int _audit_exeadded;
extern int _audit_filterfsadded;
extern unsigned int _audit_elf;
}

namespace keel::audit {
namespace {

std::mutex g_mu;

void ResetState() {
  _audit_permadded = 0;
  _audit_archadded = 0;
  _audit_syscalladded = 0;
  _audit_exeadded = 0;
  _audit_filterfsadded = 0;
  _audit_elf = 0;
}

struct RuleFree {
  void operator()(audit_rule_data* r) const { audit_rule_free_data(r); }
};

bool Number(const std::string& s, bool allow_negative = false) {
  if (s.empty()) return false;
  char* end = nullptr;
  long long v = std::strtoll(s.c_str(), &end, 0);
  return *end == '\0' && (allow_negative || v >= 0);
}

std::string Quote(const std::string& s) { return "'" + s + "'"; }

// libaudit's -EAU_* codes (lib/errormsg.h upstream) in our words.
std::string FieldError(int rc, const std::string& pair) {
  switch (-rc) {
    case 1:
      return "missing operator in -F " + pair;
    case 2:
      return "unknown field in -F " + pair;
    case 3:
      return "-F arch must come before -S (" + pair + ")";
    case 4:
    case 5:
    case 6:
      return "unknown or unsupported arch in -F " + pair;
    case 7:
      return "-F " + pair + " can only be used on the exit list";
    case 8:
      return "unknown message type in -F " + pair;
    case 9:
      return "-F " + pair + ": msgtype only on the exclude or user list";
    case 11:
      return "value too long in -F " + pair;
    case 12:
      return "-F " + pair + ": field not allowed on the exclude list";
    case 13:
      return "-F " + pair + " only takes = or !=";
    case 14:
      return "-F " + pair + ": permission can only contain rwxa";
    case 15:
      return "unknown errno in -F " + pair;
    case 16:
      return "unknown file type in -F " + pair;
    case 17:
      return "-F " + pair + " only on the exit or entry list";
    case 20:
      return "missing value in -F " + pair;
    case 21:
      return "value should be a number in -F " + pair;
    case 22:
      return "missing field name in -F " + pair;
    case 28:
      return "too many fields (at " + pair + ")";
    case 29:
      return "-F " + pair + " only takes =";
    case 30:
    case 35:
      return "-F " + pair + " is not supported by this kernel";
    case 31:
    case 34:
      return "-F " + pair + " is not valid for this list";
    case 36:
      return "unknown filesystem type in -F " + pair;
    case 37:
      return "value too big in -F " + pair;
    case 39:
      return "-F " + pair + ": perm cannot be combined with -S";
    default:
      return "invalid -F " + pair + " (libaudit error " + std::to_string(-rc) + ")";
  }
}

std::optional<std::string> CheckPerms(const std::string& p) {
  if (p.empty() || p.size() > 4) return "permissions " + Quote(p) + " must be 1-4 of rwxa (-p)";
  for (char c : p)
    if (std::string("rwxaRWXA").find(c) == std::string::npos)
      return "permission " + Quote(std::string(1, c)) + " is not one of rwxa (-p " + p + ")";
  return std::nullopt;
}

std::optional<std::string> CheckKey(const std::string& k, size_t& total) {
  total += k.size() + (total ? 1 : 0);
  if (k.empty()) return std::string("empty key (-k)");
  if (total > AUDIT_MAX_KEY_LEN)
    return "key " + Quote(k) + " makes the keys longer than " + std::to_string(AUDIT_MAX_KEY_LEN);
  return std::nullopt;
}

std::optional<std::string> CheckControl(const std::vector<std::string>& w) {
  const std::string& o = w[0];
  bool takes_value = o == "-b" || o == "-f" || o == "-e" || o == "-r" || o == "--backlog_wait_time";
  if (o == "-D") {
    if (w.size() == 1) return std::nullopt;
    if (w.size() == 3 && w[1] == "-k") return std::nullopt;
    return "unexpected " + Quote(w[1]) + " after -D";
  }
  if (!takes_value) {
    if (w.size() > 1) return "unexpected " + Quote(w[1]) + " after " + o;
    return std::nullopt;
  }
  if (w.size() != 2) return o + " takes one number";
  if (!Number(w[1])) return Quote(w[1]) + " is not a number (" + o + ")";
  long v = std::strtol(w[1].c_str(), nullptr, 0);
  if (o == "-f" && v > 2) return "failure mode " + Quote(w[1]) + " must be 0, 1 or 2 (-f)";
  if (o == "-e" && v > 2) return "enabled flag " + Quote(w[1]) + " must be 0, 1 or 2 (-e)";
  return std::nullopt;
}

std::optional<std::string> CheckWatch(const std::vector<std::string>& w) {
  if (w.size() < 2) return w[0] + " needs a path";
  if (w[1].empty() || w[1][0] != '/') return "watch path " + Quote(w[1]) + " is not absolute";
  size_t keys = 0;
  for (size_t i = 2; i < w.size(); i += 2) {
    if (i + 1 >= w.size()) return w[i] + " needs a value";
    if (w[i] == "-p") {
      if (auto e = CheckPerms(w[i + 1])) return e;
    } else if (w[i] == "-k") {
      if (auto e = CheckKey(w[i + 1], keys)) return e;
    } else {
      return "unexpected " + Quote(w[i]) + " in a watch (only -p and -k)";
    }
  }
  return std::nullopt;
}

std::optional<std::string> CheckSyscallRule(const std::vector<std::string>& w) {
  if (w.size() < 2) return w[0] + " needs list,action";
  const std::string& la = w[1];
  size_t comma = la.find(',');
  if (comma == std::string::npos || la.find(',', comma + 1) != std::string::npos)
    return Quote(la) + " is not list,action (" + w[0] + ")";
  std::string a = la.substr(0, comma), b = la.substr(comma + 1);
  auto is_action = [](const std::string& s) { return s == "always" || s == "never"; };
  std::string action = is_action(a) ? a : b, list = is_action(a) ? b : a;
  if (!is_action(action)) {
    std::string bad = audit_name_to_flag(a.c_str()) >= 0 ? b : a;
    return "unknown action " + Quote(bad) + " in " + w[0] + " " + la + " (always or never)";
  }
  int flags = audit_name_to_flag(list.c_str());
  if (flags < 0)
    return "unknown list " + Quote(list) + " in " + w[0] + " " + la +
           " (exit, task, user, exclude, filesystem, io_uring)";
  if (list == "entry") return "the entry list is deprecated; use exit (" + la + ")";
  int filter = flags & AUDIT_FILTER_MASK;
  std::unique_ptr<audit_rule_data, RuleFree> rule(audit_rule_create_data());
  if (!rule) return std::string("out of memory");
  int machine = -1;
  size_t keys = 0;
  bool syscall = false;
  for (size_t i = 2; i < w.size(); i += 2) {
    const std::string& opt = w[i];
    if (i + 1 >= w.size()) return opt + " needs a value";
    const std::string& val = w[i + 1];
    if (opt == "-S") {
      if (filter != AUDIT_FILTER_EXIT && list != "io_uring")
        return "-S " + val + ": syscalls only on the exit list";
      if (machine < 0) {
        machine = _audit_elf ? audit_elf_to_machine(_audit_elf) : audit_detect_machine();
        if (machine < 0) return "-S " + val + ": cannot tell the machine type; give -F arch=";
      }
      size_t start = 0;
      while (start <= val.size()) {
        size_t c = val.find(',', start);
        std::string name = val.substr(start, c == std::string::npos ? c : c - start);
        if (name != "all" && !Number(name) && audit_name_to_syscall(name.c_str(), machine) < 0)
          return "unknown syscall " + Quote(name) + " (-S " + val + ")";
        if (c == std::string::npos) break;
        start = c + 1;
      }
      syscall = true;
      _audit_syscalladded = 1;
    } else if (opt == "-F") {
      if (val.rfind("key=", 0) == 0) {
        if (auto e = CheckKey(val.substr(4), keys)) return e;
        continue;
      }
      audit_rule_data* raw = rule.release();
      std::string scratch = val;  // libaudit cuts the pair in place
      int rc = audit_rule_fieldpair_data(&raw, scratch.data(), filter);
      rule.reset(raw);
      if (rc != 0) return FieldError(rc, val);
      if (val.rfind("perm=", 0) == 0) _audit_permadded = 1;
      if (val.rfind("arch=", 0) == 0) machine = -1;
    } else if (opt == "-C") {
      audit_rule_data* raw = rule.release();
      std::string scratch = val;
      int rc = audit_rule_interfield_comp_data(&raw, scratch.data(), filter);
      rule.reset(raw);
      if (rc != 0) return "invalid comparison -C " + val;
    } else if (opt == "-k") {
      if (auto e = CheckKey(val, keys)) return e;
    } else {
      return "unexpected " + Quote(opt) + " in a " + w[0] + " rule (-S, -F, -C, -k)";
    }
  }
  (void)syscall;
  return std::nullopt;
}

}  // namespace

std::optional<std::string> CheckRule(const std::vector<std::string>& words) {
  if (words.empty()) return std::string("the rule is empty");
  std::lock_guard<std::mutex> lock(g_mu);
  ResetState();
  const std::string& o = words[0];
  if (o == "-D" || o == "-b" || o == "-f" || o == "-e" || o == "-r" || o == "-i" || o == "-c" ||
      o == "--backlog_wait_time" || o == "--loginuid-immutable" || o == "--reset-lost")
    return CheckControl(words);
  if (o == "-w" || o == "-W") return CheckWatch(words);
  if (o == "-a" || o == "-A") return CheckSyscallRule(words);
  if (o == "-d") return "-d deletes a rule; keel's file holds rules to add (drop the rule instead)";
  return "unknown option " + Quote(o) + " (a rule starts with -w, -a, -A or a control option)";
}

}  // namespace keel::audit
