// sysctl: one kernel parameter, persistent half (a line in a sysctl.d file)
// and live half (/proc/sys) kept apart and reported apart: "value" is the
// file, "live_value" the running kernel. The live half is only read and
// written on the running system (never under --root) and when apply is
// true. keel::Host has no /proc write primitive (an atomic rename cannot
// replace a /proc file), so the live write runs `sysctl -q -w key=value`.
#include <map>
#include <set>

#include "engine/registry.h"
#include "resources/builtin.h"
#include "resources/common/content_cache.h"
#include "resources/common/edit_provider.h"
#include "resources/sysctl/sysctl_conf.h"

namespace keel {
namespace {

constexpr const char* kDefaultFile = "/etc/sysctl.d/99-keel.conf";

TypeSchema Schema() {
  return {
      .name = "sysctl",
      .doc = "A kernel parameter: its line in a sysctl.d file and its live value in /proc/sys.",
      .attrs =
          {
              {.name = "name",
               .role = AttrRole::kNamevar,
               .doc = "The key (the title): net.ipv4.ip_forward or net/ipv4/ip_forward."},
              {.name = "value",
               .required = true,
               .doc = "The value; whitespace runs compare equal (\"4096 87380 6291456\"). "
                      "Reported as 'value' (the file) and 'live_value' (/proc/sys)."},
              {.name = "file",
               .kind = AttrKind::kAbsPath,
               .role = AttrRole::kParameter,
               .default_value = Value(kDefaultFile),
               .doc = "The file holding the persistent setting."},
              {.name = "apply",
               .kind = AttrKind::kBool,
               .role = AttrRole::kParameter,
               .default_value = Value(true),
               .doc = "Also set the running kernel (sysctl -w) when keel manages the live "
                      "system; never under --root."},
          },
  };
}

void Validate(const Resource& r, std::vector<AttrProblem>& problems) {
  std::string key = r.GetString("name");
  if (key.empty() || key.find_first_of(" \t\n=#;") != std::string::npos ||
      key.find("..") != std::string::npos || sysctl::KeyPath(key).empty())
    problems.push_back({"name", "'" + key + "' is not a sysctl key like net.ipv4.ip_forward"});
  std::string v = r.GetString("value");
  if (v.find('\n') != std::string::npos)
    problems.push_back({"value", "a sysctl value is one line"});
}

// The files `sysctl --system` reads, in its order: the *.conf of the
// sysctl.d directories by name (a name in an earlier directory hides a
// later one), then /etc/sysctl.conf (CentOS 5/6 keep everything there).
std::vector<HostPath> ConfigFiles(Host& host) {
  std::map<std::string, HostPath> by_name;
  for (const char* dir : {"/etc/sysctl.d", "/run/sysctl.d", "/usr/local/lib/sysctl.d",
                          "/usr/lib/sysctl.d", "/lib/sysctl.d"}) {
    HostPath d = *HostPath::Parse(dir);
    auto names = host.ListDir(d);
    if (!names.ok()) continue;
    for (const auto& n : *names) {
      if (n.size() <= 5 || !n.ends_with(".conf") || n.starts_with(".") || by_name.count(n))
        continue;
      auto f = host.Stat(d.Join(n));
      if (f.ok() && f->type == FileType::kFile) by_name.emplace(n, d.Join(n));
    }
  }
  std::vector<HostPath> out;
  for (auto& [n, p] : by_name) out.push_back(p);
  HostPath conf = *HostPath::Parse("/etc/sysctl.conf");
  if (auto st = host.Stat(conf); st.ok() && st->type == FileType::kFile) out.push_back(conf);
  return out;
}

class SysctlProvider : public edit::EditProvider {
 public:
  Result<void> Prefetch(std::span<const Resource* const> all, Host& host,
                        RunContext& ctx) override {
    // Where else each key is set, so that a value set in another file is
    // not reported absent (issue 11 item 15) and a file that overrides
    // keel's is named.
    std::set<std::string> keys;
    for (const Resource* r : all) keys.insert(sysctl::KeyPath(r->GetString("name")));
    for (const HostPath& f : ConfigFiles(host)) {
      auto text = host.ReadFile(f);
      if (!text.ok() || !text->has_value() || (*text)->find('\0') != std::string::npos) continue;
      // One pass over the file for every key (the last assignment wins).
      std::map<std::string, std::string_view> last;
      sysctl::ForEachAssignment(**text, [&](std::string_view key, std::string_view value) {
        std::string path = sysctl::KeyPath(key);
        if (keys.count(path)) last[path] = value;
      });
      for (const auto& [k, v] : last) set_in_[k].push_back({f.str(), std::string(v)});
    }
    for (const Resource* r : all) {
      std::string wanted = sysctl::NormalizeValue(r->GetString("value"));
      for (const auto& [file, v] : Elsewhere(*r))
        if (sysctl::NormalizeValue(v) != wanted)
          ctx.Warn(r->id() + ": " + r->GetString("name") + " is also set in " + file + " (to " + v +
                   "); keel edits only " + r->GetString("file"));
    }
    return {};
  }

