// /etc/hosts as data: a pure parser/serializer (no I/O). Parse() then
// Render() gives back the exact bytes; edits touch only the lines of the
// name they manage and keep each line's whitespace style.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace keel::hosts {

/// One physical line. An entry is "ip name [name...]" with an optional
/// trailing "# comment"; anything else (blank, comment, a lone word) is
/// kept verbatim in `raw` and never touched.
struct HostsLine {
  bool is_entry = false;
  std::string raw;     // the exact line (used for non-entries)
  std::string indent;  // leading whitespace of an entry
  std::string ip;
  std::vector<std::string> names;
  std::vector<std::string> seps;  // seps[i] is the whitespace before names[i]
  std::string trailer;            // trailing whitespace, "# comment", '\r'
  std::string Render() const;
};

struct HostEntry {
  std::string ip;
  std::vector<std::string> aliases;
  bool operator==(const HostEntry&) const = default;
};

class HostsFile {
 public:
  static HostsFile Parse(std::string_view text);
  std::string Render() const;

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

  const std::vector<HostsLine>& lines() const { return lines_; }

 private:
  std::vector<HostsLine> lines_;
  bool final_newline_ = true;
};

}  // namespace keel::hosts
