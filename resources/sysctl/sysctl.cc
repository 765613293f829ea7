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

bool LiveManaged(const Resource& want, const Host& host) {
  return host.live() && want.GetBool("apply", true);
}

class SysctlProvider : public edit::EditProvider {
 public:
  Result<Attrs> Read(const Resource& want, Host& host, RunContext& ctx) override {
    auto have = EditProvider::Read(want, host, ctx);
    if (!have.ok()) return have;
    const Value* content = have->Find("content");
    auto v = sysctl::SysctlConf::Parse(content && content->is_string() ? content->as_string() : "")
                 .Get(want.GetString("name"));
    have->Set("value", v ? Value(*v) : Value());
    if (LiveManaged(want, host)) {
      auto path = HostPath::Parse("/proc/sys/" + sysctl::KeyPath(want.GetString("name")));
      if (!path.ok()) return path.error();
      auto live = host.ReadFile(*path);
      if (!live.ok()) {
        Error e = live.error();
        return e.Context(want.id() + ": reading " + path->str());
      }
      // A key the kernel lacks stays null: the write then fails naming it.
      have->Set("live_value", *live ? Value(sysctl::NormalizeValue(**live)) : Value());
    }
    return have;
  }

  std::vector<Change> Diff(const Resource& want, const Attrs& have, RunContext& ctx) override {
    std::vector<Change> out;
    std::string wanted = want.GetString("value");
    std::vector<Change> file = EditProvider::Diff(want, have, ctx);
    if (!file.empty()) {
      const Value* v = have.Find("value");
      out.push_back({"value", v && !v->is_null() ? std::optional<Value>(*v) : std::nullopt,
                     Value(wanted), ""});
      for (auto& c : file) {
        if (c.attr == "ensure") c.attr = "file_ensure";
        out.push_back(std::move(c));
      }
    }
    if (const Value* live = have.Find("live_value")) {
      if (live->is_null() ||
          sysctl::NormalizeValue(live->as_string()) != sysctl::NormalizeValue(wanted))
        out.push_back({"live_value", live->is_null() ? std::nullopt : std::optional<Value>(*live),
                       Value(sysctl::NormalizeValue(wanted)), ""});
    }
    return out;
  }

  Result<void> Apply(const Resource& want, std::span<const Change> changes, Host& host,
                     RunContext& ctx, Outcome& out) override {
    bool file_change = false, live_change = false;
    for (const auto& c : changes) (c.attr == "live_value" ? live_change : file_change) = true;
    if (file_change) KEEL_TRY(EditProvider::Apply(want, changes, host, ctx, out));
    if (!live_change || host.dry_run() || !LiveManaged(want, host)) return {};
    Command cmd;
    cmd.argv = {"sysctl", "-q", "-w", want.GetString("name") + "=" + want.GetString("value")};
    cmd.chroot = false;
    cmd.timeout_s = 30;
    auto r = host.Run(cmd);
    if (!r.ok()) {
      Error e = r.error();
      return e.Context(want.id());
    }
    if (r->exit_code != 0)
      return MakeError(ErrorCode::kCommand, want.id() + ": " + cmd.Display() + " failed (exit " +
                                                std::to_string(r->exit_code) + "): " + r->err +
                                                r->out);
    return {};
  }

 protected:
  Result<HostPath> PathOf(const Resource& want) const override {
    return HostPath::Parse(want.GetString("file", kDefaultFile));
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
      .paths =
          [](const Resource& res) {
            return std::vector<std::string>{res.GetString("file", kDefaultFile)};
          },
      .edits_file = true,
  });
}

}  // namespace keel
