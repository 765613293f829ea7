// /etc/fstab as data: a pure parser/serializer (no I/O). Parse() then
// Render() gives back the exact bytes. Edits touch only the lines of the
// mount point they manage; a changed or new line follows the file's layout
// (aligned columns, or single tabs/spaces).
//
// The file is not split into per-line structs: lines are scanned as views
// into the text when a query or an edit needs them, and edits are recorded
// as edit::LineEdits (by byte offset) and applied in one pass by Render().
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "resources/common/line_edits.h"

namespace keel::fstab {

/// One mount: fields as written in fstab, already decoded (\040 -> ' ').
struct Entry {
  std::string device, point, fstype, options = "defaults";
  std::string dump = "0", pass = "0";
  /// Equal as mount(8) sees it: a missing dump/pass is 0.
  bool SameAs(const Entry& o) const;
};

/// "\040" style escapes of fstab(5) and getmntent(3).
std::string Encode(std::string_view field);
std::string Decode(std::string_view field);
/// Decode(field) == decoded, without building a string when `field` has
/// no escape (the common case, checked once per line of a large file).
bool DecodedEquals(std::string_view field, std::string_view decoded);

class Fstab {
 public:
  /// Parses a copy of `text` (the caller's string may go away).
  static Fstab Parse(std::string_view text);
  static Fstab Parse(const char* text) { return Parse(std::string_view(text)); }
  /// Parses `text`, taking it over (no copy).
  static Fstab Parse(std::string&& text);
  /// Parses `text` without copying it: `text` must outlive the result and
  /// every copy of it, unchanged. What providers use on a file's content.
  static Fstab Borrow(std::string_view text);

  /// The text with every edit applied.
  std::string Render() const;
  /// True when the edits made so far change the text (Render() != the
  /// parsed text); false after edits that found everything in place.
  bool changed() const { return edits_ && edits_->edited(); }

  /// The first entry mounting on `point`; nullopt when none.
  std::optional<Entry> Find(std::string_view point) const;
  /// The first line for entry.point is edited field by field (other fields'
  /// bytes kept; padding keeps the line's columns); later duplicates for
  /// the same point are dropped; a missing entry is appended in the file's
  /// layout.
  void Set(const Entry& entry);
  /// Drops every line mounting on `point`.
  void Remove(std::string_view point);

 private:
  explicit Fstab(std::string_view text) : text_(text) {}
  // Before a second edit: the first one's result becomes the text (edits
  // are found on the text as parsed; one edit per parse is the providers'
  // case and costs no copy).
  void Commit();
  std::shared_ptr<const std::string> owned_;  // the text, when Parse copied or took it
  std::string_view text_;
  std::optional<edit::LineEdits> edits_;  // on text_; none before the first edit
};

/// Where each mount point of an fstab is, built in one pass: lets N `mount`
/// resources on one file find their line without N scans. Holds views into
/// the text, which must outlive it unchanged.
class FstabIndex {
 public:
  static FstabIndex Build(std::string_view text);
  /// Fstab::Find, answered from the index.
  std::optional<Entry> Find(std::string_view point) const;
  /// True when Fstab::Set(entry) would change nothing: one line for the
  /// point, the same mount. False means "maybe": the caller edits as usual.
  bool InPlace(const Entry& entry) const;
  /// True when Fstab::Remove(point) would change nothing.
  bool Absent(std::string_view point) const;

 private:
  struct At {
    uint32_t lines = 0;  // lines mounting on the point
    size_t first = 0;    // offset of the first one
  };
  std::string_view text_;
  std::unordered_map<std::string, At> at_;  // by decoded mount point
};

}  // namespace keel::fstab
