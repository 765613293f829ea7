// `ifcfg` (SPEC 3.4): a RHEL network-scripts interface file, one KEY=value
// per setting, edited in place (foreign lines and comments kept).
#include "engine/registry.h"
#include "resources/builtin.h"
#include "resources/common/edit_provider.h"
#include "resources/common/shell_file.h"

namespace keel {
namespace {

TypeSchema Schema() {
  return {
      .name = "ifcfg",
      .doc =
          "A RHEL network-scripts interface file (ifcfg-<device>): settings are edited in "
          "place, other lines kept byte for byte.",
      .attrs =
          {
              {.name = "device",
               .kind = AttrKind::kString,
               .role = AttrRole::kNamevar,
               .doc = "Interface name (eth0, sit1, bond0.100); default: the title."},
              {.name = "settings",
               .kind = AttrKind::kMap,
               .doc = "KEY: value (upper-case keys). Bools become yes/no, lists are joined by "
                      "spaces and double-quoted. New keys are added in the order given; a new "
                      "file starts with DEVICE=<device> unless settings has DEVICE."},
              {.name = "ensure",
               .kind = AttrKind::kString,
               .default_value = Value("present"),
               .allowed = {"present", "absent"},
               .doc = "present, or absent (the file is removed)."},
              {.name = "purge",
               .kind = AttrKind::kBool,
               .role = AttrRole::kParameter,
               .default_value = Value(false),
               .doc = "Remove assignments of keys not in settings (DEVICE is kept)."},
              {.name = "path",
               .kind = AttrKind::kAbsPath,
               .role = AttrRole::kParameter,
               .doc = "Default /etc/sysconfig/network-scripts/ifcfg-<device>."},
              {.name = "restart",
               .kind = AttrKind::kBool,
               .role = AttrRole::kParameter,
               .default_value = Value(false),
               .doc = "On change (and on refresh), run `ifdown <dev>; ifup <dev>` after the "
                      "file is written; never under --root or in a dry run."},
          },
  };
}

std::string DeviceOf(const Resource& r) { return r.GetString("device", r.title()); }

std::string PathOf(const Resource& r) {
  if (r.Has("path")) return r.GetString("path");
  return "/etc/sysconfig/network-scripts/ifcfg-" + DeviceOf(r);
}

/// The text of one setting and whether it came from a list.
std::string SettingText(const Value& v, bool& is_list) {
  is_list = v.is_list();
  if (v.is_bool()) return v.as_bool() ? "yes" : "no";
  if (!v.is_list()) return v.ToString();
  std::string out;
  for (const auto& e : v.as_list()) {
    if (!out.empty()) out += ' ';
    out += e.is_bool() ? (e.as_bool() ? "yes" : "no") : e.ToString();
  }
  return out;
}

bool ValidSettingKey(std::string_view k) {
  if (k.empty() || !(k[0] >= 'A' && k[0] <= 'Z')) return false;
  for (char c : k)
    if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_')) return false;
  return true;
}

bool ValidDevice(std::string_view d) {
  if (d.empty() || d == "." || d == ".." || d.size() > 64) return false;
  for (char c : d) {
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '.' || c == ':' || c == '-' || c == '@';
    if (!ok) return false;
  }
  return true;
}

Result<void> Restart(const Resource& r, Host& host) {
  if (!host.live()) return {};
  Command cmd;
  const std::string dev = DeviceOf(r);  // validated: no shell metacharacters
  cmd.shell = "ifdown '" + dev + "'; ifup '" + dev + "'";
  cmd.timeout_s = 120;
  auto res = RunChecked(host, cmd, r.id() + ": restarting " + dev);
  if (!res.ok()) return res.error();
  return {};
}

class IfcfgProvider : public edit::EditProvider {
 public:
  Result<void> Flush(std::span<const Resource* const> changed, Host& host,
                     RunContext& ctx) override {
    KEEL_TRY(edit::EditProvider::Flush(changed, host, ctx));
    std::optional<Error> first;
    for (const Resource* r : changed) {
      if (!r->GetBool("restart", false) || r->GetString("ensure") == "absent") continue;
      auto res = Restart(*r, host);
      if (!res.ok() && !first) first = res.error();
    }
    if (first) return *first;
    return {};
  }
  Result<void> Refresh(const Resource& want, Host& host, RunContext& ctx, Outcome& out) override {
    (void)ctx, (void)out;
    if (!want.GetBool("restart", false)) return {};
    return Restart(want, host);
  }

 protected:
  void Observe(const Resource& want, const std::optional<std::string>& before,
               Observation& have) const override {
    (void)want;
    have.Set("ensure", Value(before ? "present" : "absent"));
    if (!before) return;
    auto file = shell::ShellFile::Parse(*before);
    Map settings;
    for (const auto& key : file.Keys()) settings.Set(key, Value(file.Find(key)->value));
    have.Set("settings", Value(std::move(settings)));
  }
  Result<HostPath> PathOf(const Resource& want) const override {
    return HostPath::Parse(keel::PathOf(want));
  }
  Result<std::optional<std::string>> Edit(const Resource& want,
                                          const std::optional<std::string>& before) const override {
    if (want.GetString("ensure") == "absent") return std::optional<std::string>();
    auto file = shell::ShellFile::Parse(edit::TextOf(before));
    const Value* settings = want.Get("settings");
    static const Map kEmpty;
    const Map& map = settings && settings->is_map() ? settings->as_map() : kEmpty;
    if (!before && !map.Has("DEVICE")) file.Set("DEVICE", DeviceOf(want), std::nullopt);
    for (const auto& [key, v] : map) {
      bool is_list = false;
      std::string text = SettingText(v, is_list);
      file.Set(key, text, std::nullopt,
               is_list ? std::optional(shell::QuoteStyle::kDouble) : std::nullopt);
    }
    if (want.GetBool("purge", false))
      for (const auto& key : file.Keys())
        if (key != "DEVICE" && !map.Has(key)) file.Remove(key);
    std::string after = file.Render();
    if (before && after == *before) return before;
    return std::optional<std::string>(std::move(after));
  }
};

void Validate(const Resource& r, std::vector<AttrProblem>& problems) {
  if (!ValidDevice(DeviceOf(r)))
    problems.push_back(
        {"device",
         "'" + DeviceOf(r) + "' is not a valid interface name (letters, digits, . : _ - @)"});
  if (const Value* s = r.Get("settings"); s && s->is_map()) {
    for (const auto& [key, v] : s->as_map()) {
      if (!ValidSettingKey(key))
        problems.push_back(
            {"settings", "setting '" + key + "': keys are upper-case shell names (A-Z, 0-9, _)"});
      if (v.is_map() || v.is_null())
        problems.push_back({"settings", "setting '" + key +
                                            "': value must be a string, number, "
                                            "bool or list"});
    }
  }
}

}  // namespace

void RegisterIfcfg(Registry& r) {
  TypeInfo info;
  info.schema = Schema();
  info.make_provider = [] { return std::make_unique<IfcfgProvider>(); };
  info.validate = Validate;
  info.identity = [](const Resource& res) { return PathOf(res); };
  info.paths = [](const Resource& res) { return std::vector<std::string>{PathOf(res)}; };
  info.edits_file = true;
  r.Add(std::move(info));
}

}  // namespace keel
