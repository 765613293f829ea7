// Ref {type,title} printed "file[/etc/hosts]", SourceLoc, Resource.
#pragma once

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

struct RefAt {
  Ref ref;
  SourceLoc loc;
};

/// One declared resource, validated: `attrs` holds the attributes the
/// manifest gave (coerced to their schema kinds), the name attribute, which
/// is always set (from the title unless given), and every schema default
/// the manifest did not override (PrepareResource fills them once).
struct Resource {
  Ref ref;
  Attrs attrs;
  SourceLoc loc;  // where the entry starts
  /// Where each attribute was given: in the resource's own file (loc.file),
  /// so only line and column are kept (at 100,000 resources a file name
  /// per attribute was ~15 % of the catalog).
  struct AttrLoc {
    std::string name;
    int line = 0, col = 0;
  };
  std::vector<AttrLoc> attr_locs;
  std::vector<RefAt> require, before, notify, subscribe;
  std::vector<std::string> tags;  // explicit + type name + manifest basename
  bool noop = false;
  bool sensitive = false;
  std::string manifest_path;  // file that declared it
  std::string repo_dir;       // directory of the entry manifest (source/template root)

  const std::string& type() const { return ref.type; }
  const std::string& title() const { return ref.title; }
  std::string id() const { return ref.str(); }

  const Value* Get(std::string_view attr) const { return attrs.Find(attr); }
  bool Has(std::string_view attr) const { return attrs.Has(attr); }
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