 protected:
  void Observe(const Resource& want, const std::optional<std::string>& before,
               Observation& have) const override {
    ObserveValue(want, sysctl::SysctlConf::Parse(edit::TextOf(before)).Get(want.GetString("name")),
                 have);
  }
  void ObserveContent(const Resource& want, const edit::Content& before,
                      Observation& have) const override {
    const auto index = index_.Of(before);
    ObserveValue(want,
                 index
                     ? index->Get(want.GetString("name"))
                     : sysctl::SysctlConf::Parse(edit::TextOf(*before)).Get(want.GetString("name")),
                 have);
  }
  void ObserveValue(const Resource& want, std::optional<std::string> v, Observation& have) const {
    if (!v) {
      // Not in its own file: the value in force is the last other file's.
      auto others = Elsewhere(want);
      if (!others.empty()) {
        v = others.back().second;
        have.Set("file", Value(others.back().first));
      }
    }
    have.Set("value", v ? Value(*v) : Value());
  }
  void DiffProperties(const Resource& want, const Observation& have,
                      std::vector<Change>& out) const override {
    DiffProperty(out, have, "value", Value(want.GetString("value")));
  }
  const char* FileEnsureAttr() const override { return "file_ensure"; }

  Result<void> ObserveLive(const Resource& want, Host& host, Observation& have) const override {
    if (!want.GetBool("apply", true)) return {};
    auto path = HostPath::Parse("/proc/sys/" + sysctl::KeyPath(want.GetString("name")));
    if (!path.ok()) return path.error();
    auto live = host.ReadFile(*path);
    if (!live.ok()) {
      Error e = live.error();
      return e.Context(want.id() + ": reading " + path->str());
    }
    // A key the kernel lacks stays null: the write then fails naming it.
    have.Set("live_value", *live ? Value(sysctl::NormalizeValue(**live)) : Value());
    return {};
  }
  void DiffLive(const Resource& want, const Observation& have,
                std::vector<Change>& out) const override {
    const Value* live = have.Find("live_value");
    if (!live) return;  // not managed (apply: false, or not live)
    std::string wanted = sysctl::NormalizeValue(want.GetString("value"));
    if (live->is_null() || sysctl::NormalizeValue(live->as_string()) != wanted)
      out.push_back({"live_value", live->is_null() ? std::nullopt : std::optional<Value>(*live),
                     Value(wanted), ""});
  }
  bool IsLive(const std::string& attr) const override { return attr == "live_value"; }

  // (file, value) of the other files that set the key, in sysctl's order.
  std::vector<std::pair<std::string, std::string>> Elsewhere(const Resource& r) const {
    std::vector<std::pair<std::string, std::string>> out;
    auto it = set_in_.find(sysctl::KeyPath(r.GetString("name")));
    if (it == set_in_.end()) return out;
    auto own = HostPath::Parse(r.GetString("file"));
    for (const auto& fv : it->second)
      if (!own.ok() || fv.first != own->str()) out.push_back(fv);
    return out;
  }
  std::map<std::string, std::vector<std::pair<std::string, std::string>>> set_in_;
  Result<void> ApplyLive(const Resource& want, std::span<const Change> live, Host& host,
                         RunContext& ctx, Outcome& out) override {
    (void)live, (void)ctx, (void)out;
    Command cmd;
    cmd.argv = {"sysctl", "-q", "-w", want.GetString("name") + "=" + want.GetString("value")};
    cmd.chroot = false;
    cmd.timeout_s = 30;
    auto r = RunChecked(host, cmd, want.id());
    if (!r.ok()) return r.error();
    return {};
  }

 protected:
  Result<HostPath> PathOf(const Resource& want) const override {
    return HostPath::Parse(want.GetString("file"));
  }
  Result<std::optional<std::string>> Edit(const Resource& want,
                                          const std::optional<std::string>& before) const override {
    auto after = EditText(want, edit::TextOf(before));
    if (before && !after) return before;
    return std::optional<std::string>(after ? std::move(*after)
                                            : std::string(edit::TextOf(before)));
  }
  // The shared content itself when nothing changes: no copy of the file.
  Result<edit::Content> EditContent(const Resource& want,
                                    const edit::Content& before) const override {
    if (const auto index = index_.Of(before);
        index && index->InPlace(want.GetString("name"), want.GetString("value")))
      return before;  // a key already in place (every one of a no-op run) costs a lookup
    auto after = EditText(want, edit::TextOf(*before));
    if (!after) {
      if (before->has_value()) return before;
      return edit::MakeContent(std::string());
    }
    return edit::MakeContent(std::move(*after));
  }

 private:
  edit::VersionIndex<sysctl::SysctlIndex> index_;  // one per file version (content_cache.h)
  // The edited text; nullopt when it equals `text`.
  static std::optional<std::string> EditText(const Resource& want, std::string_view text) {
    sysctl::SysctlConf f = sysctl::SysctlConf::Parse(text);
    f.Set(want.GetString("name"), want.GetString("value"));
    if (!f.edited()) return std::nullopt;
    std::string after = f.Render();
    if (after == text) return std::nullopt;
    return after;
  }
};

}  // namespace

void RegisterSysctl(Registry& r) {
  r.Add({
      .schema = Schema(),
      .make_provider = [] { return std::make_unique<SysctlProvider>(); },
      .validate = Validate,
      // One kernel key has one live value, whatever file holds it.
      .identity = [](const Resource& res) { return sysctl::KeyPath(res.GetString("name")); },
      .paths = [](const Resource& res) { return std::vector<std::string>{res.GetString("file")}; },
      .edits_file = true,
  });
}

}  // namespace keel
