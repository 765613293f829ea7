// Provider tests through the REAL transaction (engine/transaction.h): a
// small catalog of the given resources, its graph, RunTransaction with the
// real or (noop) overlay host. No second run loop lives in the tests.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "engine/host.h"
#include "engine/host_real.h"
#include "engine/provider.h"
#include "engine/registry.h"
#include "engine/report.h"
#include "tests/unit/support/temp_root.h"

namespace keel::testing {

enum class Converged { kUnchanged, kChanged, kFailed, kSkipped };

struct ConvergeResult {
  Converged status = Converged::kUnchanged;
  std::vector<Change> changes;  // redacted for sensitive resources, as in the report
  std::string error;            // "" when none
  std::string message;          // the report's message ("" when none)
  bool refreshed = false;
};

/// Builds a resource of `type` titled `title` with `attrs` and checks it
/// with PrepareResource; FAILs the test (throws std::runtime_error) when
/// the attributes are invalid.
Resource MakeResource(const Registry& registry, const std::string& type, const std::string& title,
                      Attrs attrs);

/// One run over `rs` (manifest order; graph edges as the loader would make
/// them, implicit ones included) on `host`: RunTransaction, serial. noop:
/// a dry run (the transaction's overlay; the host is untouched). ctx:
/// optional run context (facts etc.; the run's warnings are left in it,
/// and its Shared objects such as the edit session stay readable). Results in the order of `rs`; a
/// catalog the graph refuses (a cycle) throws std::runtime_error.
std::vector<ConvergeResult> ConvergeAll(const Registry& registry, const std::vector<Resource>& rs,
                                        Host& host, bool noop = false, RunContext* ctx = nullptr,
                                        Report* report = nullptr);

/// ConvergeAll of one resource.
ConvergeResult Converge(const Registry& registry, const Resource& r, Host& host, bool noop = false,
                        RunContext* ctx = nullptr);

/// The timeline every type is held to: a plan reports a change and leaves
/// `root` byte for byte; the apply changes (without error); a second apply
/// changes nothing. Returns the apply's result.
/// `ctx` (optional) is used by all three runs.
std::vector<ConvergeResult> TimelineAll(const Registry& registry, const std::vector<Resource>& rs,
                                        Host& host, const TempRoot& root,
                                        RunContext* ctx = nullptr);
ConvergeResult Timeline(const Registry& registry, const Resource& r, Host& host,
                        const TempRoot& root, RunContext* ctx = nullptr);

}  // namespace keel::testing
