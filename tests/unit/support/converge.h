// Converge one resource through its provider as the transaction does:
// Prefetch, Read, Diff, Apply (into an overlay in noop), Flush, re-Read.
// For provider timeline tests.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "engine/host.h"
#include "engine/host_real.h"
#include "engine/provider.h"
#include "engine/registry.h"

namespace keel::testing {

enum class Converged { kUnchanged, kChanged, kFailed };

struct ConvergeResult {
  Converged status = Converged::kUnchanged;
  std::vector<Change> changes;
  std::string error;
};

/// Builds a resource of `type` titled `title` with `attrs` and checks it
/// with PrepareResource; FAILs the test (throws std::runtime_error) when
/// the attributes are invalid.
Resource MakeResource(const Registry& registry, const std::string& type, const std::string& title,
                      Attrs attrs);

/// Converges `r` on `host`. noop: Apply goes to an overlay, the host is
/// untouched. ctx: optional run context (facts etc.).
ConvergeResult Converge(const Registry& registry, const Resource& r, Host& host, bool noop = false,
                        RunContext* ctx = nullptr);

/// Converges several resources in order with one provider instance per type
/// and one context (shared files, flush once), like one run.
std::vector<ConvergeResult> ConvergeAll(const Registry& registry, const std::vector<Resource>& rs,
                                        Host& host, bool noop = false, RunContext* ctx = nullptr);

}  // namespace keel::testing
