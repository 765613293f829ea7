// Building resources from manifests (SPEC 2): type lookup, `when`,
// attributes and metaparameters, schema checks, duplicates, repo-relative
// paths, then references. Internal to the loader (engine/manifest_loader.h).
#pragma once

#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "engine/manifest_file.h"

namespace keel::loader {

class ResourceBuilder {
 public:
  /// `ctx`: the final variables and facts every value is interpolated with.
  ResourceBuilder(ManifestReader& reader, Value ctx) : reader_(reader), ctx_(std::move(ctx)) {}

  /// Adds the resources of `m` to the catalog, in manifest order.
  void Build(const Manifest& m);
  /// Reports every reference to an undeclared resource (after Build of all
  /// manifests), with a suggestion or the `when` that dropped it.
  void ResolveRefs();

 private:
  void Resource1(const Manifest& m, const yaml::Node& entry);
  void CheckDroppedAttrs(const Manifest& m, const TypeInfo& type,
                         const std::vector<Entry>& entries);
  void ParseRefs(const Manifest& m, const char* meta, const yaml::Node& n, CompactVec<RefAt>& refs);
  bool RefsFromValue(const Manifest& m, const char* meta, const Value& v, const SourceLoc& loc,
                     CompactVec<RefAt>& refs);
  /// One shared list per distinct set of tags (Resource::tags).
  Tags SharedTags(std::vector<std::string> tags);
  /// The type's repo_paths attributes: resolved in the config repo.
  void ResolveRepoPaths(const Manifest& m, const TypeInfo& type, Resource& r);

  ManifestReader& reader_;
  const Value ctx_;
  ExprCache cache_;  // expressions evaluated against ctx_
  std::unordered_map<std::string, std::shared_ptr<const std::vector<std::string>>> tag_sets_;
  PositionIndex identities_;  // catalog positions by (type, identity), for duplicates
  std::unordered_map<std::string, SourceLoc> dropped_;  // ref -> where declared (when false)
  std::unordered_set<std::string> broken_;  // refs declared with errors that kept them out
};

}  // namespace keel::loader
