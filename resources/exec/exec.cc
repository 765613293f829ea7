// exec: run a command, guarded by creates/unless/onlyif (SPEC 3.11).
//
// Choices (README):
//  - The identity of an exec is its title: two execs may run the same command.
//  - A run shows as the change `returns: notrun -> 0` (as Puppet does).
//  - unless/onlyif run in a dry run too (they are queries); the command never
//    does. They use the command's cwd, environment, timeout and chroot.
//  - Refresh (notify/subscribe) runs the command when the guards allow it,
//    for refreshonly and ordinary execs alike, but never a second time in a
//    run in which Apply already ran it (Puppet would run it twice).
//  - A string runs with /bin/sh -c, a list as argv without a shell; the same
//    holds for unless and onlyif.
#include <algorithm>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "engine/host.h"
#include "engine/provider.h"
#include "engine/registry.h"
#include "resources/builtin.h"

namespace keel {
namespace {

TypeSchema Schema() {
  return {.name = "exec",
          .doc = "Runs a command when its guards (creates, unless, onlyif, refreshonly) say so.",
          .attrs = {
              {.name = "command",
               .kind = AttrKind::kStringOrList,
               .role = AttrRole::kNamevar,
               .doc = "The command: a string runs with /bin/sh -c, a list runs as argv without a "
                      "shell. Defaults to the title."},
              {.name = "creates",
               .kind = AttrKind::kAbsPath,
               .role = AttrRole::kParameter,
               .doc = "Path inside the root: the command does not run when it exists."},
              {.name = "unless",
               .kind = AttrKind::kStringOrList,
               .role = AttrRole::kParameter,
               .doc = "Command: the command runs only when this exits non-zero. Runs in dry runs."},
              {.name = "onlyif",
               .kind = AttrKind::kStringOrList,
               .role = AttrRole::kParameter,
               .doc = "Command: the command runs only when this exits 0. Runs in dry runs."},
              {.name = "refreshonly",
               .kind = AttrKind::kBool,
               .role = AttrRole::kParameter,
               .default_value = Value(false),
               .doc = "Run only when refreshed by notify/subscribe."},
              {.name = "cwd",
               .kind = AttrKind::kAbsPath,
               .role = AttrRole::kParameter,
               .doc = "Working directory inside the root (default /)."},
              {.name = "environment",
               .kind = AttrKind::kMap,
               .role = AttrRole::kParameter,
               .doc = "Environment variables added to a minimal PATH/LANG environment."},
              {.name = "timeout",
               .kind = AttrKind::kInt,
               .role = AttrRole::kParameter,
               .default_value = Value(300),
               .doc = "Seconds before the command is killed (0 = no limit)."},
              {.name = "returns",
               .kind = AttrKind::kList,
               .role = AttrRole::kParameter,
               .default_value = Value(List{Value(0)}),
               .doc = "Exit codes that mean success."},
              {.name = "chroot",
               .kind = AttrKind::kBool,
               .role = AttrRole::kParameter,
               .default_value = Value(true),
               .doc = "Under --root: run chrooted into the root; false runs on the build machine "
                      "with KEEL_ROOT set to the root."},
          }};
}

bool ParseInt(const std::string& s, int64_t& out) {
  if (s.empty() || s.size() > 10) return false;
  size_t i = s[0] == '-' ? 1 : 0;
  if (i == s.size()) return false;
  for (size_t j = i; j < s.size(); ++j)
    if (s[j] < '0' || s[j] > '9') return false;
  out = std::stoll(s);
  return true;
}

void Validate(const Resource& r, std::vector<AttrProblem>& problems) {
  for (const char* a : {"command", "unless", "onlyif"}) {
    const Value* v = r.Get(a);
    if (!v) continue;
    if ((v->is_string() && v->as_string().empty()) || (v->is_list() && v->as_list().empty()))
      problems.push_back({a, std::string(a) + " must not be empty"});
  }
  for (const auto& code : r.GetList("returns")) {
    int64_t n = 0;
    if (!ParseInt(code, n) || n < 0 || n > 255)
      problems.push_back({"returns", "returns expects exit codes 0-255, got '" + code + "'"});
  }
  if (r.Has("returns") && r.GetList("returns").empty())
    problems.push_back({"returns", "returns must list at least one exit code"});
  if (r.GetInt("timeout", 300) < 0)
    problems.push_back({"timeout", "timeout must be 0 (none) or a number of seconds"});
  if (const Value* env = r.Get("environment"))
    for (const auto& [k, v] : env->as_map()) {
      if (k.empty() || k.find('=') != std::string::npos)
        problems.push_back({"environment", "invalid environment variable name '" + k + "'"});
      if (!v.is_scalar() || v.is_null())
        problems.push_back({"environment", "environment value of " + k + " must be a string"});
    }
}

/// The Command for `attr` (command, unless or onlyif) with the resource's settings.
Command MakeCommand(const Resource& r, const std::string& attr) {
  Command c;
  const Value* v = r.Get(attr);
  if (v && v->is_list()) {
    for (const auto& e : v->as_list()) c.argv.push_back(e.ToString());
  } else if (v) {
    c.shell = v->ToString();
  }
  if (const Value* env = r.Get("environment"))
    for (const auto& [k, val] : env->as_map()) c.env[k] = val.ToString();
  c.cwd = r.GetString("cwd");
  c.timeout_s = static_cast<int>(r.GetInt("timeout", 300));
  c.chroot = r.GetBool("chroot", true);
  return c;
}

/// The command as messages show it: "[redacted]" for a sensitive resource.
std::string Shown(const Resource& r, const Command& c) {
  return r.sensitive ? std::string("[redacted]") : c.Display();
}

std::string CombinedOutput(const CommandResult& res) {
  std::string out = res.out;
  if (!res.err.empty()) {
    if (!out.empty() && out.back() != '\n') out += '\n';
    out += res.err;
  }
  return out;
}

/// The last `n` lines of `text` (without a final empty line).
std::string LastLines(const std::string& text, size_t n) {
  std::string t = text;
  while (!t.empty() && t.back() == '\n') t.pop_back();
  size_t pos = t.size();
  for (size_t i = 0; i < n && pos != std::string::npos && pos > 0; ++i) {
    pos = t.rfind('\n', pos - 1);
  }
  return pos == std::string::npos || pos == 0 ? t : t.substr(pos + 1);
}

std::string ReturnsText(const std::vector<std::string>& codes) {
  std::string s = "[";
  for (size_t i = 0; i < codes.size(); ++i) s += (i ? ", " : "") + codes[i];
  return s + "]";
}

// The success codes as integers written canonically: "00" and "0" are both
// exit code 0 (validated 0-255 at load time).
std::vector<std::string> OkCodes(const Resource& r) {
  std::vector<std::string> codes;
  for (const auto& c : r.GetList("returns")) {
    int64_t n = 0;
    codes.push_back(ParseInt(c, n) ? std::to_string(n) : c);
  }
  if (codes.empty()) codes.push_back("0");
  return codes;
}

class ExecProvider : public Provider {
 public:
  Result<Observation> Read(const Resource& want, Host& host, RunContext& ctx) override {
    (void)ctx;
    Observation have;
    if (want.GetBool("refreshonly", false)) return have;
    auto run = GuardsAllow(want, host);
    if (!run.ok()) return run.error();
    if (*run) have.Set("returns", Value("notrun"));
    return have;
  }

