// YAML manifests -> Catalog (SPEC 2). The only yaml-cpp user besides the
// small YAML helpers in yaml_util.h.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "engine/catalog.h"
#include "engine/registry.h"
#include "engine/resource.h"
#include "engine/value.h"

namespace keel {

struct LoadOptions {
  std::string entry_path;  // a file, or a directory holding site.yaml
  std::vector<std::pair<std::string, std::string>> cli_vars;  // --var K=V, in order
  Value facts;                                                // the fact map
  const Registry* registry = nullptr;
  /// The config repo every manifest, include and hierarchy file must stay
  /// in (symlinks resolved); "" = the directory of the entry manifest.
  std::string repo_dir;
};

struct LoadError {
  SourceLoc loc;
  std::string message;
  /// "path:line:col: message"
  std::string str() const { return loc.str() + ": " + message; }
};

struct LoadResult {
  Catalog catalog;
  std::vector<LoadError> errors;  // every error found; empty = valid
  size_t reparsed = 0;            // manifests parked and parsed again (a large repository)
  bool ok() const { return errors.empty(); }
};

/// Loads the entry manifest, its hierarchy and includes; interpolates,
/// evaluates `when`, validates every resource against its schema and
/// resolves references. Collects all errors instead of stopping at the first.
LoadResult LoadManifests(const LoadOptions& options);

}  // namespace keel
