// The passwd and group databases as text: the one parser of /etc/passwd and
// /etc/group lines ("name:password:id:..."), used by the uid/gid lookups of
// the Host and by the file type's owner names. Pure functions on strings; a
// resource may include this header.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace keel {

/// One line of /etc/passwd or /etc/group.
struct IdDbEntry {
  std::string_view name;
  std::optional<uint32_t> id;  // nullopt when the third field is not a decimal number
};

/// Parses one line (without its '\n'); nullopt for a blank line, a '#'
/// comment, an empty name or fewer than three fields.
std::optional<IdDbEntry> ParseIdDbLine(std::string_view line);

/// The first entry of `db` named `name` (views into `db`); nullopt when
/// no line has that name.
std::optional<IdDbEntry> FindIdByName(std::string_view db, std::string_view name);

/// The name of the first entry of `db` whose id is `id`; nullopt when none.
std::optional<std::string> FindNameById(std::string_view db, uint32_t id);

/// A plain decimal uid/gid ("0", "1001"): no sign, blanks or overflow.
std::optional<uint32_t> ParseId(std::string_view text);

}  // namespace keel
