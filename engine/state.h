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
  /// kConflict naming the holder's pid when held.
  Result<void> Lock(double timeout_s);
  void Unlock();

  /// Stores content under backup/<sha256> (0600, dir 0700) and appends an
  /// index line "time\tpath\tsha256".
  Result<void> Save(const HostPath& path, std::string_view content) override;
  Result<std::vector<BackupEntry>> Index() const;
  /// Content of a backup by sha; error when missing.
  Result<std::string> LoadBackup(const std::string& sha256) const;

  /// Owed refreshes (resource ids) kept from earlier runs.
  std::vector<std::string> OwedRefreshes() const;
  Result<void> SetOwedRefreshes(const std::vector<std::string>& ids);

  Result<void> WriteLastRun(const std::string& json);

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
  mutable std::mutex mu_;  // --jobs: backups are saved concurrently
  mutable Fd dir_fd_;
  mutable Fd backup_fd_;
  int lock_fd_ = -1;
};

}  // namespace keel
