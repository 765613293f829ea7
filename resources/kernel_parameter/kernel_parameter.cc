// kernel_parameter: one boot-time kernel argument (SPEC 3.6), through the
// boot loader the root has:
//  - grub2: GRUB_CMDLINE_LINUX in /etc/default/grub (edited through the
//    run's EditSession like every editing type), then grub.cfg regenerated
//    once per run in Flush, chrooted (grub2-mkconfig -o <each grub.cfg>,
//    update-grub, or grub-mkconfig -o /boot/grub/grub.cfg); a root without
//    any of them gets a warning that regeneration is pending;
//  - grub-legacy: the kernel lines of /boot/grub/grub.conf (menu.lst when
//    only that exists), all entries or the default one; symlinks to it
//    (/etc/grub.conf) are followed by the Host, never replaced;
//  - grubby (BLS, RHEL 8+): grubby --info to read, --args/--remove-args.
// A change sets reboot_required. The formats live in cmdline.{h,cc}.
#include "engine/registry.h"
#include "resources/builtin.h"
#include "resources/common/edit_provider.h"
#include "resources/kernel_parameter/cmdline.h"

namespace keel {
namespace {

// Larger boot loader configurations are refused rather than edited.
constexpr size_t kMaxConfigBytes = 4u << 20;

TypeSchema Schema() {
  return {
      .name = "kernel_parameter",
      .doc = "One boot-time kernel argument (name or name=value) in the boot loader.",
      .attrs =
          {
              {.name = "name",
               .role = AttrRole::kNamevar,
               .doc = "Parameter name (the title): ipmi_si.ports, quiet, crashkernel. '-' and "
                      "'_' are the same character (as the kernel reads them)."},
              {.name = "value", .doc = "The value (name=value). Unset: a flag (just the name)."},
              {.name = "ensure",
               .default_value = Value("present"),
               .allowed = {"present", "absent"},
               .doc = "absent: every occurrence of the name goes, whatever its value."},
              {.name = "bootloader",
               .role = AttrRole::kParameter,
               .default_value = Value("auto"),
               .allowed = {"auto", "grub2", "grub-legacy", "grubby"},
               .doc = "auto: the fact bootloader. grub2 edits GRUB_CMDLINE_LINUX in "
                      "/etc/default/grub and regenerates grub.cfg once per run; grub-legacy "
                      "edits the kernel lines of /boot/grub/grub.conf; grubby runs grubby."},
              {.name = "entries",
               .role = AttrRole::kParameter,
               .default_value = Value("all"),
               .allowed = {"all", "default"},
               .doc = "grub-legacy and grubby: every boot entry, or only the default one "
                      "(grub.conf's default=N, counting title blocks from 0)."},
          },
  };
}

bool Plain(const std::string& s, const char* forbidden) {
  return s.find_first_of(forbidden) == std::string::npos;
}

void Validate(const Resource& r, std::vector<AttrProblem>& problems) {
  std::string name = r.GetString("name");
  if (name.empty() || !Plain(name, " \t\r\n=\"'\\$`#"))
    problems.push_back({"name", "'" + name + "' is not a kernel parameter name"});
  if (r.Has("value")) {
    std::string v = r.GetString("value");
    if (!Plain(v, " \t\r\n\"'\\$`"))
      problems.push_back(
          {"value", "'" + v + "': blanks, quotes, '\\', '$' and '`' are not supported in a value"});
    if (r.GetString("ensure") == "absent")
      problems.push_back(
          {"value", "ensure: absent removes the name whatever its value; drop value"});
  }
}

kparam::Param ParamOf(const Resource& want) {
  kparam::Param p;
  p.name = want.GetString("name");
  if (want.Has("value")) p.value = want.GetString("value");
  p.absent = want.GetString("ensure") == "absent";
  return p;
}

bool DefaultOnly(const Resource& want) { return want.GetString("entries") == "default"; }

Error AtPath(Error e, const std::string& path) { return e.Context(path); }

// The properties of `have` from the arguments of each targeted entry:
// present when every one has the name, value that of the first.
void ObserveArgs(const std::vector<std::string>& args_per_entry, const std::string& name,
                 Observation& have) {
  bool all = !args_per_entry.empty();
  std::optional<std::optional<std::string>> first;
  for (const auto& args : args_per_entry) {
    auto found = kparam::Lookup(args, name);
    if (!found) all = false;
    if (found && !first) first = found;
  }
  have.Set("ensure", Value(all ? "present" : "absent"));
  have.Set("value", first && *first ? Value(**first) : Value());
}

void DiffParam(const Resource& want, const Attrs& have, std::vector<Change>& out) {
  kparam::Param p = ParamOf(want);
  DiffProperty(out, have, "ensure", Value(p.absent ? "absent" : "present"));
  if (!p.absent) DiffProperty(out, have, "value", p.value ? Value(*p.value) : Value());
}

// The file-editing boot loaders (grub2, grub-legacy) through EditProvider.
class FileHalf : public edit::EditProvider {
 public:
  std::string auto_bootloader;                       // facts.bootloader (Prefetch)
  std::string legacy_path = "/boot/grub/grub.conf";  // menu.lst when only it exists

