// The resource contract: one Provider per type, driven by the transaction.
#pragma once

#include <any>
#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "engine/host.h"
#include "engine/resource.h"
#include "engine/result.h"
#include "engine/value.h"

namespace keel {

struct Change {
  std::string attr;
  std::optional<Value> from, to;  // nullopt = absent
  std::string detail;             // e.g. unified diff of a file's content ("" = none)
};

/// What Read observed of one resource. The transaction hands it to Diff and
/// Apply of that same resource; nothing is kept between resources or runs.
///  - As an Attrs: the properties as found, in the schema's terms. The
///    default Diff compares them with want's; `keel resource` prints those
///    the schema declares; null or missing means absent.
///  - State<T>(): the provider's own typed observation (a stat result, the
///    parsed file, the content read), so Diff and Apply neither re-read nor
///    keep side maps keyed by resource.
class Observation : public Attrs {
 public:
  Observation() = default;
  Observation(Attrs attrs) : Attrs(std::move(attrs)) {}  // NOLINT(implicit)
  /// Stores the provider's state (replacing any) and returns it.
  template <typename T>
  T& SetState(T state) {
    state_ = std::move(state);
    return *std::any_cast<T>(&state_);
  }
  /// The state stored by SetState<T>; nullptr when none or of another type.
  template <typename T>
  const T* State() const {
    return std::any_cast<T>(&state_);
  }

 private:
  std::any state_;
};

/// What a provider reports about one Apply or Refresh besides success.
struct Outcome {
  std::string output;   // command output for the report (exec)
  std::string message;  // one line for humans ("would refresh", "regeneration pending")
  /// Set by an Apply that only queued its change for Flush (a file write
  /// batched for durability): the engine does not re-read it now.
  bool deferred = false;
};

/// Run-wide data shared by the engine and the providers of one run.
struct RunContext {
  Value facts;           // the fact map (SPEC 4)
  bool noop = false;     // dry run: Apply is never called; Host is the overlay
  std::string repo_dir;  // the config repo / entry manifest directory

  void Warn(std::string message) {
    std::lock_guard<std::mutex> lock(mu);
    warnings.push_back(std::move(message));
  }
  std::vector<std::string> TakeWarnings() {
    std::lock_guard<std::mutex> lock(mu);
    return std::move(warnings);
  }
  std::atomic<bool> reboot_required{false};

  /// Per-run objects shared between providers (e.g. an edit session keyed by
  /// "edit"); created on first use. Not thread-safe: take `mu` when --jobs.
  template <typename T>
  T& Shared(const std::string& key) {
    std::lock_guard<std::mutex> lock(mu);
    auto it = shared.find(key);
    if (it == shared.end()) it = shared.emplace(key, std::make_shared<T>()).first;
    return *std::any_cast<std::shared_ptr<T>&>(it->second);
  }

  std::mutex mu;
  std::vector<std::string> warnings;
  std::map<std::string, std::any> shared;
};

/// Converges one resource type. Holds no state between resources except
/// what Prefetch gathered for this run. One instance per type per run.
class Provider {
 public:
  virtual ~Provider() = default;

