// host: one name's line in /etc/hosts (SPEC 3.12). Persistent half only.
// The format lives in hosts_file.{h,cc}; this file is the schema and the
// provider. Edits go through the run's edit session (resources/common).
#include <arpa/inet.h>

#include <cctype>

#include "engine/registry.h"
#include "resources/builtin.h"
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
  bool present = r.GetString("ensure", "present") == "present";
  if (present && !r.Has("ip"))
    problems.push_back({"ip", "host[" + name + "] needs 'ip' unless ensure is absent"});
  if (r.Has("ip") && !ValidIp(r.GetString("ip")))
    problems.push_back({"ip", "'" + r.GetString("ip") + "' is not an IPv4 or IPv6 address"});
}

std::optional<std::string> Edited(const Resource& want, const std::optional<std::string>& before) {
  std::string name = want.GetString("name");
  hosts::HostsFile f = hosts::HostsFile::Parse(before.value_or(""));
  if (want.GetString("ensure", "present") == "absent") {
    if (!before) return before;
    f.Remove(name);
  } else {
    f.Set(name, {want.GetString("ip"), want.GetList("aliases")});
  }
  std::string after = f.Render();
  if (before && after == *before) return before;
  return after;
}

// The edit session and content diff come from EditProvider; this adds the
// name's own attributes (ensure, ip, aliases) to the state and the changes.
class HostProvider : public edit::EditProvider {
 public:
  Result<Attrs> Read(const Resource& want, Host& host, RunContext& ctx) override {
    auto have = EditProvider::Read(want, host, ctx);
    if (!have.ok()) return have;
    const Value* content = have->Find("content");
    auto entry =
        hosts::HostsFile::Parse(content && content->is_string() ? content->as_string() : "")
            .Find(want.GetString("name"));
    have->Set("ensure", Value(entry ? "present" : "absent"));
    if (entry) {
      have->Set("ip", Value(entry->ip));
      List aliases;
      for (const auto& a : entry->aliases) aliases.push_back(Value(a));
      have->Set("aliases", Value(std::move(aliases)));
    }
    return have;
  }

  std::vector<Change> Diff(const Resource& want, const Attrs& have, RunContext& ctx) override {
    // The file-level changes ("ensure" of the file itself, parents, content).
    std::vector<Change> file = EditProvider::Diff(want, have, ctx);
    if (file.empty()) return file;
    std::vector<Change> out;
    std::string ensure = want.GetString("ensure", "present");
    const Value* have_ensure = have.Find("ensure");
    if (!have_ensure || have_ensure->ToString() != ensure) {
      out.push_back({"ensure", have_ensure ? std::optional<Value>(*have_ensure) : std::nullopt,
                     Value(ensure), ""});
    } else if (ensure == "present") {
      Value want_ip(want.GetString("ip"));
      if (const Value* ip = have.Find("ip"); !ip || *ip != want_ip)
        out.push_back({"ip", ip ? std::optional<Value>(*ip) : std::nullopt, want_ip, ""});
      List want_aliases;
      for (const auto& a : want.GetList("aliases")) want_aliases.push_back(Value(a));
      if (const Value* al = have.Find("aliases"); !al || *al != Value(want_aliases))
        out.push_back(
            {"aliases", al ? std::optional<Value>(*al) : std::nullopt, Value(want_aliases), ""});
    }
    // The file's own creation is reported as "file_ensure" so it does not
    // read as the name's ensure.
    for (auto& c : file) {
      if (c.attr == "ensure") c.attr = "file_ensure";
      out.push_back(std::move(c));
    }
    return out;
  }

 protected:
  Result<HostPath> PathOf(const Resource& want) const override {
    return HostPath::Parse(want.GetString("target", kDefaultTarget));
  }
  Result<std::optional<std::string>> Edit(const Resource& want,
                                          const std::optional<std::string>& before) const override {
    return Edited(want, before);
  }
};

}  // namespace

void RegisterHost(Registry& r) {
  r.Add({
      .schema = Schema(),
      .make_provider = [] { return std::make_unique<HostProvider>(); },
      .validate = Validate,
      .identity =
          [](const Resource& res) {
            return res.GetString("target", kDefaultTarget) + ":" + Lower(res.GetString("name"));
          },
      .paths =
          [](const Resource& res) {
            return std::vector<std::string>{res.GetString("target", kDefaultTarget)};
          },
      .edits_file = true,
  });
}

}  // namespace keel
