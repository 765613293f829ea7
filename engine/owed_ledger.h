// The owed refreshes of a run (SPEC 5: restarts are never lost): which
// notify targets are owed a refresh, kept on disk through the state dir
// BEFORE the change that makes them owed, so a kill at any later moment
// leaves them recorded. Delivery is at least once: an entry is cleared only
// after its refresh ran.
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "engine/result.h"

namespace keel {

class StateDir;

/// Not thread-safe: the transaction calls it under its own mutex.
class OwedLedger {
 public:
  /// `sink` null: memory only (a dry run writes nothing).
  explicit OwedLedger(StateDir* sink) : sink_(sink) {}

  /// `on_disk`: the ids an earlier run recorded; `keep`: those still owed
  /// (the others, no longer declared, leave the file at the next write).
  void Load(const std::vector<std::string>& on_disk, const std::vector<std::string>& keep);
  /// True when `id` is owed a refresh (recorded and confirmed).
  bool Owed(const std::string& id) const { return owed_.count(id) > 0; }

  /// Records a claim on each of `ids` before the change that may make them
  /// owed; written to the state dir when the recorded set grew. On a write
  /// error the claims are withdrawn and the error returned: the caller
  /// must not make the change.
  Result<void> Claim(const std::vector<std::string>& ids);
  /// Settles claims made by Claim(ids): `keep` (the change happened, or may
  /// have) makes them owed; otherwise (nothing changed) they are withdrawn.
  /// Error when writing the changed set failed (the memory state is
  /// updated anyway and written by the next successful write).
  Result<void> Resolve(const std::vector<std::string>& ids, bool keep);
  /// The refresh of `id` ran: no longer owed. Error as Resolve (the entry
  /// then stays on disk: the next run refreshes again, at least once).
  Result<void> Delivered(const std::string& id);

  /// Writes the recorded set when the state dir holds another one.
  Result<void> Sync() { return Persist(); }
  /// The recorded set (owed or claimed), in first-recorded order.
  std::vector<std::string> Ids() const;
  /// What the state dir holds as far as this ledger knows.
  const std::vector<std::string>& persisted() const { return persisted_; }

 private:
  Result<void> Persist();
  void Note(const std::string& id);

  StateDir* sink_;
  std::vector<std::string> order_;
  std::set<std::string> owed_;
  std::map<std::string, int> claims_;
  std::vector<std::string> persisted_;
};

}  // namespace keel
