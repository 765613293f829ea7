// modprobe: options, aliases, blacklisting and install command of one
// kernel module in a modprobe.d file (SPEC 3.5). Persistent half only; only
// the module's own lines are edited. With initramfs: true, a change
// rebuilds the initramfs once per run in Flush (dracut, mkinitrd or
// update-initramfs, whichever the root has, run chrooted under --root).
// The format lives in modprobe_conf.{h,cc}.
#include <map>
#include <set>

#include "engine/registry.h"
#include "resources/builtin.h"
#include "resources/common/content_cache.h"
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

// The configuration modprobe reads, in its order: /etc/modprobe.conf (the
// CentOS 5/6 layout, read first by module-init-tools), then the *.conf files
// of kmod's directories sorted by name, a name in an earlier directory
// hiding the same name in a later one. A root with /etc/modprobe.conf is a
// module-init-tools system: its /etc/modprobe.d files count without .conf
// too (CentOS 5's modprobe.d/blacklist). Backup and hidden files never do.
std::vector<HostPath> ConfigFiles(Host& host) {
  std::vector<HostPath> out;
  HostPath conf = *HostPath::Parse("/etc/modprobe.conf");
  auto st = host.Stat(conf);
  bool old_layout = st.ok() && st->type == FileType::kFile;
  if (old_layout) out.push_back(conf);
  std::map<std::string, HostPath> by_name;
  for (const char* dir : {"/etc/modprobe.d", "/run/modprobe.d", "/usr/local/lib/modprobe.d",
                          "/lib/modprobe.d", "/usr/lib/modprobe.d"}) {
    HostPath d = *HostPath::Parse(dir);
    auto names = host.ListDir(d);
    if (!names.ok()) continue;
    bool any_name = old_layout && std::string_view(dir) == "/etc/modprobe.d";
    for (const auto& n : *names) {
      bool conf_suffix = n.size() > 5 && n.ends_with(".conf");
      bool junk = n.starts_with(".") || n.ends_with("~") || n.ends_with(".rpmsave") ||
                  n.ends_with(".rpmnew") || n.ends_with(".rpmorig") || n.ends_with(".swp");
      if (junk || !(conf_suffix || any_name)) continue;
      if (by_name.count(n)) continue;
      auto f = host.Stat(d.Join(n));
      if (f.ok() && f->type == FileType::kFile) by_name.emplace(n, d.Join(n));
    }
  }
  for (auto& [n, p] : by_name) out.push_back(p);
  return out;
}

// The lines of `s` as modprobe.d(5) writes them, for notes.
std::string LinesOf(const std::string& module, const modprobe::ModuleState& s) {
  std::string out;
  auto add = [&](const std::string& l) { out += (out.empty() ? "" : "; ") + l; };
  if (!s.options.empty()) add("options " + module + " " + modprobe::RenderOptions(s.options));
  for (const auto& a : s.aliases) add("alias " + a + " " + module);
  if (s.blacklist) add("blacklist " + module);
  if (s.install) add("install " + module + " " + *s.install);
  return out;
}

