// A Provider for types that edit one file per resource (line, shellvar,
// ifcfg, ...): the type supplies the path and a pure edit of the content;
// this class reads and stages through the run's EditSession (one read, one
// write per file per run), reports one exact content diff, creates missing
// parent directories, and writes in Flush.
#pragma once

#include <optional>
#include <string>

#include "engine/provider.h"
#include "resources/common/edit.h"

namespace keel::edit {

class EditProvider : public Provider {
 public:
  /// have = {"content": current text, or null when the file is absent,
  ///         "missing_parents": list of directories a write would create}.
  /// Runs the edit once so that a failure (a regex too complex to run)
  /// is the resource's read error, not a silent no-op.
  Result<Attrs> Read(const Resource& want, Host& host, RunContext& ctx) override;
  /// "ensure" when the file is created or removed, one "parent" change per
  /// directory to create, and the "content" change with its unified diff.
  std::vector<Change> Diff(const Resource& want, const Attrs& have, RunContext& ctx) override;
  /// Re-runs the edit on the session's content; fails with kConflict when
  /// the result is not the one the diff announced; stages it.
  Result<void> Apply(const Resource& want, std::span<const Change> changes, Host& host,
                     RunContext& ctx, Outcome& out) override;
  /// Writes the staged files of `changed` (with the edits of every editing
  /// type on them: the session is shared), each once.
  Result<void> Flush(std::span<const Resource* const> changed, Host& host,
                     RunContext& ctx) override;
  /// Read goes through the session, so a re-read after Apply sees the
  /// staged content: verification checks that the edit is a fixed point.
  bool VerifyAfterApply() const override { return true; }

 protected:
  /// The file this resource edits.
  virtual Result<HostPath> PathOf(const Resource& want) const = 0;
  /// Adds the type's own properties as found in `before` (for `keel
  /// resource` and reports); they take no part in Diff. Default: none.
  virtual void Observe(const Resource& want, const std::optional<std::string>& before,
                       Attrs& have) const {
    (void)want, (void)before, (void)have;
  }
  /// The content the file should have given `before` (nullopt = absent).
  /// Pure; returns `before` unchanged when nothing is to be done.
  virtual Result<std::optional<std::string>> Edit(
      const Resource& want, const std::optional<std::string>& before) const = 0;
};

}  // namespace keel::edit
