// sysctl: one kernel parameter, persistent half (a line in a sysctl.d file)
// and live half (/proc/sys) kept apart and reported apart: "value" is the
// file, "live_value" the running kernel. The live half is only read and
// written on the running system (never under --root) and when apply is
// true. keel::Host has no /proc write primitive (an atomic rename cannot
// replace a /proc file), so the live write runs `sysctl -q -w key=value`.
#include "engine/registry.h"
#include "resources/builtin.h"
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

class SysctlProvider : public edit::EditProvider {
 protected:
  void Observe(const Resource& want, const std::optional<std::string>& before,
               Observation& have) const override {
    auto v = sysctl::SysctlConf::Parse(before.value_or("")).Get(want.GetString("name"));
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
    sysctl::SysctlConf f = sysctl::SysctlConf::Parse(before.value_or(""));
    f.Set(want.GetString("name"), want.GetString("value"));
    std::string after = f.Render();
    if (before && after == *before) return before;
    return std::optional<std::string>(after);
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