class ModprobeProvider : public edit::EditProvider {
 public:
  Result<void> Prefetch(std::span<const Resource* const> all, Host& host,
                        RunContext& ctx) override {
    // What every configuration file says of each module declared here, so
    // that a setting made elsewhere is neither reported absent nor silently
    // contradicted (issue 11 item 15).
    std::set<std::string> keys;
    for (const Resource* r : all) keys.insert(modprobe::ModuleKey(r->GetString("name")));
    for (const HostPath& f : ConfigFiles(host)) {
      auto text = host.ReadFile(f);
      if (!text.ok() || !text->has_value() || (*text)->find('\0') != std::string::npos) continue;
      // One pass over the file for every module.
      std::map<std::string, modprobe::ModuleState> states;
      for (const auto& k : keys) states[k];
      modprobe::ModprobeConf::Parse(**text).InspectAll(states);
      for (auto& [k, st] : states)
        if (st.mentioned) configured_[k].push_back({f.str(), std::move(st)});
    }
    for (const Resource* r : all) {
      std::string own = OwnFile(*r);
      for (const auto& e : Elsewhere(*r))
        ctx.Warn(r->id() + ": " + r->GetString("name") + " is also configured in " + e.file + " (" +
                 LinesOf(r->GetString("name"), e.state) + "); keel edits only " + own);
    }
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
    ObserveState(
        want, modprobe::ModprobeConf::Parse(edit::TextOf(before)).Inspect(want.GetString("name")),
        have);
  }
  void ObserveContent(const Resource& want, const edit::Content& before,
                      Observation& have) const override {
    const auto index = index_.Of(before);
    ObserveState(
        want,
        index
            ? index->Inspect(want.GetString("name"))
            : modprobe::ModprobeConf::Parse(edit::TextOf(*before)).Inspect(want.GetString("name")),
        have);
  }
  void ObserveState(const Resource& want, modprobe::ModuleState s, Observation& have) const {
    // Not in its own file but in another one modprobe reads: that file's
    // settings are what is in force (and `keel resource` prints that file).
    std::vector<Found> others = Elsewhere(want);
    if (!s.mentioned && !others.empty()) {
      s = others.front().state;
      have.Set("file", Value(others.front().file));
      others.erase(others.begin());
    }
    std::string note;
    for (const auto& e : others)
      note += (note.empty() ? "" : "\n") + std::string("also configured in ") + e.file + ": " +
              LinesOf(want.GetString("name"), e.state);
    if (!note.empty()) have.Set("#", Value(note));
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
      for (const auto& a : *s.aliases) l.emplace_back(a);
      const Value want_aliases(std::move(l));
      DiffProperty(out, have, "aliases", want_aliases);
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
    auto after = EditText(want, before.has_value(), edit::TextOf(before));
    if (!after) return before;
    return std::move(*after);
  }
  // The shared content itself when nothing changes: no copy of the file.
  Result<edit::Content> EditContent(const Resource& want,
                                    const edit::Content& before) const override {
    if (const auto index = index_.Of(before); index && index->InPlace(SpecOf(want)))
      return before;  // a module already in place (every one of a no-op run) costs a lookup
    auto after = EditText(want, before->has_value(), edit::TextOf(*before));
    if (!after) return before;
    return edit::MakeContent(std::move(*after));
  }

 private:
  edit::VersionIndex<modprobe::ModprobeIndex> index_;  // one per file version (content_cache.h)
  // The content after the edit (nullopt inside: remove the file); nullopt
  // when it stays as it is.
  static std::optional<std::optional<std::string>> EditText(const Resource& want, bool exists,
                                                            std::string_view text) {
    modprobe::ModuleSpec spec = SpecOf(want);
    if (spec.absent && !exists) return std::nullopt;
    modprobe::ModprobeConf f = modprobe::ModprobeConf::Parse(text);
    f.Apply(spec);
    if (exists && !f.edited()) return std::nullopt;
    std::string after = f.Render();
    if (exists && after == text) return std::nullopt;
    // A file left with nothing in it by ensure: absent goes away.
    if (spec.absent && modprobe::ModprobeConf::Blank(after))
      return std::optional<std::string>(std::nullopt);
    return std::optional<std::string>(std::move(after));
  }

  struct Found {
    std::string file;
    modprobe::ModuleState state;
  };
  static std::string OwnFile(const Resource& r) {
    auto p = HostPath::Parse(FileOf(r));
    return p.ok() ? p->str() : FileOf(r);
  }
  // The other files (not the resource's own) that mention its module.
  std::vector<Found> Elsewhere(const Resource& r) const {
    std::vector<Found> out;
    auto it = configured_.find(modprobe::ModuleKey(r.GetString("name")));
    if (it == configured_.end()) return out;
    std::string own = OwnFile(r);
    for (const auto& f : it->second)
      if (f.file != own) out.push_back(f);
    return out;
  }

  std::map<std::string, std::vector<Found>> configured_;  // module key -> files (Prefetch)

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
