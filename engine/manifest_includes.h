// `include` (SPEC 2): walked depth first from the entry manifest; paths and
// `when` see the variables known so far; globs are sorted; a file is loaded
// once; a cycle is an error naming the chain. Internal to the loader
// (engine/manifest_loader.h).
#pragma once

#include <vector>

#include "engine/manifest_file.h"
#include "engine/manifest_vars.h"

namespace keel::loader {

class Includes {
 public:
  Includes(ManifestReader& reader, Variables& vars) : reader_(reader), vars_(vars) {}

  /// Loads everything manifest `index` includes, recursively (reading each
  /// new manifest's `vars` as it is loaded).
  void Walk(size_t index);
  /// The manifests in resource order: a file's includes before its own
  /// resources when `include` is written before `resources`, after them
  /// otherwise.
  std::vector<size_t> Order() const;

 private:
  void WalkIncludes(size_t index, std::vector<size_t>& stack);
  void IncludeEntry(size_t index, const yaml::Node& entry, std::vector<size_t>& stack);
  void Flatten(size_t index, std::vector<size_t>& order) const;

  ManifestReader& reader_;
  Variables& vars_;
};

}  // namespace keel::loader
