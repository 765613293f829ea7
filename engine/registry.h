// Registry of resource types: schema, provider factory and the type's hooks
// for load-time checks and graph edges. Filled explicitly by
// RegisterBuiltinTypes (resources/builtin.cc); no static initialisers.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "engine/provider.h"
#include "engine/resource.h"
#include "engine/schema.h"

namespace keel {

/// A load-time problem found by a type's own checks.
struct AttrProblem {
  std::string attr;  // "" = the resource as a whole
  std::string message;
};

struct TypeInfo {
  TypeSchema schema;
  std::function<std::unique_ptr<Provider>()> make_provider;

  /// Fills attributes derived from the title before validation (shellvar
  /// "PATH:KEY" sets path and key). Optional.
  std::function<void(Resource&)> normalize;
  /// Type-specific checks after kind checks (malformed audit rule, only one
  /// of content/source/template). Optional.
  std::function<void(const Resource&, std::vector<AttrProblem>&)> validate;
  /// Identity for duplicate detection: two resources of this type with the
  /// same identity are an error. Default: the name attribute's value.
  std::function<std::string(const Resource&)> identity;
  /// Absolute paths this resource writes (its file, its edited file). Used
  /// for implicit edges (parent directories, same path) and for the rule
  /// "a file with content and an editing resource on one path is an error".
  std::function<std::vector<std::string>(const Resource&)> paths;
  /// Absolute paths this resource needs (exec cwd, a service's unit file):
  /// file resources on them become implicit requirements.
  std::function<std::vector<std::string>(const Resource&)> uses;
  /// An editing type (line, shellvar, ...): many may share one file.
  bool edits_file = false;
  /// The type's resources are the files and directories at their `paths`:
  /// a resource that writes or uses one of those paths, or a path below
  /// one, implicitly requires them (SPEC 5: a file before the line editing
  /// it, a directory before what is inside).
  bool holds_paths = false;
  /// With holds_paths: when any of these attributes is set, the resource
  /// owns the whole content of its paths, and an editing type on the same
  /// path is an error ("two owners"). Empty: never.
  std::vector<std::string> content_attrs;
  /// Attributes whose value is a path in the config repo (file: source,
  /// template): the loader resolves them relative to the declaring
  /// manifest, confines them to the repo (also after symlinks) and stores
  /// the real path; outside or missing is a load error.
  std::vector<std::string> repo_paths;
  /// Types whose resource of the same name this one implicitly requires
  /// (a service requires the package of its name). A name is the title or
  /// the `name` attribute, on either side.
  std::vector<std::string> requires_same_name;
  /// The schema's defaults, shared by every resource of the type
  /// (Resource::defaults); Registry::Add fills it.
  std::shared_ptr<const Attrs> defaults;
};

class Registry {
 public:
  void Add(TypeInfo info);
  /// nullptr when no such type.
  const TypeInfo* Find(std::string_view type) const;
  /// All types, sorted by name.
  std::vector<const TypeInfo*> All() const;
  std::vector<std::string> Names() const;

 private:
  std::map<std::string, TypeInfo, std::less<>> types_;
};

/// Completes and checks a resource against its type, as the loader does:
/// sets the name attribute from the title when not given, runs normalize,
/// reports unknown attributes (with the closest valid name), coerces every
/// attribute to its kind, reports missing required ones, then runs the
/// type's validate. Problems are returned, not raised.
std::vector<AttrProblem> PrepareResource(const TypeInfo& type, Resource& r);

/// The identity of `r` for duplicate detection (type's identity hook, else
/// the name attribute's value, else the title).
std::string ResourceIdentity(const TypeInfo& type, const Resource& r);

/// Registers every built-in resource type (resources/builtin.cc).
void RegisterBuiltinTypes(Registry& registry);

}  // namespace keel