  Result<std::string> Bootloader(const Resource& want) const {
    std::string b = want.GetString("bootloader");
    if (b != "auto") return b;
    if (auto_bootloader == "grub2" || auto_bootloader == "grub-legacy" ||
        auto_bootloader == "grubby")
      return auto_bootloader;
    return MakeError(ErrorCode::kUnsupported,
                     want.id() +
                         ": bootloader: auto, but no supported boot loader was found (fact "
                         "bootloader is '" +
                         (auto_bootloader.empty() ? std::string("unknown") : auto_bootloader) +
                         "'); set bootloader");
  }

 protected:
  const char* FileEnsureAttr() const override { return "file_ensure"; }
  Result<HostPath> PathOf(const Resource& want) const override {
    auto b = Bootloader(want);
    if (!b.ok()) return b.error();
    if (*b == "grub2") return HostPath::Parse("/etc/default/grub");
    if (*b == "grub-legacy") return HostPath::Parse(legacy_path);
    return MakeError(ErrorCode::kInternal, "kernel_parameter: " + *b + " edits no file");
  }
  Result<std::optional<std::string>> Edit(const Resource& want,
                                          const std::optional<std::string>& before) const override {
    auto path = PathOf(want);
    if (!path.ok()) return path.error();
    kparam::Param p = ParamOf(want);
    if (!before) {
      if (p.absent) return before;
      return MakeError(ErrorCode::kNotFound,
                       path->str() +
                           " does not exist; keel does not write a boot loader "
                           "configuration from nothing");
    }
    if (before->size() > kMaxConfigBytes)
      return MakeError(ErrorCode::kInvalid, path->str() + ": " + std::to_string(before->size()) +
                                                " bytes, larger than a boot loader configuration "
                                                "can be (limit 4 MiB); not edited");
    bool grub2 = *Bootloader(want) == "grub2";
    Result<std::string> after = grub2 ? kparam::EditDefaultGrub(*before, p)
                                      : kparam::EditGrubConf(*before, p, DefaultOnly(want));
    if (!after.ok()) return AtPath(after.error(), path->str());
    if (*after == *before) return before;
    return std::optional<std::string>(std::move(*after));
  }
  // /etc/default/grub on the shared content: no copy of the file when
  // nothing changes (grub.conf goes through Edit).
  Result<edit::Content> EditContent(const Resource& want,
                                    const edit::Content& before) const override {
    auto b = Bootloader(want);
    if (!b.ok() || *b != "grub2" || !before->has_value() || (*before)->size() > kMaxConfigBytes)
      return EditProvider::EditContent(want, before);
    auto after = kparam::EditDefaultGrubText(edit::SharedText(before), ParamOf(want));
    if (!after.ok()) return AtPath(after.error(), "/etc/default/grub");
    if (!*after) return before;
    return edit::MakeContent(std::move(**after));
  }
  void ObserveContent(const Resource& want, const edit::Content& before,
                      Observation& have) const override {
    auto b = Bootloader(want);
    if (!b.ok() || *b != "grub2" || !before->has_value()) return Observe(want, *before, have);
    have.Set("bootloader", Value(*b));
    std::vector<std::string> args;
    if (auto c = kparam::DefaultGrubCmdline(edit::SharedText(before)); c.ok()) args.push_back(*c);
    ObserveArgs(args, want.GetString("name"), have);
  }
  void Observe(const Resource& want, const std::optional<std::string>& before,
               Observation& have) const override {
    auto b = Bootloader(want);
    if (b.ok()) have.Set("bootloader", Value(*b));
    std::vector<std::string> args;
    if (before && b.ok() && *b == "grub2") {
      if (auto c = kparam::DefaultGrubCmdline(*before); c.ok()) args.push_back(*c);
    } else if (before && b.ok()) {
      if (auto k = kparam::KernelLines(*before, DefaultOnly(want)); k.ok())
        for (const auto& l : *k) args.push_back(l.args);
    }
    ObserveArgs(args, want.GetString("name"), have);
  }
  void DiffProperties(const Resource& want, const Observation& have,
                      std::vector<Change>& out) const override {
    DiffParam(want, have, out);
  }
};

// What Read found through grubby: the arguments of each Linux entry.
struct GrubbyState {
  std::vector<std::string> args;
};

class KernelParameterProvider : public Provider {
 public:
  Result<void> Prefetch(std::span<const Resource* const> all, Host& host,
                        RunContext& ctx) override {
    (void)all;
    if (const Value* b = ctx.facts.Get("bootloader"); b && b->is_string())
      file_.auto_bootloader = b->as_string();
    auto conf = host.Stat(*HostPath::Parse("/boot/grub/grub.conf"));
    auto lst = host.Stat(*HostPath::Parse("/boot/grub/menu.lst"));
    if (conf.ok() && !conf->exists() && lst.ok() && lst->exists())
      file_.legacy_path = "/boot/grub/menu.lst";
    return {};
  }

