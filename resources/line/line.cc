// `line` (SPEC 3.2): ensure one line in a text file, keeping every other byte.
#include "engine/registry.h"
#include "resources/builtin.h"
#include "resources/common/edit_provider.h"
#include "resources/line/line_edit.h"

namespace keel {
namespace {

TypeSchema Schema() {
  return {
      .name = "line",
      .doc =
          "Ensure one line is present in (or absent from) a text file; every other line is "
          "kept byte for byte (Puppet file_line semantics).",
      .attrs =
          {
              {.name = "path",
               .kind = AttrKind::kAbsPath,
               .role = AttrRole::kParameter,
               .required = true,
               .doc = "The file to edit; created (0644 root:root) when missing and ensure is "
                      "present."},
              {.name = "line",
               .kind = AttrKind::kString,
               .role = AttrRole::kParameter,
               .required = true,
               .doc = "The whole line, without newline. Nothing changes when a line equal to it "
                      "is already anywhere in the file."},
              {.name = "match",
               .kind = AttrKind::kString,
               .role = AttrRole::kParameter,
               .doc = "RE2 regex (no backreferences or lookaround): the first matching line is "
                      "replaced by `line`; with "
                      "ensure absent, every matching line is removed."},
              {.name = "after",
               .kind = AttrKind::kString,
               .role = AttrRole::kParameter,
               .doc = "RE2 regex: a new line goes after the first matching line "
                      "(default: at the end of the file)."},
              {.name = "ensure",
               .kind = AttrKind::kString,
               .default_value = Value("present"),
               .allowed = {"present", "absent"},
               .doc = "present or absent. absent without match removes every line equal to "
                      "`line`."},
          },
  };
}

Result<line::LineSpec> SpecOf(const Resource& r) {
  line::LineSpec spec;
  spec.line = r.GetString("line");
  spec.present = r.GetString("ensure") != "absent";
  if (r.Has("match")) {
    auto re = line::CompileRegex(r.GetString("match"));
    if (!re.ok()) return re.error();
    spec.match = std::move(*re);
  }
  if (r.Has("after")) {
    auto re = line::CompileRegex(r.GetString("after"));
    if (!re.ok()) return re.error();
    spec.after = std::move(*re);
  }
  return spec;
}

class LineProvider : public edit::EditProvider {
 protected:
  Result<HostPath> PathOf(const Resource& want) const override {
    return HostPath::Parse(want.GetString("path"));
  }
  Result<std::optional<std::string>> Edit(const Resource& want,
                                          const std::optional<std::string>& before) const override {
    auto spec = SpecOf(want);
    if (!spec.ok()) return spec.error();
    return line::EnsureLine(before, *spec);
  }
  Result<edit::Content> EditContent(const Resource& want,
                                    const edit::Content& before) const override {
    if (!before->has_value()) return EditProvider::EditContent(want, before);
    auto spec = SpecOf(want);
    if (!spec.ok()) return spec.error();
    auto after = line::EnsureLineText(**before, *spec);
    if (!after) return before;
    return edit::MakeContent(std::move(*after));
  }
};

void Validate(const Resource& r, std::vector<AttrProblem>& problems) {
  std::string l = r.GetString("line");
  if (l.find('\n') != std::string::npos)
    problems.push_back({"line", "line must be a single line (it contains a newline)"});
  for (const char* attr : {"match", "after"}) {
    if (!r.Has(attr)) continue;
    auto re = line::CompileRegex(r.GetString(attr));
    if (!re.ok()) problems.push_back({attr, re.error().message});
  }
}

}  // namespace

void RegisterLine(Registry& r) {
  TypeInfo info;
  info.schema = Schema();
  info.make_provider = [] { return std::make_unique<LineProvider>(); };
  info.validate = Validate;
  info.identity = [](const Resource& res) {
    return res.GetString("path") + "\n" + res.GetString("line");
  };
  info.paths = [](const Resource& res) { return std::vector<std::string>{res.GetString("path")}; };
  info.edits_file = true;
  r.Add(std::move(info));
}

}  // namespace keel
