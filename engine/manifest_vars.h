// Variables of a load (SPEC 2): --var, the hierarchy files, the `vars` of
// every manifest, and the facts; resolved in dependency order. Internal to
// the loader (engine/manifest_loader.h).
#pragma once

#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "engine/manifest_file.h"

namespace keel::loader {

/// One definition of a variable in `vars` or a hierarchy file. `value` is
/// final when `resolved`; otherwise `node` is converted again once the
/// other variables are known (the value uses them).
struct VarDef {
  const Manifest* m = nullptr;
  yaml::Node node;
  SourceLoc loc;
  Value value;
  bool resolved = false;
};

class Variables {
 public:
  explicit Variables(ManifestReader& reader) : reader_(reader) {}

  /// The facts and the --var values (typed as YAML scalars; "facts" and an
  /// empty name are reported).
  void SetCommandLine(const std::vector<std::pair<std::string, std::string>>& cli_vars);
  /// The `vars` of a manifest; a name set twice to different values is an
  /// error.
  void ReadVars(const Manifest& m);
  /// The entry manifest's `hierarchy` files (missing ones are skipped; the
  /// first file defining a name wins).
  void ReadHierarchy(const Manifest& entry);
  /// The variables (--var > hierarchy > vars) plus facts. Values that use
  /// other variables are interpolated in dependency order; with `report`,
  /// those that cannot be (undefined names, cycles) are reported.
  Value BuildContext(bool report = false);

 private:
  VarDef DefineVar(const Manifest& m, const yaml::Node& value, SourceLoc loc);

  ManifestReader& reader_;
  Value facts_ctx_;  // {facts}: the context of variable values
  Map cli_vars_;
  std::vector<std::pair<std::string, VarDef>> hier_vars_;      // first file wins
  std::vector<std::pair<std::string, VarDef>> manifest_vars_;  // no two values
  std::unordered_map<std::string, size_t> hier_index_, manifest_index_;
  size_t vars_version_ = 0, ctx_version_ = static_cast<size_t>(-1);
  Value ctx_cache_;
};

}  // namespace keel::loader
