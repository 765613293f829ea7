// Converges a catalog: prefetch -> per resource read/diff/apply/verify ->
// refresh -> flush, in graph order; the dry run swaps in the overlay Host.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "engine/catalog.h"
#include "engine/graph.h"
#include "engine/host.h"
#include "engine/provider.h"
#include "engine/registry.h"
#include "engine/report.h"

namespace keel {

class StateDir;

struct RunOptions {
  bool noop = false;
  int jobs = 1;
  std::vector<std::string> tags;  // empty: every resource
  /// Called when a resource starts converging (from the converging thread,
  /// one call at a time): `started` counts from 1 up to `total` (the
  /// selected resources). For a progress display; may be empty.
  std::function<void(const Resource& r, size_t started, size_t total)> on_start;
  /// Called once, before the first change of a real run (an Apply, a
  /// refresh, the owed refreshes claimed for them): the run's marker in the
  /// state dir. Its error fails every resource that would change, with
  /// nothing changed. Not called in noop, nor when nothing changes. May be empty.
  std::function<Result<void>()> before_change;
};

/// Runs the transaction. `host` is the real Host of the root; in noop the
/// transaction wraps it in an OverlayHost and writes nothing anywhere.
/// `state` (may be null) supplies owed refreshes and receives new ones
/// (not in noop). Fills report.resources, warnings, reboot_required.
void RunTransaction(const Catalog& catalog, const Graph& graph, const Registry& registry,
                    Host& host, RunContext& ctx, StateDir* state, const RunOptions& options,
                    Report& report);

}  // namespace keel
