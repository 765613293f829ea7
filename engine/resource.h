// Ref {type,title} printed "file[/etc/hosts]", SourceLoc, Resource.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/value.h"

namespace keel {

struct SourceLoc {
  std::string file;  // as the user named it (relative to cwd or repo)
  int line = 0;      // 1-based; 0 = unknown
  int col = 0;       // 1-based
  /// "file:line:col" ("file" alone when the line is unknown).
  std::string str() const;
};

struct Ref {
  std::string type;
  std::string title;
  std::string str() const { return type + "[" + title + "]"; }
  /// Parses "type[title]"; nullopt when malformed.
  static std::optional<Ref> Parse(std::string_view text);
  bool operator==(const Ref& o) const { return type == o.type && title == o.title; }
  bool operator<(const Ref& o) const { return type != o.type ? type < o.type : title < o.title; }
};

/// A reference and where it was written: line and column in the file of
/// the resource that holds it (its Resource::loc.file; a SourceLoc of its
/// own, file name included, was 40 bytes and a heap string per reference).
struct RefAt {
  Ref ref;
  uint32_t line = 0, col = 0;  // 1-based; 0 = unknown
  SourceLoc Loc(const std::string& file) const {
    return SourceLoc{file, static_cast<int>(line), static_cast<int>(col)};
  }
};

/// A resource's tags. The resources of one manifest mostly carry the same
/// ones, so the list is shared (copy on write): at 100,000 resources a
/// vector of four strings each was ~13 MB.
class Tags {
 public:
  Tags() = default;
  Tags(std::initializer_list<std::string> tags)
      : v_(std::make_shared<const std::vector<std::string>>(tags)) {}
  explicit Tags(std::shared_ptr<const std::vector<std::string>> shared) : v_(std::move(shared)) {}
  std::vector<std::string>::const_iterator begin() const { return list().begin(); }
  std::vector<std::string>::const_iterator end() const { return list().end(); }
  size_t size() const { return v_ ? v_->size() : 0; }
  bool empty() const { return size() == 0; }
  bool Has(std::string_view tag) const;
  void push_back(std::string tag);
  const std::vector<std::string>& list() const;
  bool operator==(const std::vector<std::string>& other) const { return list() == other; }

 private:
  std::shared_ptr<const std::vector<std::string>> v_;
};

/// One declared resource, validated: `attrs` holds the attributes the
/// manifest gave (coerced to their schema kinds) and the name attribute,
/// which is always set (from the title unless given); `defaults` the
/// type's schema defaults, shared by all its resources (PrepareResource
/// sets it). Get and Has see a default wherever attrs has no value.
struct Resource {
  Ref ref;
  Attrs attrs;
  std::shared_ptr<const Attrs> defaults;  // the type's; null before PrepareResource
  SourceLoc loc;                          // where the entry starts
  /// Where each attribute was given: attr_locs[i] is the place of attrs'
  /// i-th entry (the manifest's attributes come first, in manifest order),
  /// in the resource's own file (loc.file).
  struct AttrLoc {
    uint32_t line = 0, col = 0;
  };
  std::vector<AttrLoc> attr_locs;
  std::vector<RefAt> require, before, notify, subscribe;
  Tags tags;  // explicit + type name + manifest basename
  bool noop = false;
  bool sensitive = false;

  const std::string& type() const { return ref.type; }
  const std::string& title() const { return ref.title; }
  std::string id() const { return ref.str(); }

  const Value* Get(std::string_view attr) const {
    const Value* v = attrs.Find(attr);
    return v || !defaults ? v : defaults->Find(attr);
  }
  bool Has(std::string_view attr) const { return Get(attr) != nullptr; }
  /// The attribute as text, or `def` when absent.
  std::string GetString(std::string_view attr, std::string_view def = "") const;
  bool GetBool(std::string_view attr, bool def) const;
  int64_t GetInt(std::string_view attr, int64_t def) const;
  /// A list attribute as strings (a lone scalar as one element); empty when absent.
  std::vector<std::string> GetList(std::string_view attr) const;
  /// Location of an attribute, or of the resource when unknown.
  SourceLoc LocOf(std::string_view attr) const;
};

}  // namespace keel
