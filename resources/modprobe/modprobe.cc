// modprobe: options, aliases, blacklisting and install command of one
// kernel module in a modprobe.d file (SPEC 3.5). Persistent half only; only
// the module's own lines are edited. With initramfs: true, a change
// rebuilds the initramfs once per run in Flush (dracut, mkinitrd or
// update-initramfs, whichever the root has, run chrooted under --root).
// The format lives in modprobe_conf.{h,cc}.
#include "engine/registry.h"
#include "resources/builtin.h"
#include "resources/common/edit_provider.h"
#include "resources/modprobe/modprobe_conf.h"

namespace keel {
namespace {

TypeSchema Schema() {
  return {
      .name = "modprobe",
      .doc = "Options, aliases and blacklisting of one kernel module in modprobe.d.",
      .attrs =
          {
              {.name = "name", .role = AttrRole::kNamevar, .doc = "Module name (the title)."},
              {.name = "options",
               .kind = AttrKind::kMap,
               .doc = "param: value pairs, written in manifest order on one line "
                      "(`options ipmi_si type=kcs ports=0xca2`); a list value is joined with "
                      "','. {} removes the options line. Unset: not managed."},
              {.name = "aliases",
               .kind = AttrKind::kList,
               .doc = "Names that resolve to this module (`alias eth0 xennet`): exactly these "
                      "alias lines. Unset: not managed."},
              {.name = "blacklist",
               .kind = AttrKind::kBool,
               .doc = "true: a `blacklist <module>` line; false: none. Unset: not managed."},
              {.name = "install",
               .doc = "Command of an `install <module> <command>` line; \"\" removes it."},
              {.name = "ensure",
               .default_value = Value("present"),
               .allowed = {"present", "absent"},
               .doc = "absent: every line of the module goes (and the file when left empty)."},
              {.name = "file",
               .kind = AttrKind::kAbsPath,
               .role = AttrRole::kParameter,
               .doc = "Default /etc/modprobe.d/<module>.conf; /etc/modprobe.conf on old hosts."},
              {.name = "initramfs",
               .kind = AttrKind::kBool,
               .role = AttrRole::kParameter,
               .default_value = Value(false),
               .doc = "Rebuild the initramfs once per run after a change (for drivers loaded "
                      "from it): dracut -f, mkinitrd or update-initramfs -u."},
          },
  };
}

bool OneWord(const std::string& s) {
  return !s.empty() && s.find_first_of(" \t\r\n#=\"") == std::string::npos;
}

void Validate(const Resource& r, std::vector<AttrProblem>& problems) {
  if (!OneWord(r.GetString("name")))
    problems.push_back({"name", "'" + r.GetString("name") + "' is not a module name"});
  if (const Value* o = r.Get("options"))
    for (const auto& [k, v] : o->as_map()) {
      if (!OneWord(k)) problems.push_back({"options", "'" + k + "' is not a parameter name"});
      if (v.is_map() || v.is_null())
        problems.push_back({"options", "value of '" + k + "' must be a scalar or a list"});
      if (v.ToString().find_first_of("\"\n") != std::string::npos)
        problems.push_back({"options", "value of '" + k + "' may not hold '\"' or a newline"});
    }
  for (const auto& a : r.GetList("aliases"))
    if (!OneWord(a)) problems.push_back({"aliases", "'" + a + "' is not an alias name"});
  if (r.GetString("install").find('\n') != std::string::npos)
    problems.push_back({"install", "the install command is one line"});
}

std::string FileOf(const Resource& r) {
  return r.GetString("file", "/etc/modprobe.d/" + r.GetString("name") + ".conf");
}

modprobe::Options WantOptions(const Value& v) {
  modprobe::Options out;
  for (const auto& [k, val] : v.as_map()) {
    std::string s;
    if (val.is_list()) {
      for (const auto& e : val.as_list()) s += (s.empty() ? "" : ",") + e.ToString();
    } else {
      s = val.ToString();
    }
    out.emplace_back(k, s);
  }
  return out;
}

modprobe::ModuleSpec SpecOf(const Resource& want) {
  modprobe::ModuleSpec s;
  s.module = want.GetString("name");
  s.absent = want.GetString("ensure") == "absent";
  if (const Value* o = want.Get("options")) s.options = WantOptions(*o);
  if (want.Has("aliases")) s.aliases = want.GetList("aliases");
  if (want.Has("blacklist")) s.blacklist = want.GetBool("blacklist", false);
  if (want.Has("install")) s.install = want.GetString("install");
  return s;
}

Value OptionsValue(const modprobe::Options& o) {
  Map m;
  for (const auto& [k, v] : o) m.Set(k, Value(v));
  return Value(std::move(m));
}

// The module name as modules.builtin lists it ("kernel/drivers/.../ipmi_si.ko").
std::string BuiltinName(std::string s) {
  if (size_t slash = s.rfind('/'); slash != std::string::npos) s = s.substr(slash + 1);
  if (size_t ko = s.find(".ko"); ko != std::string::npos) s = s.substr(0, ko);
  return modprobe::ModuleKey(s);
}

class ModprobeProvider : public edit::EditProvider {
 public:
  Result<void> Prefetch(std::span<const Resource* const> all, Host&, RunContext& ctx) override {
    const Value* builtin = ctx.facts.Get("kernel.builtin_modules");
    if (!builtin || !builtin->is_list()) return {};
    for (const Resource* r : all) {
      const Value* o = r->Get("options");
      if (!o || o->as_map().empty()) continue;
      std::string key = modprobe::ModuleKey(r->GetString("name"));
      for (const auto& b : builtin->as_list()) {
        if (!b.is_string() || BuiltinName(b.as_string()) != key) continue;
        std::string params;
        for (const auto& [k, v] : WantOptions(*o))
          params += (params.empty() ? "" : " ") + r->GetString("name") + "." + k + "=" + v;
        ctx.Warn(r->id() + ": options in modprobe.d do nothing for built-in module " +
                 r->GetString("name") + ": use kernel_parameter " + params);
        break;
      }
    }
    return {};
  }

