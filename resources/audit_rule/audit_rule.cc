// audit_rule: one Linux audit rule in a rules file keel owns (SPEC 3.7).
// Every audit_rule of a run that names a file contributes to it; the file
// holds exactly those rules in (order, declaration) order under a header,
// and any other line found there is removed (shown in the diff). Prefetch
// renders each file once from all resources, so every resource of a file
// edits it to the same content: the first changes it, the rest see it done.
// Live half (host.live() only): after a change, or when the kernel's rules
// (`auditctl -l`) drifted from the files, Flush loads them once per run
// (augenrules --load, else auditctl -R FILE); with immutable rules (-e 2) it
// writes the file, loads nothing and sets reboot_required.
// Rules are checked at load time with libaudit (audit_check.{h,cc}); the
// format is in audit_rules.{h,cc}.
#include <map>

#include "engine/registry.h"
#include "resources/audit_rule/audit_check.h"
#include "resources/audit_rule/audit_rules.h"
#include "resources/builtin.h"
#include "resources/common/edit_provider.h"
#include "resources/common/line_edits.h"

namespace keel {
namespace {

constexpr const char* kDefaultFile = "/etc/audit/rules.d/keel.rules";
constexpr const char* kLegacyFile = "/etc/audit/audit.rules";
constexpr const char* kRulesDir = "/etc/audit/rules.d";
constexpr size_t kMaxFileSize = 4 << 20;

TypeSchema Schema() {
  return {
      .name = "audit_rule",
      .doc = "One Linux audit rule in a rules file keel owns (auditctl syntax).",
      .attrs =
          {
              {.name = "name", .role = AttrRole::kNamevar, .doc = "Free name (the title)."},
              {.name = "rule",
               .required = true,
               .doc = "The rule in auditctl syntax (`-w /home/user/ -p wa -k home`, "
                      "`-a exit,never -F dir=/home/user/.cache/`) or a control line (`-D`, "
                      "`-b 8192`, `-f 1`, `-e 2`). Checked with libaudit at load time."},
              {.name = "order",
               .kind = AttrKind::kInt,
               .default_value = Value(int64_t{50}),
               .doc = "Place in the file: rules sort by (order, declaration). Exclusions "
                      "(never) must come before the rules they carve out of."},
              {.name = "file",
               .kind = AttrKind::kAbsPath,
               .role = AttrRole::kParameter,
               .default_value = Value(kDefaultFile),
               .doc = "The rules file, owned by keel. The default becomes "
                      "/etc/audit/audit.rules on roots without augenrules (CentOS 5/6)."},
          },
  };
}

void Validate(const Resource& r, std::vector<AttrProblem>& problems) {
  std::string error;
  auto words = audit::SplitRule(r.GetString("rule"), &error);
  if (!words) {
    problems.push_back({"rule", r.id() + ": " + error});
    return;
  }
  if (auto bad = audit::CheckRule(*words)) problems.push_back({"rule", r.id() + ": " + *bad});
}

Value NormalizedRule(const Resource& r) {
  auto w = audit::SplitRule(r.GetString("rule"), nullptr);
  return Value(w ? audit::Normalize(*w) : r.GetString("rule"));
}

bool InRulesDir(const std::string& path) { return path.starts_with(std::string(kRulesDir) + "/"); }

class AuditRuleProvider : public edit::EditProvider {
 public:
  Result<void> Prefetch(std::span<const Resource* const> all, Host& host,
                        RunContext& ctx) override {
    legacy_ = Legacy(host, ctx);
    augenrules_ = false;
    std::vector<std::string> order;  // files in first-use order
    for (const Resource* r : all) {
      std::string path = FileFor(*r);
      FilePlan& f = files_[path];
      if (f.entries.empty()) order.push_back(path);
      f.entries.push_back(
          {r->GetString("rule"), r->GetInt("order", 50), f.entries.size(), r->id()});
    }
    // augenrules loads rules.d; a file elsewhere is loaded with auditctl -R.
    for (const auto& path : order) augenrules_ = augenrules_ || InRulesDir(path);
    augenrules_ = augenrules_ && !legacy_ && HasProgram(host, "augenrules");
    for (auto& [path, f] : files_) {
      f.content = audit::RenderFile(f.entries);
      for (const auto& p : audit::OrderProblems(f.entries))
        ctx.Warn(p.never.who + ": exclusion '" + p.never.rule + "' comes after " + p.cover.who +
                 " ('" + p.cover.rule + "') in " + path + ", which already covers " + p.path +
                 ": auditd stops at the first match, so it excludes nothing; give it a lower "
                 "order");
    }
    if (host.live() && !all.empty()) CheckLive(host, ctx, all.front()->id(), order);
    return {};
  }

