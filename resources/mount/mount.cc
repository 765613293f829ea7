// mount: one mount point's line in /etc/fstab (persistent half) and, when
// ensure is mounted/unmounted/absent on a live host, the mount itself (live
// half, via mount(8)/umount(8)). Under --root only the fstab is edited.
// The format lives in fstab.{h,cc}.
#include "engine/registry.h"
#include "engine/text_lines.h"
#include "resources/builtin.h"
#include "resources/common/edit_provider.h"
#include "resources/mount/fstab.h"

namespace keel {
namespace {

constexpr const char* kDefaultTarget = "/etc/fstab";

TypeSchema Schema() {
  return {
      .name = "mount",
      .doc = "A file system in /etc/fstab, and optionally mounted or unmounted now.",
      .attrs =
          {
              {.name = "name",
               .kind = AttrKind::kAbsPath,
               .role = AttrRole::kNamevar,
               .doc = "Mount point (the title)."},
              {.name = "device",
               .doc = "What to mount: /dev/sda1, UUID=..., LABEL=..., server:/export, tmpfs."},
              {.name = "fstype", .doc = "File system type (ext4, xfs, nfs, tmpfs, ...)."},
              {.name = "options",
               .default_value = Value("defaults"),
               .doc = "Mount options, comma-separated, as fstab writes them."},
              {.name = "dump",
               .kind = AttrKind::kInt,
               .default_value = Value(0),
               .doc = "fstab field 5 (dump frequency)."},
              {.name = "pass",
               .kind = AttrKind::kInt,
               .default_value = Value(0),
               .doc = "fstab field 6 (fsck order: 1 for /, 2 for others, 0 none)."},
              {.name = "ensure",
               .default_value = Value("present"),
               .allowed = {"present", "absent", "mounted", "unmounted"},
               .doc = "present: in fstab only. mounted/unmounted: in fstab, and on a live host "
                      "(not under --root) also mounted (`mount -T <target> <point>`) or "
                      "unmounted now. absent: removed from fstab, and unmounted when live."},
              {.name = "target",
               .kind = AttrKind::kAbsPath,
               .role = AttrRole::kParameter,
               .default_value = Value(kDefaultTarget),
               .doc = "The fstab file to edit."},
          },
  };
}

void Normalize(Resource& r) {
  if (const Value* v = r.Get("name");
      v && v->is_string() && !v->as_string().empty() && v->as_string()[0] == '/') {
    if (auto p = HostPath::Parse(v->as_string()); p.ok()) r.attrs.Set("name", Value(p->str()));
  }
}

void Validate(const Resource& r, std::vector<AttrProblem>& problems) {
  std::string ensure = r.GetString("ensure", "present");
  if (ensure != "absent") {
    for (const char* a : {"device", "fstype"})
      if (!r.Has(a)) problems.push_back({a, r.id() + " needs '" + a + "' unless ensure is absent"});
  }
  for (const char* a : {"fstype", "options"}) {
    std::string v = r.GetString(a);
    if (r.Has(a) && (v.empty() || v.find_first_of(" \t\n#") != std::string::npos))
      problems.push_back({a, std::string("'") + a + "' must be one word, got '" + v + "'"});
  }
  for (const char* a : {"dump", "pass"})
    if (r.GetInt(a, 0) < 0) problems.push_back({a, std::string("'") + a + "' must be >= 0"});
}

fstab::Entry Wanted(const Resource& want) {
  fstab::Entry e;
  e.device = want.GetString("device");
  e.point = want.GetString("name");
  e.fstype = want.GetString("fstype");
  e.options = want.GetString("options", "defaults");
  e.dump = std::to_string(want.GetInt("dump", 0));
  e.pass = std::to_string(want.GetInt("pass", 0));
  return e;
}

// Live state wanted: true mounted, false unmounted, nullopt not managed.
std::optional<bool> WantMounted(const Resource& want) {
  std::string ensure = want.GetString("ensure", "present");
  if (ensure == "mounted") return true;
  if (ensure == "unmounted" || ensure == "absent") return false;
  return std::nullopt;
}

// True when /proc/self/mountinfo lists `point` as a mount point.
Result<bool> IsMounted(Host& host, const std::string& point) {
  auto path = HostPath::Parse("/proc/self/mountinfo");
  auto text = host.ReadFile(*path);
  if (!text.ok()) {
    Error e = text.error();
    return e.Context("reading /proc/self/mountinfo");
  }
  if (!*text) return MakeError(ErrorCode::kUnsupported, "no /proc/self/mountinfo");
  std::string_view all = **text;
  for (std::string_view line : SplitLines(all)) {
    // id parent major:minor root mount-point ...
    size_t pos = 0;
    for (int f = 0; f < 4 && pos != std::string_view::npos; ++f) {
      pos = line.find(' ', pos);
      if (pos != std::string_view::npos) ++pos;
    }
    if (pos == std::string_view::npos) continue;
    size_t end = line.find(' ', pos);
    if (fstab::Decode(line.substr(pos, end == std::string_view::npos ? end : end - pos)) == point)
      return true;
  }
  return false;
}

class MountProvider : public edit::EditProvider {
 public:
  Result<Attrs> Read(const Resource& want, Host& host, RunContext& ctx) override {
    auto have = EditProvider::Read(want, host, ctx);
    if (!have.ok()) return have;
    const Value* content = have->Find("content");
    auto entry = fstab::Fstab::Parse(content && content->is_string() ? content->as_string() : "")
                     .Find(want.GetString("name"));
    have->Set("ensure", Value(entry ? "present" : "absent"));
    if (entry) {
      have->Set("device", Value(entry->device));
      have->Set("fstype", Value(entry->fstype));
      have->Set("options", Value(entry->options));
      have->Set("dump", Value(entry->dump));
      have->Set("pass", Value(entry->pass));
    }
    // The live half: only on the running system.
    if (host.live() && WantMounted(want)) {
      auto mounted = IsMounted(host, want.GetString("name"));
      if (!mounted.ok()) return mounted.error();
      have->Set("mounted", Value(*mounted));
    }
    return have;
  }

