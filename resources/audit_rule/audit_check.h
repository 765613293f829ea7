// Load-time check of one audit rule with libaudit's own name tables and
// field parser (the library auditctl uses), so keel accepts what auditctl
// accepts. The option grammar (-w/-p/-k, -a/-A/-S/-F/-C, control lines) is
// keel's; syscalls, lists, actions, fields, operators, values, errnos, file
// types and message types are libaudit's. Nothing talks to the kernel
// except libaudit's feature probe for a few fields (absent: treated as old).
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace keel::audit {

/// nullopt when auditctl would accept `words` (SplitRule's output) as one
/// line of a rules file; else a message naming the bad word, e.g.
/// "unknown syscall 'opne' (-S opne)". Thread-safe (libaudit's parse state
/// is global; a mutex serialises callers).
std::optional<std::string> CheckRule(const std::vector<std::string>& words);

}  // namespace keel::audit
