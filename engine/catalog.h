// Catalog: the resources of a run, in manifest order, validated.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/resource.h"

namespace keel {

/// Positions of items in a vector, found by a 32-bit hash of a key the
/// caller derives from the item: no copy of any key is kept (at 100,000
/// resources a std::map keyed by "type[title]" strings was ~30 MB, this is
/// ~2 MB). Open addressing, load at most 1/2, slots of 8 bytes.
class PositionIndex {
 public:
  /// The first position with hash `h` for which `same(pos)` holds.
  template <class Same>
  std::optional<size_t> Find(uint32_t h, Same same) const {
    if (slots_.empty()) return std::nullopt;
    const size_t mask = slots_.size() - 1;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
      const Slot& s = slots_[i];
      if (s.pos1 == 0) return std::nullopt;
      if (s.hash == h && same(size_t{s.pos1} - 1)) return size_t{s.pos1} - 1;
    }
  }
  /// Adds `pos` under `h` (positions must fit 32 bits).
  void Insert(uint32_t h, size_t pos);
  /// Points the slot holding `old_pos` under `h` at `pos`.
  void Replace(uint32_t h, size_t old_pos, size_t pos);
  size_t size() const { return used_; }

 private:
  struct Slot {
    uint32_t hash = 0;
    uint32_t pos1 = 0;  // position + 1; 0 = empty
  };
  std::vector<Slot> slots_;
  size_t used_ = 0;
};

/// Hash of a resource reference (type and title), for PositionIndex.
uint32_t RefHash(std::string_view type, std::string_view title);

struct Catalog {
  std::vector<Resource> resources;    // manifest order, `when`-false entries dropped
  std::string entry_path;             // the entry manifest
  std::string repo_dir;               // its directory: source/template root
  std::vector<std::string> warnings;  // load-time warnings

  /// Position of the resource `ref` (or of the id "type[title]") in
  /// `resources`; nullopt when absent.
  std::optional<size_t> Position(std::string_view type, std::string_view title) const {
    return index_.Find(RefHash(type, title), [&](size_t i) {
      return resources[i].ref.type == type && resources[i].ref.title == title;
    });
  }
  std::optional<size_t> Position(const Ref& ref) const { return Position(ref.type, ref.title); }
  std::optional<size_t> PositionOfId(std::string_view id) const;
  /// nullptr when absent.
  const Resource* Find(const Ref& ref) const {
    auto i = Position(ref);
    return i ? &resources[*i] : nullptr;
  }
  /// Appends and indexes; a second resource of the same reference takes
  /// the index entry over (callers check duplicates first).
  void Add(Resource r);

 private:
  PositionIndex index_;
};

}  // namespace keel