  std::vector<Change> Diff(const Resource& want, const Observation& have,
                           RunContext& ctx) override {
    (void)ctx;
    std::vector<Change> out;
    if (have.Has("returns"))
      out.push_back({"returns", Value("notrun"), Value(OkCodes(want)[0]), ""});
    return out;
  }

  Result<void> Apply(const Resource& want, const Observation& have, std::span<const Change> changes,
                     Host& host, RunContext& ctx, Outcome& out) override {
    (void)ctx, (void)have;
    if (changes.empty()) return {};
    if (host.dry_run()) {
      out.message = "would run " + Shown(want, MakeCommand(want, "command"));
      return {};
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      ran_.insert(want.id());
    }
    return RunCommand(want, host, out);
  }

  Result<void> Refresh(const Resource& want, Host& host, RunContext& ctx, Outcome& out) override {
    (void)ctx;
    if (host.dry_run()) {
      out.message = "would run " + Shown(want, MakeCommand(want, "command"));
      return {};
    }
    {
      // An exec that ran in this run is not run again for a notify.
      std::lock_guard<std::mutex> lock(mu_);
      if (ran_.count(want.id())) {
        out.message = "already ran in this run";
        return {};
      }
    }
    auto run = GuardsAllow(want, host);
    if (!run.ok()) return run.error();
    if (!*run) {
      out.message = "refresh: guards say the command need not run";
      return {};
    }
    return RunCommand(want, host, out);
  }

