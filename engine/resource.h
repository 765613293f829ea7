// Ref {type,title} printed "file[/etc/hosts]", SourceLoc, Resource.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/compact_vec.h"
#include "engine/value.h"

namespace keel {

struct SourceLoc {
  std::string file;  // as the user named it (relative to cwd or repo)
  int line = 0;      // 1-based; 0 = unknown
  int col = 0;       // 1-based
  /// "file:line:col" ("file" alone when the line is unknown).
  std::string str() const;
};

/// Where a resource was declared: SourceLoc's content in 16 bytes. The
/// file name is interned (one string per manifest file for the whole
/// process, never freed): a std::string in every resource was 32 bytes.
class DeclLoc {
 public:
  DeclLoc() = default;
  DeclLoc(std::string_view file, int line, int col);
  DeclLoc(const SourceLoc& loc) : DeclLoc(loc.file, loc.line, loc.col) {}
  /// "" when unknown.
  const std::string& file() const;
  int line() const { return static_cast<int>(line_); }
  int col() const { return static_cast<int>(col_); }
  operator SourceLoc() const { return SourceLoc{file(), line(), col()}; }
  std::string str() const { return SourceLoc(*this).str(); }

 private:
  const std::string* file_ = nullptr;  // interned; null = ""
  uint32_t line_ = 0, col_ = 0;
};

/// The places (line, column) of a resource's attributes, by position.
/// The common case, at most three attributes each on one of the 255 lines
/// after the resource's own and in a column below 256, is packed into one
/// word: no heap block per resource (4.8 MB at 100,000 resources). Other
/// places are kept in a list.
class AttrPlaces {
 public:
  struct Place {
    uint32_t line = 0, col = 0;
  };
  /// `base_line`: the resource's line, which Get must be given too.
  void Assign(const std::vector<Place>& places, uint32_t base_line);
  size_t size() const {
    return spilled_.empty() ? static_cast<size_t>(packed_ & 3) : spilled_.size();
  }
  /// The i-th place (i < size()).
  Place Get(size_t i, uint32_t base_line) const;

 private:
  // Bits 0-1: how many; then per place 8 bits of line offset and 8 of column.
  uint64_t packed_ = 0;
  CompactVec<Place> spilled_;
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

/// A reference and where it was written. The reference is kept as its
/// text "type[title]" in one string (a Ref is two strings, 64 bytes and a
/// second heap block); line and column are in the file of the resource
/// that holds it (its Resource::loc.file()).
class RefAt {
 public:
  RefAt() = default;
  RefAt(const Ref& ref, uint32_t line = 0, uint32_t col = 0)
      : line(line), col(col), text_(ref.str()), open_(static_cast<uint32_t>(ref.type.size())) {}
  std::string_view type() const { return std::string_view(text_).substr(0, open_); }
  std::string_view title() const {
    return std::string_view(text_).substr(open_ + 1, text_.size() - open_ - 2);
  }
  Ref ref() const { return Ref{std::string(type()), std::string(title())}; }
  /// "type[title]", as Ref::str().
  const std::string& str() const { return text_; }
  SourceLoc Loc(const std::string& file) const {
    return SourceLoc{file, static_cast<int>(line), static_cast<int>(col)};
  }

  uint32_t line = 0, col = 0;  // 1-based; 0 = unknown

 private:
  std::string text_;
  uint32_t open_ = 0;  // where '[' is
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
  DeclLoc loc;                            // where the entry starts
  /// Where each attribute was given: attr_locs.Get(i, loc.line()) is the
  /// place of attrs' i-th entry (the manifest's attributes come first, in
  /// manifest order), in the resource's own file (loc.file()).
  using AttrLoc = AttrPlaces::Place;
  AttrPlaces attr_locs;
  CompactVec<RefAt> require, before, notify, subscribe;
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
