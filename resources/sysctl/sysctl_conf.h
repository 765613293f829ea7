// sysctl.conf / sysctl.d files as data: a pure parser/serializer (no I/O).
// Parse() then Render() gives back the exact bytes; Set() changes only the
// value bytes of the key's lines, keeping each line's spacing.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace keel::sysctl {

/// The /proc/sys path of a key, relative: "net.ipv4.ip_forward" ->
/// "net/ipv4/ip_forward". A key written with slashes is already a path
/// (its dots are part of names, e.g. a VLAN "eth0.100").
std::string KeyPath(std::string_view key);
/// Values compare with whitespace runs collapsed to one space and the ends
/// trimmed ("4096\t87380  6291456" == "4096 87380 6291456").
std::string NormalizeValue(std::string_view value);

/// One physical line. An assignment is "[-]key = value"; comments ('#',
/// ';'), blanks and lines without '=' are kept verbatim.
struct SysctlLine {
  bool is_assignment = false;
  std::string raw;
  std::string key;     // without the leading '-' (ignore-errors mark)
  std::string prefix;  // bytes up to the value ("net.x = ")
  std::string value;
  std::string suffix;  // trailing whitespace and '\r'
  std::string Render() const;
};

class SysctlConf {
 public:
  static SysctlConf Parse(std::string_view text);
  std::string Render() const;
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
  std::vector<SysctlLine> lines_;
  bool final_newline_ = true;
};

}  // namespace keel::sysctl
