// /etc/hosts as data: a pure parser/serializer (no I/O). Parse() then
// Render() gives back the exact bytes; edits touch only the lines of the
// name they manage and keep each line's whitespace style.
//
// The file is not split into per-line structs: lines are scanned as views
// into the text when a query or an edit needs them, and edits are recorded
// as edit::LineEdits (by byte offset) and applied in one pass by Render().
// Memory is the text plus the edited lines, whatever the number of lines
// (a 2,000,000-line /etc/hosts costs its size, not 2,000,000 structs).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "resources/common/line_edits.h"

namespace keel::hosts {

struct HostEntry {
  std::string ip;
  std::vector<std::string> aliases;
  bool operator==(const HostEntry&) const = default;
};

class HostsFile {
 public:
  /// Parses a copy of `text` (the caller's string may go away).
  static HostsFile Parse(std::string_view text);
  static HostsFile Parse(const char* text) { return Parse(std::string_view(text)); }
  /// Parses `text`, taking it over (no copy).
  static HostsFile Parse(std::string&& text);
  /// Parses `text` without copying it: `text` must outlive the result and
  /// every copy of it, unchanged. What providers use on a file's content.
  static HostsFile Borrow(std::string_view text);

  /// The text with every edit applied.
  std::string Render() const;
  /// True when the edits made so far change the text (Render() != the
  /// parsed text); false after edits that found everything in place.
  bool changed() const { return edits_ && edits_->edited(); }

  /// The entry of `name`: the line where it is the first (canonical) name,
  /// else the first line that lists it as an alias (then `aliases` is
  /// empty). nullopt when the name is nowhere. Names compare
  /// case-insensitively, as the resolver does.
  std::optional<HostEntry> Find(std::string_view name) const;
  /// Makes `name` appear on exactly one line, "ip name aliases...": the
  /// line where it is canonical is edited in place (first such line), else
  /// a line is appended in the style of the last entry of the same address
  /// family (tab or space, padding to its column). Every other mention of the
  /// name is removed; a line left without names is dropped.
  void Set(std::string_view name, const HostEntry& entry);
  /// Drops the lines where `name` is canonical and removes it where it is
  /// an alias (dropping a line left without names).
  void Remove(std::string_view name);

 private:
  explicit HostsFile(std::string_view text) : text_(text) {}
  // Before a second edit: the first one's result becomes the text (edits
  // are found on the text as parsed; one edit per parse is the providers'
  // case and costs no copy).
  void Commit();
  std::shared_ptr<const std::string> owned_;  // the text, when Parse copied or took it
  std::string_view text_;
  std::optional<edit::LineEdits> edits_;  // on text_; none before the first edit
};

/// Where each name of a hosts file is, built in one pass: lets N `host`
/// resources on one file find their line without N scans (a no-op run of
/// 4,000 hosts on one file scanned it 4,000 times). Holds views into the
/// text, which must outlive it unchanged.
class HostsIndex {
 public:
  static HostsIndex Build(std::string_view text);
  /// HostsFile::Find, answered from the index.
  std::optional<HostEntry> Find(std::string_view name) const;
  /// True when HostsFile::Set(name, entry) would change nothing: the name
  /// is on exactly one line, first there, with this address and exactly
  /// these aliases. False means "maybe": the caller edits as usual.
  bool InPlace(std::string_view name, const HostEntry& entry) const;
  /// True when HostsFile::Remove(name) would change nothing.
  bool Absent(std::string_view name) const;

 private:
  struct At {
    uint32_t lines = 0;  // lines that mention the name (any position)
    int64_t canon = -1;  // first line where it is the first name (offset)
    int64_t alias = -1;  // first line where it is an alias (offset)
  };
  const At* Get(std::string_view name) const;
  std::string_view text_;
  std::unordered_map<std::string, At> at_;  // by lower-case name
};

}  // namespace keel::hosts
