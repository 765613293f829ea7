// mount: one mount point's line in /etc/fstab (persistent half) and, when
// ensure is mounted/unmounted/absent on a live host, the mount itself (live
// half, via mount(8)/umount(8)). Under --root only the fstab is edited.
// The format lives in fstab.{h,cc}.
#include "engine/registry.h"
#include "resources/builtin.h"
#include "resources/common/content_cache.h"
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
  std::string ensure = r.GetString("ensure");
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
  e.options = want.GetString("options");
  e.dump = std::to_string(want.GetInt("dump", 0));
  e.pass = std::to_string(want.GetInt("pass", 0));
  return e;
}

// Applies the resource's edit to `f` (parsed from the file; "" when absent).
void EditFstab(const Resource& want, fstab::Fstab& f) {
  if (want.GetString("ensure") == "absent")
    f.Remove(want.GetString("name"));
  else
    f.Set(Wanted(want));
}

// Live state wanted: true mounted, false unmounted, nullopt not managed.
std::optional<bool> WantMounted(const Resource& want) {
  std::string ensure = want.GetString("ensure");
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
  // Line by line as views of the text (a host with many mounts has a
  // large mountinfo): no vector of lines, no string per line.
  bool found = false;
  edit::ForEachLine(**text, [&](const edit::LineSpan& span) {
    // id parent major:minor root mount-point ...
    std::string_view line = span.text;
    size_t pos = 0;
    for (int f = 0; f < 4 && pos != std::string_view::npos; ++f) {
      pos = line.find(' ', pos);
      if (pos != std::string_view::npos) ++pos;
    }
    if (pos == std::string_view::npos) return true;
    size_t end = line.find(' ', pos);
    found = fstab::DecodedEquals(line.substr(pos, end == std::string_view::npos ? end : end - pos),
                                 point);
    return !found;
  });
  return found;
}

class MountProvider : public edit::EditProvider {
 protected:
  // On the shared content, without a copy of it.
  void ObserveContent(const Resource& want, const edit::Content& before,
                      Observation& have) const override {
    const auto index = index_.Of(before);
    auto entry = index ? index->Find(want.GetString("name"))
                       : fstab::Fstab::Borrow(edit::TextOf(*before)).Find(want.GetString("name"));
    have.Set("ensure", Value(entry ? "present" : "absent"));
    if (!entry) return;
    have.Set("device", Value(entry->device));
    have.Set("fstype", Value(entry->fstype));
    have.Set("options", Value(entry->options));
    have.Set("dump", Value(entry->dump));
    have.Set("pass", Value(entry->pass));
  }
  void DiffProperties(const Resource& want, const Observation& have,
                      std::vector<Change>& out) const override {
    bool want_absent = want.GetString("ensure") == "absent";
    const Value* he = have.Find("ensure");
    bool have_present = he && he->ToString() == "present";
    if (want_absent || !have_present) {
      out.push_back({"ensure", Value(have_present ? "present" : "absent"),
                     Value(want_absent ? "absent" : "present"), ""});
      return;
    }
    fstab::Entry e = Wanted(want);
    // fstab fields compare as text (dump 0 == "0").
    for (auto [attr, w] : {std::pair<const char*, const std::string*>{"device", &e.device},
                           {"fstype", &e.fstype},
                           {"options", &e.options},
                           {"dump", &e.dump},
                           {"pass", &e.pass}}) {
      const Value* h = have.Find(attr);
      if (!h || h->ToString() != *w)
        out.push_back({attr, h ? std::optional<Value>(*h) : std::nullopt, Value(*w), ""});
    }
  }
  const char* FileEnsureAttr() const override { return "file_ensure"; }

  // The live half: only on the running system, when ensure asks for it.
  Result<void> ObserveLive(const Resource& want, Host& host, Observation& have) const override {
    if (!WantMounted(want)) return {};
    auto mounted = IsMounted(host, want.GetString("name"));
    if (!mounted.ok()) return mounted.error();
    have.Set("mounted", Value(*mounted));
    return {};
  }
  void DiffLive(const Resource& want, const Observation& have,
                std::vector<Change>& out) const override {
    auto want_mounted = WantMounted(want);
    const Value* m = have.Find("mounted");
    if (want_mounted && m && m->is_bool() && m->as_bool() != *want_mounted)
      out.push_back({"mounted", *m, Value(*want_mounted), ""});
  }
  bool IsLive(const std::string& attr) const override { return attr == "mounted"; }
  Result<void> ApplyLive(const Resource& want, std::span<const Change> live, Host& host,
                         RunContext& ctx, Outcome& out) override {
    (void)live;
    // mount(8) reads the fstab: write the staged edit first.
    KEEL_TRY(edit::Session(ctx).Flush(host));
    std::string point = want.GetString("name");
    Command cmd;
    cmd.chroot = false;
    cmd.timeout_s = 120;
    if (*WantMounted(want))
      cmd.argv = {"mount", "-T", want.GetString("target"), point};
    else
      cmd.argv = {"umount", point};
    auto r = RunChecked(host, cmd, want.id());
    if (!r.ok()) return r.error();
    out.output = r->out + r->err;
    return {};
  }

 protected:
  Result<HostPath> PathOf(const Resource& want) const override {
    return HostPath::Parse(want.GetString("target"));
  }
  Result<std::optional<std::string>> Edit(const Resource& want,
                                          const std::optional<std::string>& before) const override {
    if (!before && want.GetString("ensure") == "absent") return before;
    auto f = fstab::Fstab::Borrow(edit::TextOf(before));
    EditFstab(want, f);
    if (before && !f.changed()) return before;
    return std::optional<std::string>(f.Render());
  }
  // The edit on the shared content: no copy of the file when nothing
  // changes, one render (no per-line structs) when something does.
  Result<edit::Content> EditContent(const Resource& want,
                                    const edit::Content& before) const override {
    if (!before->has_value()) return EditProvider::EditContent(want, before);
    if (const auto index = index_.Of(before)) {
      // A mount already in place (every one of a no-op run) costs a lookup.
      if (want.GetString("ensure") == "absent" ? index->Absent(want.GetString("name"))
                                               : index->InPlace(Wanted(want)))
        return before;
    }
    auto f = fstab::Fstab::Borrow(**before);
    EditFstab(want, f);
    if (!f.changed()) return before;
    return edit::MakeContent(f.Render());
  }

 private:
  edit::VersionIndex<fstab::FstabIndex> index_;  // one per file version (content_cache.h)
};

}  // namespace

void RegisterMount(Registry& r) {
  r.Add({
      .schema = Schema(),
      .make_provider = [] { return std::make_unique<MountProvider>(); },
      .normalize = Normalize,
      .validate = Validate,
      .identity =
          [](const Resource& res) { return res.GetString("target") + ":" + res.GetString("name"); },
      .paths =
          [](const Resource& res) { return std::vector<std::string>{res.GetString("target")}; },
      .edits_file = true,
  });
}

}  // namespace keel
