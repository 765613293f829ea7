// sysctl.conf / sysctl.d files as data: a pure parser/serializer (no I/O).
// The parsed file is a view of the text (no per-line strings): Parse() then
// Render() gives back the exact bytes; Set() changes only the value bytes
// of the key's lines, keeping each line's spacing. Time is linear in the
// text and memory the text plus the edits, whatever the number of lines.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "resources/common/line_edits.h"

namespace keel::sysctl {

/// The /proc/sys path of a key, relative: "net.ipv4.ip_forward" ->
/// "net/ipv4/ip_forward". A key written with slashes is already a path
/// (its dots are part of names, e.g. a VLAN "eth0.100").
std::string KeyPath(std::string_view key);
/// Values compare with whitespace runs collapsed to one space and the ends
/// trimmed ("4096\t87380  6291456" == "4096 87380 6291456").
std::string NormalizeValue(std::string_view value);

/// One physical line, as views into it. An assignment is "[-]key = value";
/// comments ('#', ';'), blanks and lines without '=' are not.
struct SysctlLine {
  bool is_assignment = false;
  std::string_view key;     // without the leading '-' (ignore-errors mark)
  std::string_view prefix;  // bytes up to the value ("net.x = ")
  std::string_view value;
  std::string_view suffix;  // trailing whitespace and '\r'
};
/// Parses one line (without its '\n').
SysctlLine ParseLine(std::string_view line);

/// Calls f(key, value) for every assignment of `text`, in order.
template <typename F>
void ForEachAssignment(std::string_view text, F&& f) {
  edit::ForEachLine(text, [&](const edit::LineSpan& span) {
    SysctlLine l = ParseLine(span.text);
    if (l.is_assignment) f(l.key, l.value);
  });
}

class SysctlConf {
 public:
  /// Views `text`: it must outlive this object and not change.
  static SysctlConf Parse(std::string_view text);
  /// The text with every Set/Remove applied.
  std::string Render() const;
  /// True when a Set/Remove changed something (Render() may still equal
  /// the text when a value was rewritten with the same bytes).
  bool edited() const { return !values_.empty() || !removed_.empty() || !appended_.empty(); }
  /// The value of the last assignment of `key` (the one that wins when the
  /// file is loaded); nullopt when the file does not set it.
  std::optional<std::string> Get(std::string_view key) const;
  /// Every assignment of `key` gets `value` (lines whose value is already
  /// equal after NormalizeValue keep their bytes); none: a line is appended
  /// with the spacing around '=' of the file's last assignment (default
  /// "key = value").
  void Set(std::string_view key, std::string_view value);
  /// Drops every assignment of `key`.
  void Remove(std::string_view key);

 private:
  struct Appended {
    std::string key, between, value;
    bool removed = false;
  };
  explicit SysctlConf(std::string_view text) : text_(text) {}
  // Calls f(begin, line, value) for each assignment of the text as edited
  // (original lines first, then appended ones; begin = npos for those).
  template <typename F>
  void ForEachCurrent(F&& f) const;
  std::string_view text_;
  std::map<size_t, std::string> values_;  // by line begin: the value now
  std::map<size_t, bool> removed_;        // by line begin
  std::vector<Appended> appended_;
  bool force_final_newline_ = false;  // a line was appended (even if removed since)
};

/// Where each key of a sysctl file is set, built in one pass: lets N
/// `sysctl` resources on one file answer without N scans (a no-op run of
/// 4,000 keys on one file scanned it 4,000 times). Holds views into the
/// text, which must outlive it unchanged.
class SysctlIndex {
 public:
  static SysctlIndex Build(std::string_view text);
  /// SysctlConf::Get, answered from the index.
  std::optional<std::string> Get(std::string_view key) const;
  /// True when SysctlConf::Set(key, value) would change nothing: the key
  /// is set, and every line that sets it gives this value.
  bool InPlace(std::string_view key, std::string_view value) const;

 private:
  struct At {
    std::string_view last;  // the last line's value
    std::string value;      // normalised value of the first line
    bool same = true;       // every line gives that value
  };
  std::unordered_map<std::string, At> at_;  // by KeyPath
};

}  // namespace keel::sysctl
