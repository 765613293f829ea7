// `shellvar` (SPEC 3.3): one KEY=value in a shell-style file
// (/etc/selinux/config, /etc/sysconfig/*, /etc/default/grub).

#include "engine/registry.h"
#include "resources/builtin.h"
#include "resources/common/content_cache.h"
#include "resources/common/edit_provider.h"
#include "resources/common/shell_file.h"

namespace keel {
namespace {

TypeSchema Schema() {
  return {
      .name = "shellvar",
      .doc =
          "One KEY=value assignment in a shell-style file, compared on the value bash sees "
          "when it sources the file; every other line is kept byte for byte.",
      .attrs =
          {
              {.name = "path",
               .kind = AttrKind::kAbsPath,
               .role = AttrRole::kParameter,
               .doc = "The file (required unless the title is PATH:KEY). Created 0644 root:root "
                      "when missing."},
              {.name = "key",
               .kind = AttrKind::kString,
               .role = AttrRole::kParameter,
               .doc = "The variable name; default: the title, or the KEY of a PATH:KEY title."},
              {.name = "value",
               .kind = AttrKind::kStringOrList,
               .doc = "The value; a list is joined by single spaces. Required when ensure is "
                      "present."},
              {.name = "ensure",
               .kind = AttrKind::kString,
               .default_value = Value("present"),
               .allowed = {"present", "absent"},
               .doc = "present: the last assignment of KEY (the one bash keeps) gets the value, "
                      "or KEY=value is appended; absent: every assignment of KEY is removed."},
              {.name = "quote",
               .kind = AttrKind::kString,
               .role = AttrRole::kParameter,
               .default_value = Value("auto"),
               .allowed = {"auto", "double", "single", "none"},
               .doc = "auto: keep the quoting of the line being changed, else quote only when "
                      "the value needs it; double, single, none force a style."},
          },
  };
}

std::string ValueOf(const Resource& r) {
  const Value* v = r.Get("value");
  if (!v) return "";
  if (!v->is_list()) return v->ToString();
  std::string out;
  for (const auto& e : v->as_list()) {
    if (!out.empty()) out += ' ';
    out += e.ToString();
  }
  return out;
}

// The edit of one resource on a parsed file: the new text, or nullopt when
// nothing changes; an error when keel cannot make the change exactly.
Result<std::optional<std::string>> EditText(const Resource& want, const shell::ShellFile& file,
                                            shell::ShellFile* mutate) {
  const std::string key = want.GetString("key");
  const bool present = want.GetString("ensure") != "absent";
  if (auto why = file.Problem(key, !present))
    return MakeError(ErrorCode::kInvalid,
                     (present ? "cannot set " : "cannot remove ") + key + ": " + *why);
  const auto quote = shell::ParseStyle(want.GetString("quote"));
  if (mutate) {
    const auto old = mutate->text();
    if (present)
      mutate->Set(key, ValueOf(want), quote);
    else
      mutate->Remove(key);
    if (mutate->text() == old) return std::optional<std::string>();
    return std::optional<std::string>(*mutate->text());
  }
  if (present) return file.SetText(key, ValueOf(want), quote);
  return file.RemoveText(key);
}

class ShellvarProvider : public edit::EditProvider {
 protected:
  void ObserveContent(const Resource& want, const edit::Content& before,
                      Observation& have) const override {
    if (!before->has_value()) {
      have.Set("ensure", Value("absent"));
      return;
    }
    auto file = FileFor(before);
    const shell::Assignment* a = file->Find(want.GetString("key"));
    have.Set("ensure", Value(a ? "present" : "absent"));
    if (a) have.Set("value", Value(a->value));
  }
  Result<HostPath> PathOf(const Resource& want) const override {
    return HostPath::Parse(want.GetString("path"));
  }
  Result<std::optional<std::string>> Edit(const Resource& want,
                                          const std::optional<std::string>& before) const override {
    const bool present = want.GetString("ensure") != "absent";
    if (!before && !present) return before;
    auto file = shell::ShellFile::Parse(edit::TextOf(before));
    auto after = EditText(want, file, nullptr);
    if (!after.ok()) return after.error();
    if (!*after) return before;
    return std::move(*after);
  }
  // One parse per file per run: the parsed file of each content version is
  // cached, and an edit derives the next version's index from it (shifted
  // offsets, no parse) — except for very large files, where an extra index
  // would cost more memory than the scan it saves.
  Result<edit::Content> EditContent(const Resource& want,
                                    const edit::Content& before) const override {
    const bool present = want.GetString("ensure") != "absent";
    if (!before->has_value() && !present) return before;
    auto file = FileFor(before);
    // First without a copy of the parsed file: a resource already in place
    // (every one of a no-op run) costs no copy of the file's index, which
    // made a run of N shellvars on one file O(N x assignments).
    auto text = EditText(want, *file, nullptr);
    if (!text.ok()) return text.error();
    if (!*text) return before;
    if (file->chunks() > kDeriveMax) return edit::MakeContent(std::move(**text));
    shell::ShellFile next = *file;
    auto after = EditText(want, *file, &next);
    if (!after.ok()) return after.error();
    if (!*after) return before;
    edit::Content c = edit::MakeContent(std::move(*after));
    next.Adopt(Unowned(c));
    Put(c, std::make_shared<const shell::ShellFile>(std::move(next)));
    return c;
  }