  Result<void> Flush(std::span<const Resource* const> changed, Host& host,
                     RunContext& ctx) override {
    KEEL_TRY(EditProvider::Flush(changed, host, ctx));
    if (changed.empty() || !host.live() || host.dry_run() || ctx.noop) return {};
    return Load(host, ctx);
  }

 protected:
  Result<HostPath> PathOf(const Resource& want) const override {
    return HostPath::Parse(FileFor(want));
  }
  Result<std::optional<std::string>> Edit(const Resource& want,
                                          const std::optional<std::string>& before) const override {
    std::string path = FileFor(want);
    auto it = files_.find(path);
    if (it == files_.end())
      return MakeError(ErrorCode::kInternal, "audit_rule: " + path + " was not prefetched");
    if (before && before->size() > kMaxFileSize)
      return MakeError(ErrorCode::kInvalid,
                       path + " is " + std::to_string(before->size()) +
                           " bytes, more than an audit rules file holds (4 MiB); refusing to "
                           "replace it: move it away");
    if (before && *before == it->second.content) return before;
    return std::optional<std::string>(it->second.content);
  }
  // The shared content itself when it is already the rendered file: no
  // copy of it.
  Result<edit::Content> EditContent(const Resource& want,
                                    const edit::Content& before) const override {
    auto it = files_.find(FileFor(want));
    if (it != files_.end() && before->has_value() && (*before)->size() <= kMaxFileSize &&
        **before == it->second.content)
      return before;
    return EditProvider::EditContent(want, before);
  }
  void Observe(const Resource& want, const std::optional<std::string>& before,
               Observation& have) const override {
    Value rule = NormalizedRule(want);
    bool found = false;
    if (before) {
      const std::string& r = rule.as_string();
      edit::ForEachLine(*before, [&](const edit::LineSpan& l) {
        found = l.text == r;
        return !found;
      });
    }
    if (found) have.Set("rule", rule);
  }
  void DiffProperties(const Resource& want, const Observation& have,
                      std::vector<Change>& out) const override {
    DiffProperty(out, have, "rule", NormalizedRule(want));
  }
  const char* FileEnsureAttr() const override { return "file_ensure"; }

  void DiffLive(const Resource& want, const Observation& have,
                std::vector<Change>& out) const override {
    (void)have;
    if (!drift_.empty() && want.id() == drift_owner_)
      out.push_back({"loaded", Value("differs from the rules files"), Value("reloaded"), drift_});
  }
  bool IsLive(const std::string& attr) const override { return attr == "loaded"; }
  Result<void> ApplyLive(const Resource& want, std::span<const Change> live, Host& host,
                         RunContext& ctx, Outcome& out) override {
    (void)want, (void)live, (void)host, (void)ctx;
    drift_.clear();  // Flush reloads; a re-read sees nothing left to do
    out.message = "rules reloaded in flush";
    return {};
  }

 private:
  struct FilePlan {
    std::vector<audit::Entry> entries;
    std::string content;
  };

  std::string FileFor(const Resource& r) const {
    std::string f = r.GetString("file", kDefaultFile);
    return legacy_ && f == kDefaultFile ? kLegacyFile : f;
  }

  // A root without augenrules whose rules live in one file (CentOS 5/6).
  static bool Legacy(Host& host, RunContext& ctx) {
    if (HasProgram(host, "augenrules")) return false;
    const Value* fam = ctx.facts.Get("os.family");
    const Value* major = ctx.facts.Get("os.release.major");
    if (fam && fam->is_string() && fam->as_string() == "RedHat" && major && major->is_string() &&
        (major->as_string() == "5" || major->as_string() == "6"))
      return true;
    auto dir = host.Stat(*HostPath::Parse(kRulesDir));
    auto file = host.Stat(*HostPath::Parse(kLegacyFile));
    return dir.ok() && !dir->exists() && file.ok() && file->exists();
  }