  /// Called once per run with every resource of this type, before any Read.
  /// Read the state of all of them at once (iptables-save, dpkg-query -W).
  virtual Result<void> Prefetch(std::span<const Resource* const> all, Host& host, RunContext& ctx) {
    (void)all, (void)host, (void)ctx;
    return {};
  }
  /// Observes the current state (see Observation). MUST NOT modify the
  /// host; commands it runs are queries (Command::query). A missing object
  /// is ensure=absent, never an error. `want` has its schema defaults filled.
  virtual Result<Observation> Read(const Resource& want, Host& host, RunContext& ctx) = 0;
  /// Default: for each key of `have` that `want` also sets, a Change when
  /// the values differ. Override to normalise or to add content diffs.
  virtual std::vector<Change> Diff(const Resource& want, const Observation& have, RunContext& ctx);
  /// Applies exactly `changes`, computed by Diff from `have` (the same
  /// Observation Read returned). In a dry run it is called with the overlay
  /// Host: writes land in memory and commands other than queries are not
  /// run (answered CommandResult::not_run), so a provider that forgets to
  /// ask host.dry_run() still changes nothing.
  virtual Result<void> Apply(const Resource& want, const Observation& have,
                             std::span<const Change> changes, Host& host, RunContext& ctx,
                             Outcome& out) = 0;
  /// Reacts to notify/subscribe (restart, reload, refreshonly exec). Never
  /// called in a dry run (the engine reports "would refresh").
  virtual Result<void> Refresh(const Resource& want, Host& host, RunContext& ctx, Outcome& out) {
    (void)want, (void)host, (void)ctx, (void)out;
    return {};
  }
  /// Called once per run after the last resource of this type that changed
  /// (and before any resource that depends on one of them): one package
  /// transaction, one grub regeneration, one iptables-restore per table.
  /// `changed` lists the resources of this type that Apply changed.
  virtual Result<void> Flush(std::span<const Resource* const> changed, Host& host,
                             RunContext& ctx) {
    (void)changed, (void)host, (void)ctx;
    return {};
  }
  /// After a Flush: one line for the report of resource `r` of its batch
  /// (a package transaction says which call installed it and how many
  /// calls the run made); "" for none. Added to the resource's message.
  virtual std::string FlushMessage(const Resource& r) const {
    (void)r;
    return "";
  }
  /// After a Flush that returned an error: the ids of the `changed`
  /// resources the error concerns (one refused table of several); empty
  /// means all of them. The others keep their status.
  virtual std::vector<std::string> FlushFailedIds() const { return {}; }
  /// True when the transaction should re-Read after Apply and fail the
  /// resource if a difference remains (the default). Providers whose
  /// Apply only queues work for Flush return false.
  virtual bool VerifyAfterApply() const { return true; }
  /// True when work that Apply queued must land before any resource of
  /// another type starts (file writes that a later command may read): the
  /// engine flushes this provider then, so only a run of consecutive
  /// resources of this type is batched and manifest order holds otherwise.
  virtual bool FlushBeforeOtherTypes() const { return false; }
  /// True when a resource of this type may run while resources of the same
  /// type that it requires are applied but not yet flushed, provided that
  /// DefersApply says its own Apply only queues: FlushBatch then commits the
  /// queue in order and never a queued change whose prerequisite in the
  /// batch failed. A chain of files is one batch (one journal commit), not
  /// one flush per link. The engine flushes first whenever DefersApply is
  /// false, and re-reads.
  virtual bool FlushesInOrder() const { return false; }
  /// With FlushesInOrder: Apply of `changes` would only queue work for
  /// Flush, and Read did not depend on queued work of other resources.
  virtual bool DefersApply(const Resource& want, const Observation& have,
                           std::span<const Change> changes) const {
    (void)want, (void)have, (void)changes;
    return false;
  }
  /// Flush, given for each of `changed` the positions in `changed` of the
  /// resources it requires: a provider that FlushesInOrder must not commit
  /// the change of a resource whose prerequisite's change failed (and names
  /// it in FlushFailedIds). The default is Flush.
  virtual Result<void> FlushBatch(std::span<const Resource* const> changed,
                                  std::span<const std::vector<size_t>> after, Host& host,
                                  RunContext& ctx) {
    (void)after;
    return Flush(changed, host, ctx);
  }
};

/// The default Diff, for providers that override Diff and want it too.
std::vector<Change> AttrDiff(const Resource& want, const Attrs& have);

/// Appends the Change of one property when `have`'s value (missing = absent)
/// differs from `want`: the building block of type-specific Diffs.
void DiffProperty(std::vector<Change>& out, const Attrs& have, const std::string& attr, Value want);

/// Content over this size is not kept in an Observation as a value (that
/// would copy a 50 MB file once more): the provider sets the note "#" to
/// ContentNotShown() instead, which is what `keel resource` prints for it.
inline constexpr size_t kMaxShownContent = 64 * 1024;
/// "<attr> not shown (N bytes, large|binary): sha256:<hex>" — how `keel
/// resource` names content it does not print (over kMaxShownContent, or
/// not printable text).
std::string ContentNotShown(std::string_view attr, std::string_view text);

/// Runs `cmd`; a command that cannot start, times out or exits non-zero is
/// an error "<what>: <command> failed (exit N): <last lines of its output>".
/// In a dry run a non-query command is not run and counts as success.
Result<CommandResult> RunChecked(Host& host, const Command& cmd, const std::string& what);

}  // namespace keel
