// A shell-style file of KEY=value assignments (/etc/sysconfig/*, ifcfg-*,
// /etc/default/grub, /etc/selinux/config) as an editable sequence of chunks:
// assignments keel may change, and every other line kept byte for byte.
// Pure: text in, text out; Render() of an unedited file is its input.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "resources/common/shell_quote.h"

namespace keel::shell {

class ShellFile {
 public:
  static ShellFile Parse(std::string_view text);
  std::string Render() const;

  /// The effective (last) assignment of `key`; nullptr when none.
  const Assignment* Find(std::string_view key) const;
  /// Keys assigned in the file, in order of first appearance.
  std::vector<std::string> Keys() const;

  /// Gives `key` the value `value`: the LAST assignment of the key (the one
  /// bash ends up with) is rewritten in place, keeping its indentation,
  /// `export`, trailing comment and (unless `requested`) its quote style;
  /// earlier assignments are left alone. With none, `KEY=value` is appended
  /// at the end of the file (in `new_style` when given and nothing is
  /// requested, else as `requested` / auto). Nothing changes when the
  /// evaluated value is already `value` and `requested` is unset or already
  /// the line's style.
  void Set(std::string_view key, std::string_view value, std::optional<QuoteStyle> requested,
           std::optional<QuoteStyle> new_style = std::nullopt);
  /// Removes every assignment of `key`; returns how many.
  size_t Remove(std::string_view key);

 private:
  struct Chunk {
    std::vector<std::string> lines;  // raw lines without '\n'
    std::optional<Assignment> assign;
  };
  std::vector<Chunk> chunks_;
  bool final_newline_ = true;
};

/// True when `a` already gives `value` (no expansion involved) and, if a
/// style is requested, is written in that style.
bool Satisfies(const Assignment& a, std::string_view value, std::optional<QuoteStyle> requested);

}  // namespace keel::shell