  Result<void> Flush(std::span<const Resource* const> changed, Host& host,
                     RunContext& ctx) override {
    KEEL_TRY(EditProvider::Flush(changed, host, ctx));
    bool rebuild = false;
    for (const Resource* r : changed) rebuild = rebuild || r->GetBool("initramfs", false);
    if (!rebuild || host.dry_run() || ctx.noop) return {};
    return RebuildInitramfs(host, ctx);
  }

 protected:
  void Observe(const Resource& want, const std::optional<std::string>& before,
               Observation& have) const override {
    auto s = modprobe::ModprobeConf::Parse(before.value_or("")).Inspect(want.GetString("name"));
    have.Set("ensure", Value(s.mentioned ? "present" : "absent"));
    have.Set("options", OptionsValue(s.options));
    List aliases;
    for (const auto& a : s.aliases) aliases.push_back(Value(a));
    have.Set("aliases", Value(std::move(aliases)));
    have.Set("blacklist", Value(s.blacklist));
    have.Set("install", Value(s.install.value_or("")));
  }
  void DiffProperties(const Resource& want, const Observation& have,
                      std::vector<Change>& out) const override {
    modprobe::ModuleSpec s = SpecOf(want);
    if (s.absent) {
      DiffProperty(out, have, "ensure", Value("absent"));
      return;
    }
    if (s.options) DiffProperty(out, have, "options", OptionsValue(*s.options));
    if (s.aliases) {
      List l;
      for (const auto& a : *s.aliases) l.push_back(Value(a));
      DiffProperty(out, have, "aliases", Value(std::move(l)));
    }
    if (s.blacklist) DiffProperty(out, have, "blacklist", Value(*s.blacklist));
    if (s.install) DiffProperty(out, have, "install", Value(*s.install));
  }
  const char* FileEnsureAttr() const override { return "file_ensure"; }
  Result<HostPath> PathOf(const Resource& want) const override {
    return HostPath::Parse(FileOf(want));
  }
  Result<std::optional<std::string>> Edit(const Resource& want,
                                          const std::optional<std::string>& before) const override {
    modprobe::ModprobeConf f = modprobe::ModprobeConf::Parse(before.value_or(""));
    modprobe::ModuleSpec spec = SpecOf(want);
    if (spec.absent && !before) return before;
    f.Apply(spec);
    std::string after = f.Render();
    if (before && after == *before) return before;
    // A file left with nothing in it by ensure: absent goes away.
    if (spec.absent && f.Empty()) return std::optional<std::string>();
    return std::optional<std::string>(after);
  }

 private:
  // One rebuild for the whole run, with the tool the root has, for the
  // root's kernel (facts kernel.release) when known.
  Result<void> RebuildInitramfs(Host& host, RunContext& ctx) {
    std::string kver;
    if (const Value* k = ctx.facts.Get("kernel.release"); k && k->is_string())
      kver = k->as_string();
    Command cmd;
    cmd.timeout_s = 900;
    if (HasProgram(host, "dracut")) {
      cmd.argv = {"dracut", "-f"};
      if (!kver.empty())
        cmd.argv.insert(cmd.argv.end(), {"/boot/initramfs-" + kver + ".img", kver});
    } else if (HasProgram(host, "update-initramfs")) {
      cmd.argv = {"update-initramfs", "-u"};
      if (!kver.empty()) cmd.argv.insert(cmd.argv.end(), {"-k", kver});
    } else if (HasProgram(host, "mkinitrd")) {
      if (kver.empty()) {
        ctx.Warn(
            "modprobe: mkinitrd needs the kernel release (facts kernel.release); "
            "initramfs not rebuilt");
        return {};
      }
      cmd.argv = {"mkinitrd", "-f", "/boot/initrd-" + kver + ".img", kver};
    } else {
      ctx.Warn(
          "modprobe: initramfs: true, but the root has no dracut, update-initramfs or "
          "mkinitrd; initramfs not rebuilt");
      return {};
    }
    auto r = RunChecked(host, cmd, "modprobe: rebuilding the initramfs");
    if (!r.ok()) return r.error();
    return {};
  }
};

}  // namespace

void RegisterModprobe(Registry& r) {
  r.Add({
      .schema = Schema(),
      .make_provider = [] { return std::make_unique<ModprobeProvider>(); },
      .validate = Validate,
      .identity = [](const Resource& res) { return modprobe::ModuleKey(res.GetString("name")); },
      .paths = [](const Resource& res) { return std::vector<std::string>{FileOf(res)}; },
      .edits_file = true,
  });
}

}  // namespace keel