  // The rules the kernel would hold after loading: augenrules reads every
  // rules.d/*.rules in name order (and keel's files elsewhere are loaded
  // after); auditctl -R reads keel's files.
  std::string ExpectedRules(Host& host, RunContext& ctx, const std::vector<std::string>& files) {
    std::string all;
    std::vector<std::string> paths;
    if (augenrules_) {
      auto names = host.ListDir(*HostPath::Parse(kRulesDir));
      if (names.ok()) {
        std::sort(names->begin(), names->end());
        for (const auto& n : *names)
          if (n.size() > 6 && n.ends_with(".rules"))
            paths.push_back(std::string(kRulesDir) + "/" + n);
      }
      for (const auto& f : files)
        if (std::find(paths.begin(), paths.end(), f) == paths.end()) paths.push_back(f);
    } else {
      paths = files;
    }
    for (const auto& p : paths) {
      if (auto it = files_.find(p); it != files_.end()) {
        all += it->second.content;
        continue;
      }
      auto c = edit::Session(ctx).Read(host, *HostPath::Parse(p));
      if (c.ok() && c->has_value()) all += **c + "\n";
    }
    return all;
  }

  void CheckLive(Host& host, RunContext& ctx, const std::string& owner,
                 const std::vector<std::string>& files) {
    if (!HasProgram(host, "auditctl")) return;
    Command status{.argv = {"auditctl", "-s"}, .timeout_s = 30, .query = true};
    auto s = host.Run(status);
    if (!s.ok() || s->exit_code != 0) return;
    enabled_ = audit::EnabledFlag(s->out);
    Command list{.argv = {"auditctl", "-l"}, .timeout_s = 30, .query = true};
    auto l = host.Run(list);
    if (!l.ok() || l->exit_code != 0) return;
    // Only when no file changes: a change reloads anyway.
    for (const auto& f : files) {
      auto c = edit::Session(ctx).Read(host, *HostPath::Parse(f));
      if (!c.ok() || !c->has_value() || **c != files_[f].content) return;
    }
    auto want = audit::CanonicalRules(ExpectedRules(host, ctx, files));
    auto have = audit::CanonicalRules(l->out);
    if (want == have) return;
    std::string detail = "--- auditctl -l\n+++ rules files\n";
    for (const auto& h : have) detail += "-" + h + "\n";
    for (const auto& w : want) detail += "+" + w + "\n";
    if (enabled_ == 2) {
      ctx.Warn(
          "audit_rule: the kernel's audit rules differ from the rules files, but they are "
          "immutable (-e 2): they load at the next boot");
      return;
    }
    ctx.Warn(
        "audit_rule: the kernel's audit rules (auditctl -l) differ from the rules files; "
        "reloading them");
    drift_ = detail;
    drift_owner_ = owner;
  }

  Result<void> Load(Host& host, RunContext& ctx) {
    std::string names;
    for (const auto& [p, f] : files_) names += (names.empty() ? "" : ", ") + p;
    if (!HasProgram(host, "auditctl")) {
      ctx.Warn("audit_rule: no auditctl on this host; " + names + " written, not loaded");
      return {};
    }
    if (!enabled_) {
      ctx.Warn(
          "audit_rule: the kernel refused `auditctl -s` (no audit support or no "
          "CAP_AUDIT_CONTROL); " +
          names + " written, not loaded");
      return {};
    }
    if (*enabled_ == 2) {
      ctx.reboot_required = true;
      ctx.Warn("audit_rule: the audit rules are immutable (enabled 2); " + names +
               " written, loaded at the next boot");
      return {};
    }
    if (augenrules_) {
      Command c{.argv = {"augenrules", "--load"}, .timeout_s = 120};
      auto r = RunChecked(host, c, "audit_rule: loading the rules");
      if (!r.ok()) return r.error();
    }
    for (const auto& [p, f] : files_) {
      if (augenrules_ && InRulesDir(p)) continue;
      Command c{.argv = {"auditctl", "-R", p}, .timeout_s = 120};
      auto r = RunChecked(host, c, "audit_rule: loading " + p);
      if (!r.ok()) return r.error();
    }
    return {};
  }

  std::map<std::string, FilePlan> files_;
  bool legacy_ = false;
  bool augenrules_ = false;  // a file is in rules.d and the host has augenrules
  std::optional<int> enabled_;
  std::string drift_;        // the drift's detail; "" when none
  std::string drift_owner_;  // the resource that carries the reload
};

}  // namespace

void RegisterAuditRule(Registry& r) {
  r.Add({
      .schema = Schema(),
      .make_provider = [] { return std::make_unique<AuditRuleProvider>(); },
      .validate = Validate,
      .identity = [](const Resource& res) { return res.title(); },
      .paths =
          [](const Resource& res) {
            return std::vector<std::string>{res.GetString("file", kDefaultFile)};
          },
      .edits_file = true,
  });
}

}  // namespace keel
