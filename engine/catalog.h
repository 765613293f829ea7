// Catalog: the resources of a run, in manifest order, validated.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "engine/resource.h"

namespace keel {

struct Catalog {
  std::vector<Resource> resources;      // manifest order, `when`-false entries dropped
  std::map<std::string, size_t> index;  // Ref::str() -> position in `resources`
  std::string entry_path;               // the entry manifest
  std::string repo_dir;                 // its directory: source/template root
  std::vector<std::string> warnings;    // load-time warnings

  /// nullptr when absent.
  const Resource* Find(const Ref& ref) const {
    auto it = index.find(ref.str());
    return it == index.end() ? nullptr : &resources[it->second];
  }
  /// Appends and indexes (caller checks duplicates first).
  void Add(Resource r) {
    index[r.ref.str()] = resources.size();
    resources.push_back(std::move(r));
  }
};

}  // namespace keel
