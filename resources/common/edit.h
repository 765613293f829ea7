// The shared editing layer of the config-file types (line, shellvar, ifcfg,
// host, mount, sysctl, modprobe, ...): byte-preserving line splitting, safe
// reading of the file to edit, one content change with an exact diff, and
// the write. Each type keeps its own pure parser/serializer beside it.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/host.h"
#include "engine/provider.h"
#include "engine/result.h"

namespace keel::edit {

/// A text file split into lines without their '\n'. Render() gives back
/// the exact bytes Parse() was given (CR, trailing blanks, a missing final
/// newline are kept). An empty file has no lines.
struct TextLines {
  std::vector<std::string> lines;
  bool final_newline = true;  // false when the last line had no '\n'
  static TextLines Parse(std::string_view text);
  /// Joins with '\n'; the last line gets '\n' only when final_newline.
  /// Lines appended by an edit to a file without final newline: the editor
  /// sets final_newline = true so the old last line is terminated.
  std::string Render() const;
};

/// Reads a file that an editing type manages: nullopt when absent. A clear
/// error (ErrorCode::kInvalid) when it is a directory, a binary file (a NUL
/// byte), or unreadable — never edit such a file.
Result<std::optional<std::string>> ReadEditable(Host& host, const HostPath& path);

/// The "content" Change of an edited file: from/to are "{sha256}<hex>" (or
/// absent for a file to create / remove), detail is the unified diff.
/// `sensitive` leaves the detail empty.
Change ContentChange(const HostPath& path, const std::optional<std::string>& before,
                     const std::optional<std::string>& after, bool sensitive = false);

/// Writes `content` to `path` atomically through the host: an existing file
/// keeps its mode and owner; a new one gets 0644 root:root and its missing
/// parent directories 0755. nullopt content removes the file.
Result<void> WriteEdited(Host& host, const HostPath& path, const std::optional<std::string>& content);

}  // namespace keel::edit
