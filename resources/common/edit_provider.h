// A Provider for types that edit one file per resource (line, shellvar,
// ifcfg, host, mount, sysctl, modprobe, ...): the type supplies the path, a
// pure edit of the content and, optionally, its own properties; this class
// reads and stages through the run's EditSession (one read, one write per
// file per run), reports one exact content diff, creates missing parent
// directories, and writes in Flush. Types with a live half (sysctl's
// /proc/sys, mount's mount table) add it through ObserveLive/DiffLive/
// ApplyLive; everything else is shared.
#pragma once

#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "engine/provider.h"
#include "resources/common/edit.h"

namespace keel::edit {

/// What EditProvider::Read keeps as the Observation's state.
struct EditState {
  Content content;                           // content now (shared with the session)
  std::vector<std::string> missing_parents;  // directories a write would create
  /// The content now; nullopt when absent.
  const std::optional<std::string>& before() const { return *content; }
};

class EditProvider : public Provider {
 public:
  /// Reads the file through the session into an EditState, runs the edit
  /// once (so a failing edit is the resource's read error, not a silent
  /// no-op), then lets the type add its properties (Observe) and its live
  /// half (ObserveLive).
  Result<Observation> Read(const Resource& want, Host& host, RunContext& ctx) final;
  /// When the content changes: the type's property changes (DiffProperties),
  /// the file's own creation/removal (named FileEnsureAttr()), one "parent"
  /// change per directory to create, and the "content" change with its
  /// unified diff. Then, whatever the file, the live changes (DiffLive).
  std::vector<Change> Diff(const Resource& want, const Observation& have, RunContext& ctx) final;
  /// Re-runs the edit on the session's content; fails with kConflict when
  /// the result is not the one the diff announced; stages it. Then hands
  /// the live changes to ApplyLive (live hosts only).
  Result<void> Apply(const Resource& want, const Observation& have, std::span<const Change> changes,
                     Host& host, RunContext& ctx, Outcome& out) final;
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
  /// The content the file should have given `before` (nullopt = absent).
  /// Pure; returns `before` unchanged when nothing is to be done.
  virtual Result<std::optional<std::string>> Edit(
      const Resource& want, const std::optional<std::string>& before) const = 0;
  /// The same on shared content: returns `before` itself (no copy) when
  /// nothing is to be done. The default calls Edit; types that edit large
  /// files override it (shellvar, line) to avoid copies and to keep a
  /// parsed model per content (one parse per file per run).
  virtual Result<Content> EditContent(const Resource& want, const Content& before) const;
  /// Observe on shared content; the default calls Observe(want, *before, have).
  virtual void ObserveContent(const Resource& want, const Content& before,
                              Observation& have) const {
    Observe(want, *before, have);
  }
  /// Adds the type's own properties as found in `before` (nullopt: no
  /// file), for DiffProperties, reports and `keel resource`. Default: none.
  virtual void Observe(const Resource& want, const std::optional<std::string>& before,
                       Observation& have) const {
    (void)want, (void)before, (void)have;
  }
  /// The property changes shown with a content change (ip, options, value),
  /// usually DiffProperty() per property. Default: none.
  virtual void DiffProperties(const Resource& want, const Observation& have,
                              std::vector<Change>& out) const {
    (void)want, (void)have, (void)out;
  }
  /// The name of the change that creates or removes the file itself:
  /// "ensure" when the file is the resource (line, shellvar, ifcfg),
  /// "file_ensure" when the type has an ensure of its own (host, mount).
  virtual const char* FileEnsureAttr() const { return "ensure"; }

  /// The live half (only when host.live()): observe it into `have`, diff
  /// it (changes named by IsLive), apply it. Defaults: no live half.
  virtual Result<void> ObserveLive(const Resource& want, Host& host, Observation& have) const {
    (void)want, (void)host, (void)have;
    return {};
  }
  virtual void DiffLive(const Resource& want, const Observation& have,
                        std::vector<Change>& out) const {
    (void)want, (void)have, (void)out;
  }
  virtual bool IsLive(const std::string& attr) const {
    (void)attr;
    return false;
  }
  virtual Result<void> ApplyLive(const Resource& want, std::span<const Change> live, Host& host,
                                 RunContext& ctx, Outcome& out) {
    (void)want, (void)live, (void)host, (void)ctx, (void)out;
    return {};
  }

 private:
  // EditContent once per resource and content: Read, Diff, Apply and the
  // verifying Read of one resource share the result (an entry lives from
  // Read until Apply, or until a Diff that finds nothing to do).
  Result<Content> EditOnce(const Resource& want, const Content& before);
  void Forget(const Resource& want);
  // Keyed by the resource's address, and checked against its attributes:
  // a caller may reuse one address for another resource (keel resource
  // probing each ensure in turn).
  struct Memo {
    Map attrs;
    std::weak_ptr<const std::optional<std::string>> before;
    Result<Content> after;
  };
  std::mutex memo_mu_;
  std::map<const Resource*, Memo> memo_;
};

}  // namespace keel::edit
