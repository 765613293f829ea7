// host: one name's line in /etc/hosts (SPEC 3.12). Persistent half only.
// The format lives in hosts_file.{h,cc}; this file is the schema and the
// provider. Edits go through the run's edit session (resources/common).
#include <arpa/inet.h>

#include <cctype>

#include "engine/registry.h"
#include "resources/builtin.h"
#include "resources/common/content_cache.h"
#include "resources/common/edit_provider.h"
#include "resources/host/hosts_file.h"

namespace keel {
namespace {

constexpr const char* kDefaultTarget = "/etc/hosts";

TypeSchema Schema() {
  return {
      .name = "host",
      .doc = "One host name in /etc/hosts: its address and aliases. Other lines are kept.",
      .attrs =
          {
              {.name = "name", .role = AttrRole::kNamevar, .doc = "Host name (the title)."},
              {.name = "ip", .doc = "IPv4 or IPv6 address; required unless ensure is absent."},
              {.name = "aliases",
               .kind = AttrKind::kList,
               .doc = "Other names on the same line, in order. Unset: [] (the line holds only "
                      "the name)."},
              {.name = "ensure",
               .default_value = Value("present"),
               .allowed = {"present", "absent"},
               .doc = "present: exactly one line carries the name; absent: the name's line is "
                      "dropped and the name removed where it is an alias."},
              {.name = "target",
               .kind = AttrKind::kAbsPath,
               .role = AttrRole::kParameter,
               .default_value = Value(kDefaultTarget),
               .doc = "The hosts file to edit."},
          },
  };
}

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

bool ValidIp(const std::string& ip) {
  unsigned char buf[16];
  return inet_pton(AF_INET, ip.c_str(), buf) == 1 || inet_pton(AF_INET6, ip.c_str(), buf) == 1;
}

bool ValidHostName(const std::string& n) {
  return !n.empty() && n.find_first_of(" \t\r\n#") == std::string::npos;
}

void Validate(const Resource& r, std::vector<AttrProblem>& problems) {
  std::string name = r.GetString("name");
  if (!ValidHostName(name))
    problems.push_back({"name", "host name '" + name + "' must be one word without '#'"});
  for (const auto& a : r.GetList("aliases"))
    if (!ValidHostName(a))
      problems.push_back({"aliases", "alias '" + a + "' must be one word without '#'"});
  bool present = r.GetString("ensure") == "present";
  if (present && !r.Has("ip"))
    problems.push_back({"ip", "host[" + name + "] needs 'ip' unless ensure is absent"});
  if (r.Has("ip") && !ValidIp(r.GetString("ip")))
    problems.push_back({"ip", "'" + r.GetString("ip") + "' is not an IPv4 or IPv6 address"});
}

// Applies the resource's edit to `f` (parsed from the file; "" when absent).
void EditHosts(const Resource& want, hosts::HostsFile& f) {
  std::string name = want.GetString("name");
  if (want.GetString("ensure") == "absent")
    f.Remove(name);
  else
    f.Set(name, {want.GetString("ip"), want.GetList("aliases")});
}

std::optional<std::string> Edited(const Resource& want, const std::optional<std::string>& before) {
  if (!before && want.GetString("ensure") == "absent") return before;
  auto f = hosts::HostsFile::Borrow(edit::TextOf(before));
  EditHosts(want, f);
  if (before && !f.changed()) return before;
  return f.Render();
}

// The edit session and content diff come from EditProvider; this adds the
// name's own attributes (ensure, ip, aliases) to the state and the changes.
class HostProvider : public edit::EditProvider {
 protected:
  // On the shared content, without a copy of it.
  void ObserveContent(const Resource& want, const edit::Content& before,
                      Observation& have) const override {
    const auto index = index_.Of(before);
    auto entry = index
                     ? index->Find(want.GetString("name"))
                     : hosts::HostsFile::Borrow(edit::TextOf(*before)).Find(want.GetString("name"));
    have.Set("ensure", Value(entry ? "present" : "absent"));
    if (!entry) return;
    have.Set("ip", Value(entry->ip));
    List aliases;
    for (const auto& a : entry->aliases) aliases.push_back(Value(a));
    have.Set("aliases", Value(std::move(aliases)));
  }
  void DiffProperties(const Resource& want, const Observation& have,
                      std::vector<Change>& out) const override {
    std::string ensure = want.GetString("ensure");
    const Value* have_ensure = have.Find("ensure");
    if (!have_ensure || have_ensure->ToString() != ensure) {
      DiffProperty(out, have, "ensure", Value(ensure));
    } else if (ensure == "present") {
      DiffProperty(out, have, "ip", Value(want.GetString("ip")));
      List want_aliases;
      for (const auto& a : want.GetList("aliases")) want_aliases.push_back(Value(a));
      DiffProperty(out, have, "aliases", Value(std::move(want_aliases)));
    }
  }
  const char* FileEnsureAttr() const override { return "file_ensure"; }

 protected:
  Result<HostPath> PathOf(const Resource& want) const override {
    return HostPath::Parse(want.GetString("target"));
  }
  Result<std::optional<std::string>> Edit(const Resource& want,
                                          const std::optional<std::string>& before) const override {
    return Edited(want, before);
  }
  // The edit on the shared content: no copy of the file when nothing
  // changes, one render (no per-line structs) when something does.
  Result<edit::Content> EditContent(const Resource& want,
                                    const edit::Content& before) const override {
    if (!before->has_value()) return EditProvider::EditContent(want, before);
    if (const auto index = index_.Of(before)) {
      // A name already in place (every one of a no-op run) costs a lookup.
      const std::string name = want.GetString("name");
      if (want.GetString("ensure") == "absent"
              ? index->Absent(name)
              : index->InPlace(name, {want.GetString("ip"), want.GetList("aliases")}))
        return before;
    }
    auto f = hosts::HostsFile::Borrow(**before);
    EditHosts(want, f);
    if (!f.changed()) return before;
    return edit::MakeContent(f.Render());
  }

 private:
  edit::VersionIndex<hosts::HostsIndex> index_;  // one per file version (content_cache.h)
};

}  // namespace

void RegisterHost(Registry& r) {
  r.Add({
      .schema = Schema(),
      .make_provider = [] { return std::make_unique<HostProvider>(); },
      .validate = Validate,
      .identity =
          [](const Resource& res) {
            return res.GetString("target") + ":" + Lower(res.GetString("name"));
          },
      .paths =
          [](const Resource& res) { return std::vector<std::string>{res.GetString("target")}; },
      .edits_file = true,
  });
}

}  // namespace keel
