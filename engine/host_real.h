// The real Host: a root directory opened once; every path resolved inside it
// (openat2 RESOLVE_IN_ROOT, or a component walk that re-roots absolute
// symlinks and clamps ".."); commands chrooted under --root.
#pragma once

#include <memory>
#include <string>

#include "engine/host.h"

namespace keel {

/// Opens `root_dir` ("/" for the live system). Error when it is not a
/// directory. `backups` (may be null) receives replaced content.
Result<std::unique_ptr<Host>> OpenRealHost(const std::string& root_dir, BackupSink* backups);

/// A Host that layers writes in memory over `base` (the plan overlay of
/// SPEC 5): reads see earlier writes, nothing reaches `base`. dry_run() is
/// true. Run() runs only commands with `query` set (on `base`); any other
/// command is not run and answered {exit_code 0, not_run true, err "not
/// run: dry run"}, so a provider that forgets to check dry_run() changes
/// nothing.
std::unique_ptr<Host> MakeOverlayHost(Host& base);

}  // namespace keel