  std::vector<Change> Diff(const Resource& want, const Attrs& have, RunContext& ctx) override {
    std::vector<Change> file = EditProvider::Diff(want, have, ctx);
    std::vector<Change> out;
    if (!file.empty()) {
      bool want_absent = want.GetString("ensure", "present") == "absent";
      const Value* he = have.Find("ensure");
      bool have_present = he && he->ToString() == "present";
      if (want_absent || !have_present) {
        out.push_back({"ensure", Value(have_present ? "present" : "absent"),
                       Value(want_absent ? "absent" : "present"), ""});
      } else {
        fstab::Entry e = Wanted(want);
        auto field = [&](const char* attr, const std::string& w) {
          const Value* h = have.Find(attr);
          if (!h || h->ToString() != w)
            out.push_back({attr, h ? std::optional<Value>(*h) : std::nullopt, Value(w), ""});
        };
        field("device", e.device);
        field("fstype", e.fstype);
        field("options", e.options);
        if (const Value* h = have.Find("dump"); !h || h->ToString() != e.dump)
          out.push_back({"dump", h ? std::optional<Value>(*h) : std::nullopt, Value(e.dump), ""});
        if (const Value* h = have.Find("pass"); !h || h->ToString() != e.pass)
          out.push_back({"pass", h ? std::optional<Value>(*h) : std::nullopt, Value(e.pass), ""});
      }
      for (auto& c : file) {
        if (c.attr == "ensure") c.attr = "file_ensure";
        out.push_back(std::move(c));
      }
    }
    auto want_mounted = WantMounted(want);
    const Value* m = have.Find("mounted");
    if (want_mounted && m && m->is_bool() && m->as_bool() != *want_mounted)
      out.push_back({"mounted", *m, Value(*want_mounted), ""});
    return out;
  }

  Result<void> Apply(const Resource& want, std::span<const Change> changes, Host& host,
                     RunContext& ctx, Outcome& out) override {
    bool file_change = false, live_change = false;
    for (const auto& c : changes) (c.attr == "mounted" ? live_change : file_change) = true;
    if (file_change) KEEL_TRY(EditProvider::Apply(want, changes, host, ctx, out));
    if (!live_change || host.dry_run() || !host.live()) return {};
    // mount(8) reads the fstab: write the staged edit first.
    KEEL_TRY(edit::Session(ctx).Flush(host));
    std::string point = want.GetString("name");
    Command cmd;
    cmd.chroot = false;
    cmd.timeout_s = 120;
    if (*WantMounted(want)) {
      cmd.argv = {"mount", "-T", want.GetString("target", kDefaultTarget), point};
    } else {
      cmd.argv = {"umount", point};
    }
    auto r = host.Run(cmd);
    if (!r.ok()) {
      Error e = r.error();
      return e.Context(want.id());
    }
    if (r->exit_code != 0)
      return MakeError(ErrorCode::kCommand, want.id() + ": " + cmd.Display() + " failed (exit " +
                                                std::to_string(r->exit_code) + "): " + r->err);
    out.output = r->out + r->err;
    return {};
  }

 protected:
  Result<HostPath> PathOf(const Resource& want) const override {
    return HostPath::Parse(want.GetString("target", kDefaultTarget));
  }
  Result<std::optional<std::string>> Edit(const Resource& want,
                                          const std::optional<std::string>& before) const override {
    fstab::Fstab f = fstab::Fstab::Parse(before.value_or(""));
    if (want.GetString("ensure", "present") == "absent") {
      if (!before) return before;
      f.Remove(want.GetString("name"));
    } else {
      f.Set(Wanted(want));
    }
    std::string after = f.Render();
    if (before && after == *before) return before;
    return std::optional<std::string>(after);
  }
};

}  // namespace

void RegisterMount(Registry& r) {
  r.Add({
      .schema = Schema(),
      .make_provider = [] { return std::make_unique<MountProvider>(); },
      .normalize = Normalize,
      .validate = Validate,
      .identity =
          [](const Resource& res) {
            return res.GetString("target", kDefaultTarget) + ":" + res.GetString("name");
          },
      .paths =
          [](const Resource& res) {
            return std::vector<std::string>{res.GetString("target", kDefaultTarget)};
          },
      .edits_file = true,
  });
}

}  // namespace keel
