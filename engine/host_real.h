// The real Host: a root directory opened once; every path resolved inside it
// (openat2 RESOLVE_IN_ROOT, or a component walk that re-roots absolute
// symlinks and clamps ".."); commands chrooted under --root.
#pragma once

#include <memory>
#include <string>

#include "engine/host.h"
#include "engine/host_overlay.h"  // MakeOverlayHost, for callers of both

namespace keel {

/// Opens `root_dir` ("/" for the live system). Error when it is not a
/// directory. `backups` (may be null) receives replaced content.
Result<std::unique_ptr<Host>> OpenRealHost(const std::string& root_dir, BackupSink* backups);

}  // namespace keel