  bool VerifyAfterApply() const override { return false; }

 private:
  std::mutex mu_;
  std::set<std::string> ran_;  // ids of execs Apply ran in this run

  /// True when creates/unless/onlyif let the command run.
  static Result<bool> GuardsAllow(const Resource& want, Host& host) {
    if (want.Has("creates")) {
      auto path = HostPath::Parse(want.GetString("creates"));
      if (!path.ok()) return path.error();
      auto st = host.Lstat(*path);
      if (!st.ok()) return st.error().Context("checking creates " + path->str());
      if (st->exists()) return false;
    }
    for (const char* guard : {"onlyif", "unless"}) {
      if (!want.Has(guard)) continue;
      Command c = MakeCommand(want, guard);
      c.query = true;  // guards observe; they run in a plan too
      auto res = host.Run(c);
      if (!res.ok()) return res.error().Context(std::string(guard) + " " + Shown(want, c));
      if (res->timed_out)
        return MakeError(ErrorCode::kTimeout, std::string(guard) + " " + Shown(want, c) +
                                                  " timed out after " +
                                                  std::to_string(c.timeout_s) + " s");
      bool success = res->exit_code == 0;
      if (std::string(guard) == "onlyif" && !success) return false;
      if (std::string(guard) == "unless" && success) return false;
    }
    return true;
  }

  static Result<void> RunCommand(const Resource& want, Host& host, Outcome& out) {
    Command c = MakeCommand(want, "command");
    auto res = host.Run(c);
    if (!res.ok()) return res.error().Context("running " + Shown(want, c));
    out.output = CombinedOutput(*res);
    std::string tail = LastLines(out.output, 10);
    // A sensitive exec's command line and output may hold secrets.
    std::string shown = tail.empty() || want.sensitive ? "" : "; last output:\n" + tail;
    if (res->timed_out)
      return MakeError(ErrorCode::kTimeout, Shown(want, c) + " timed out after " +
                                                std::to_string(c.timeout_s) + " s" + shown);
    auto codes = OkCodes(want);
    if (std::find(codes.begin(), codes.end(), std::to_string(res->exit_code)) == codes.end()) {
      std::string how = res->exit_code < 0 ? std::string("was killed by a signal")
                                           : "returned " + std::to_string(res->exit_code);
      return MakeError(ErrorCode::kCommand, Shown(want, c) + " " + how + " instead of one of " +
                                                ReturnsText(codes) + shown);
    }
    return {};
  }
};

}  // namespace

void RegisterExec(Registry& r) {
  TypeInfo info;
  info.schema = Schema();
  info.make_provider = [] { return std::make_unique<ExecProvider>(); };
  info.validate = Validate;
  info.identity = [](const Resource& res) { return res.title(); };
  info.uses = [](const Resource& res) {
    std::vector<std::string> out;
    if (res.Has("cwd")) out.push_back(res.GetString("cwd"));
    return out;
  };
  r.Add(std::move(info));
}

}  // namespace keel