 private:
  static constexpr size_t kDeriveMax = 1 << 16;
  // A pointer to the text of `c` that does not keep it alive: the cache
  // must not hold old versions of a large file. Used only while the caller
  // holds `c`.
  static std::shared_ptr<const std::string> Unowned(const edit::Content& c) {
    static const std::string empty;
    const std::string* text = c->has_value() ? &**c : &empty;
    return std::shared_ptr<const std::string>(std::shared_ptr<const std::string>(), text);
  }
  void Put(const edit::Content& c, std::shared_ptr<const shell::ShellFile> f) const {
    cache_.Put(c, std::move(f));
  }
  std::shared_ptr<const shell::ShellFile> FileFor(const edit::Content& c) const {
    return cache_.Get(c,
                      [](const edit::Content& c) { return shell::ShellFile::Parse(Unowned(c)); });
  }
  edit::ContentCache<shell::ShellFile> cache_;
};

void Normalize(Resource& r) {
  const std::string& title = r.title();
  size_t colon = title.rfind(':');
  if (!title.empty() && title[0] == '/' && colon != std::string::npos) {
    if (!r.Has("path")) r.attrs.Set("path", Value(title.substr(0, colon)));
    if (!r.Has("key")) r.attrs.Set("key", Value(title.substr(colon + 1)));
  } else if (!r.Has("key")) {
    r.attrs.Set("key", Value(title));
  }
}

void Validate(const Resource& r, std::vector<AttrProblem>& problems) {
  if (!r.Has("path"))
    problems.push_back({"path",
                        "missing required attribute 'path' for type shellvar (give path, "
                        "or a title PATH:KEY)"});
  std::string key = r.GetString("key");
  if (!shell::ValidKey(key))
    problems.push_back({"key", "'" + key + "' is not a valid shell variable name"});
  const bool present = r.GetString("ensure") != "absent";
  if (present && !r.Has("value"))
    problems.push_back({"value", "value is required when ensure is present"});
  if (r.GetString("quote") == "none" && !shell::SafeUnquoted(ValueOf(r)))
    problems.push_back({"quote", "quote none: the value needs quoting in a shell file"});
}

}  // namespace

void RegisterShellvar(Registry& r) {
  TypeInfo info;
  info.schema = Schema();
  info.make_provider = [] { return std::make_unique<ShellvarProvider>(); };
  info.normalize = Normalize;
  info.validate = Validate;
  info.identity = [](const Resource& res) {
    return res.GetString("path") + ":" + res.GetString("key");
  };
  info.paths = [](const Resource& res) { return std::vector<std::string>{res.GetString("path")}; };
  info.edits_file = true;
  r.Add(std::move(info));
}

}  // namespace keel