  Result<Observation> Read(const Resource& want, Host& host, RunContext& ctx) override {
    auto b = file_.Bootloader(want);
    if (!b.ok()) return b.error();
    if (*b != "grubby") return file_.Read(want, host, ctx);
    if (!HasProgram(host, "grubby"))
      return MakeError(ErrorCode::kUnsupported,
                       want.id() + ": bootloader grubby, but the root has no grubby");
    Command cmd;
    cmd.argv = {"grubby", DefaultOnly(want) ? "--info=DEFAULT" : "--info=ALL"};
    cmd.query = true;
    auto r = RunChecked(host, cmd, want.id() + ": reading the boot entries");
    if (!r.ok()) return r.error();
    Observation have;
    GrubbyState& st = have.SetState(GrubbyState{});
    for (const auto& e : kparam::ParseGrubbyInfo(r->out))
      if (e.linux) st.args.push_back(e.args);
    if (st.args.empty())
      return MakeError(ErrorCode::kInvalid,
                       want.id() + ": grubby --info lists no Linux boot entry");
    have.Set("bootloader", Value("grubby"));
    ObserveArgs(st.args, want.GetString("name"), have);
    return have;
  }

  std::vector<Change> Diff(const Resource& want, const Observation& have,
                           RunContext& ctx) override {
    const GrubbyState* st = have.State<GrubbyState>();
    if (!st) return file_.Diff(want, have, ctx);
    std::vector<Change> out;
    auto cmds = kparam::GrubbyCommands(st->args, ParamOf(want), DefaultOnly(want));
    if (cmds.empty()) return out;
    DiffParam(want, have, out);
    std::string detail;
    for (const auto& c : cmds) {
      Command cmd;
      cmd.argv = c;
      detail += (detail.empty() ? "" : "; ") + cmd.Display();
    }
    out.push_back({"entries", Value(static_cast<int64_t>(st->args.size())),
                   Value(static_cast<int64_t>(st->args.size())), detail});
    return out;
  }

  Result<void> Apply(const Resource& want, const Observation& have, std::span<const Change> changes,
                     Host& host, RunContext& ctx, Outcome& out) override {
    if (const GrubbyState* st = have.State<GrubbyState>()) {
      for (const auto& argv : kparam::GrubbyCommands(st->args, ParamOf(want), DefaultOnly(want))) {
        Command cmd;
        cmd.argv = argv;
        auto r = RunChecked(host, cmd, want.id() + ": changing the boot entries");
        if (!r.ok()) return r.error();
      }
    } else {
      KEEL_TRY(file_.Apply(want, have, changes, host, ctx, out));
    }
    if (!changes.empty() && !host.dry_run()) ctx.reboot_required = true;
    return {};
  }

