// The plan overlay (SPEC 5, "a plan is exact").
#pragma once

#include <memory>

#include "engine/host.h"

namespace keel {

/// A Host that layers writes in memory over `base`: reads see earlier
/// writes, nothing reaches `base`. dry_run() is true. Run() runs only
/// commands with `query` set (on `base`); any other command is not run and
/// answered {exit_code 0, not_run true, err "not run: dry run"}, so a
/// provider that forgets to check dry_run() changes nothing.
std::unique_ptr<Host> MakeOverlayHost(Host& base);

}  // namespace keel
