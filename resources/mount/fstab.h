// /etc/fstab as data: a pure parser/serializer (no I/O). Parse() then
// Render() gives back the exact bytes. Edits touch only the lines of the
// mount point they manage; a changed or new line follows the file's layout
// (aligned columns, or single tabs/spaces).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace keel::fstab {

/// One mount: fields as written in fstab, already decoded (\040 -> ' ').
struct Entry {
  std::string device, point, fstype, options = "defaults";
  std::string dump = "0", pass = "0";
  /// Equal as mount(8) sees it: a missing dump/pass is 0.
  bool SameAs(const Entry& o) const;
};

/// One physical line; `fields` are encoded as in the file. A line with
/// fewer than 4 fields (or a comment, or blank) is kept verbatim.
struct FstabLine {
  bool is_entry = false;
  std::string raw;
  std::string indent;
  std::vector<std::string> fields;
  std::vector<std::string> seps;  // seps[i] is the whitespace before fields[i]; seps[0] = ""
  std::string trailer;            // trailing whitespace and '\r'
  std::string Render() const;
  Entry ToEntry() const;
};

/// "\040" style escapes of fstab(5) and getmntent(3).
std::string Encode(std::string_view field);
std::string Decode(std::string_view field);

class Fstab {
 public:
  static Fstab Parse(std::string_view text);
  std::string Render() const;

  /// The first entry mounting on `point`; nullopt when none.
  std::optional<Entry> Find(std::string_view point) const;
  /// The first line for entry.point is edited field by field (other fields'
  /// bytes kept; padding keeps the line's columns); later duplicates for
  /// the same point are dropped; a missing entry is appended in the file's
  /// layout.
  void Set(const Entry& entry);
  /// Drops every line mounting on `point`.
  void Remove(std::string_view point);

  const std::vector<FstabLine>& lines() const { return lines_; }

 private:
  std::vector<FstabLine> lines_;
  bool final_newline_ = true;
};

}  // namespace keel::fstab