  Result<void> Flush(std::span<const Resource* const> changed, Host& host,
                     RunContext& ctx) override {
    std::vector<const Resource*> files;
    bool grub2 = false;
    for (const Resource* r : changed) {
      auto b = file_.Bootloader(*r);
      if (!b.ok() || *b == "grubby") continue;
      files.push_back(r);
      grub2 = grub2 || *b == "grub2";
    }
    if (files.empty()) return {};
    KEEL_TRY(file_.Flush(files, host, ctx));
    if (!grub2 || host.dry_run() || ctx.noop) return {};
    return Regenerate(host, ctx);
  }

 private:
  static bool IsFile(Host& host, const std::string& p) {
    auto path = HostPath::Parse(p);
    if (!path.ok()) return false;
    auto info = host.Stat(*path);
    return info.ok() && info->type == FileType::kFile;
  }

  // The grub.cfg files grub2-mkconfig must write: the BIOS one and each
  // EFI vendor's, except an EFI stub that only chains to /boot/grub2
  // (RHEL 9, Fedora 34+: overwriting the stub would break the boot).
  static std::vector<std::string> Grub2Configs(Host& host) {
    std::vector<std::string> out;
    if (IsFile(host, "/boot/grub2/grub.cfg")) out.push_back("/boot/grub2/grub.cfg");
    if (auto vendors = host.ListDir(*HostPath::Parse("/boot/efi/EFI")); vendors.ok()) {
      for (const auto& v : *vendors) {
        std::string cfg = "/boot/efi/EFI/" + v + "/grub.cfg";
        if (!IsFile(host, cfg)) continue;
        auto text = host.ReadFile(*HostPath::Parse(cfg));
        if (!text.ok() || !text->has_value()) continue;
        const std::string& t = **text;
        bool stub = t.find("configfile") != std::string::npos &&
                    t.find("menuentry") == std::string::npos &&
                    t.find("blscfg") == std::string::npos;
        if (!stub) out.push_back(cfg);
      }
    }
    if (out.empty()) out.push_back("/boot/grub2/grub.cfg");
    return out;
  }

  // One regeneration of grub.cfg for the whole run, chrooted, with the
  // tool the root has.
  Result<void> Regenerate(Host& host, RunContext& ctx) {
    std::vector<std::vector<std::string>> cmds;
    if (HasProgram(host, "grub2-mkconfig")) {
      for (const auto& cfg : Grub2Configs(host)) cmds.push_back({"grub2-mkconfig", "-o", cfg});
    } else if (HasProgram(host, "update-grub")) {
      cmds.push_back({"update-grub"});
    } else if (HasProgram(host, "grub-mkconfig")) {
      cmds.push_back({"grub-mkconfig", "-o", "/boot/grub/grub.cfg"});
    } else {
      ctx.Warn(
          "kernel_parameter: /etc/default/grub changed, but the root has no grub2-mkconfig, "
          "update-grub or grub-mkconfig: regenerating grub.cfg is pending (run it before the "
          "next boot)");
      return {};
    }
    for (const auto& argv : cmds) {
      Command cmd;
      cmd.argv = argv;
      cmd.timeout_s = 600;
      auto r = RunChecked(host, cmd, "kernel_parameter: regenerating grub.cfg");
      if (!r.ok()) return r.error();
    }
    return {};
  }

  FileHalf file_;
};

}  // namespace

void RegisterKernelParameter(Registry& r) {
  r.Add({
      .schema = Schema(),
      .make_provider = [] { return std::make_unique<KernelParameterProvider>(); },
      .validate = Validate,
      // One name per boot loader: '-' and '_' spell the same parameter.
      .identity =
          [](const Resource& res) {
            std::string n = res.GetString("name");
            for (char& c : n)
              if (c == '-') c = '_';
            return n + " (bootloader " + res.GetString("bootloader") + ")";
          },
      // The file an explicit file-editing boot loader edits (auto is known
      // only from the facts, at run time).
      .paths =
          [](const Resource& res) {
            std::string b = res.GetString("bootloader");
            if (b == "grub2") return std::vector<std::string>{"/etc/default/grub"};
            if (b == "grub-legacy") return std::vector<std::string>{"/boot/grub/grub.conf"};
            return std::vector<std::string>{};
          },
      .edits_file = true,
  });
}

}  // namespace keel
