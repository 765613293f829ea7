// The state dir (SPEC 6): lock, backup store and index, owed refreshes,
// last_run.json. Lives outside the Host: it is keel's, not the root's.
//
// One directory fd: the directory is opened (or created) once, and every
// file in it is reached relative to that fd (openat/renameat/mkdirat with
// O_NOFOLLOW), never through a joined string path. The default state dir
// <root>/var/lib/keel is resolved inside the root like a managed path
// (RootResolver), so a link such as <root>/var -> /elsewhere never makes keel
// write outside the root.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "engine/digest.h"  // Sha256Hex, for callers of the backup store
#include "engine/fd.h"
#include "engine/host.h"
#include "engine/result.h"
#include "engine/root_resolver.h"

namespace keel {

struct BackupEntry {
  std::string time;  // RFC 3339 UTC
  std::string path;  // HostPath text
  std::string sha256;
  /// Who replaced the content: "run <started_at> <pid>" for an apply,
  /// "restore" for `keel restore`; "" in index lines of older keels.
  std::string origin;
};

class StateDir : public BackupSink {
 public:
  /// Uses the plain path `dir` (--state-dir DIR: the caller's choice, its
  /// symlinks followed), created 0700 on first write, never in a dry run.
  explicit StateDir(std::string dir);
  /// The default state dir <root_dir>/var/lib/keel, confined to the root:
  /// opened and created (component by component, parents 0755, the last
  /// 0700) with openat2 RESOLVE_IN_ROOT or the walk (KEEL_NO_OPENAT2=1).
  /// Error when the root cannot be opened.
  static Result<std::unique_ptr<StateDir>> InRoot(const std::string& root_dir);
  /// `state_dir_flag` when non-empty (a plain path), else InRoot(root_dir).
  static Result<std::unique_ptr<StateDir>> Open(const std::string& root_dir,
                                                const std::string& state_dir_flag);
  ~StateDir() override;
  /// For messages: the plain path, or <root>/var/lib/keel.
  const std::string& dir() const { return dir_; }

  /// Takes the exclusive run lock, waiting up to timeout_s seconds. Error
  /// kConflict naming the holder's pid when held. A stop request
  /// (SIGTERM/SIGINT) ends the wait with kConflict too.
  Result<void> Lock(double timeout_s);
  void Unlock();

  /// With the lock held: removes the temp files killed runs left in the
  /// state dir and backup/ (AtomicTempName names). Returns how many.
  int SweepTemps();

  /// Reserves `bytes` in the state dir's file system (a file `.reserve`,
  /// fallocated) so that the owed refreshes and the report can still be
  /// written when backups or others fill the disk: a write of them that
  /// fails with ENOSPC/EDQUOT releases the reserve and is tried once more.
  /// Error when the space is not there (the run must then change nothing).
  Result<void> Reserve(uint64_t bytes);
  /// Removes the reserve (end of the run).
  void ReleaseReserve();

  /// Labels the index lines of later Save calls (BackupEntry::origin).
  void SetBackupOrigin(std::string origin) { origin_ = std::move(origin); }

  /// Stores content under backup/<sha256> (0600, dir 0700) and appends an
  /// index line "time\tpath\tsha256\torigin".
  Result<void> Save(const HostPath& path, std::string_view content) override;
  Result<std::vector<BackupEntry>> Index() const;
  /// Content of a backup by sha; error when missing.
  Result<std::string> LoadBackup(const std::string& sha256) const;

  /// Owed refreshes (resource ids) kept from earlier runs; empty when none.
  /// Error when the file exists but cannot be read (a run must not go on
  /// as if nothing were owed).
  Result<std::vector<std::string>> OwedRefreshes() const;
  Result<void> SetOwedRefreshes(const std::vector<std::string>& ids);

  /// Replaces last_run.json (uses the reserve on ENOSPC). `durable`: fsync
  /// of the file and the directory; a run that changed nothing (and so
  /// never marked itself started) writes its report atomically but without
  /// waiting for the disk: a kill leaves the old or the new report, a
  /// power loss may keep the old one.
  Result<void> WriteLastRun(const std::string& json, bool durable = true);
  /// At the start of a real run, before anything changes: replaces
  /// last_run.json by `marker` (a run in progress), or removes it when that
  /// cannot be written, so an earlier run's report never passes for this
  /// one's. Error when neither works.
  Result<void> MarkRunStarted(const std::string& marker);
  /// Removes last_run.json; ok when absent.
  Result<void> RemoveLastRun();

  /// The real directory the (confined) state dir resolved to, created when
  /// missing: for tools that need a plain path (libgit2's checkout under
  /// <state-dir>/repo). Read from the opened fd (/proc/self/fd), so a link
  /// such as <root>/var -> /elsewhere never leads it outside the root.
  Result<std::string> RealPath() const;

 private:
  StateDir(std::string display, Fd root_fd, std::string rel);
  // The state dir's fd (borrowed), opened once; with `create` made first
  // when missing. -1 when absent and !create.
  Result<int> DirFd(bool create) const;
  // The same for backup/ inside it (created 0700, never followed if a link).
  Result<int> BackupFd(bool create) const;

  std::string dir_;  // display (and, without root_fd_, the plain path)
  Fd root_fd_;       // valid: the state dir is rel_ inside this root
  std::optional<RootResolver> resolver_;
  std::string rel_;
  std::string root_display_;
  // Writes `name` atomically; on ENOSPC/EDQUOT releases the reserve and
  // tries once more.
  Result<void> WriteStateFile(const std::string& name, std::string_view data, bool sync = true);
  std::string origin_;
  bool reserved_ = false;
  mutable std::mutex mu_;  // --jobs: backups are saved concurrently
  mutable Fd dir_fd_;
  mutable Fd backup_fd_;
  int lock_fd_ = -1;
};

}  // namespace keel
