// One atomic file write for all of keel (SPEC 6): a temp file in the same
// directory with the final mode and owner, fsync, renameat over the target,
// fsync of the directory. A kill or a failure at any step leaves the old
// file (or nothing) at the target, never a mix; a failed write removes its
// temp file. Used by the real Host (managed files), StateDir (keel's state)
// and the config repo.
#pragma once

#include <sys/stat.h>
#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/fd.h"
#include "engine/result.h"

namespace keel {

/// What a file was when keel looked at it: absent, or this inode with this
/// size and mtime. A write that expects it fails when the file is something
/// else just before the rename (someone edited it meanwhile).
struct FileIdentity {
  bool exists = false;
  dev_t dev = 0;
  ino_t ino = 0;
  off_t size = 0;
  int64_t mtime_ns = 0;
  bool operator==(const FileIdentity&) const = default;
};
/// The identity of a stat result.
FileIdentity IdentityOf(const struct stat& st);
/// The identity of `name` in `dirfd` (not following a final symlink);
/// exists false when absent or unreadable.
FileIdentity IdentityAt(int dirfd, const std::string& name);

struct AtomicWriteOptions {
  uint32_t mode = 0644;  // final permission bits (07777), set past the umask
  /// fchown'ed when set (owner before mode: chown clears set-id bits). An
  /// EPERM is tolerated when the wanted owner is the caller's own.
  std::optional<uint32_t> uid, gid;
  /// Temp file name in the directory; "" = AtomicTempName(name).
  std::string temp_name;
  /// When set: the target must still be this just before the rename, else
  /// the write fails with kConflict ("... changed while keel was writing
  /// it ...") and the old file stays.
  std::optional<FileIdentity> expect;
  /// Runs after the temp file is written and synced, before the identity
  /// check and the rename: the backup of the old content is taken there, so
  /// a write that fails earlier (a full disk) leaves no backup behind. Its
  /// error fails the write (the temp file removed).
  std::function<Result<void>()> before_rename;
  /// false: no fsync of the file nor of the directory (still atomic against
  /// a kill: old or new content, never a mix; a power loss may keep the old
  /// file). Only for keel's own reports of runs that changed nothing.
  bool sync = true;
};

/// ".keel-<name>.<12 hex>": the temp file name of a write of `name` (kept
/// under NAME_MAX).
std::string AtomicTempName(std::string_view name);
/// True for names AtomicTempName makes (a killed run's leftovers).
bool IsAtomicTempName(std::string_view name);

/// Atomically replaces `name` in the directory `dirfd` with `data`. `name`
/// is a single component; the temp file is created O_EXCL|O_NOFOLLOW and
/// renamed with renameat, so nothing outside `dirfd` is followed. `display`
/// names the target in errors: "cannot write <display>: <step>: <strerror>"
/// (steps: "creating a temporary file", "write", "chown", "chmod", "fsync",
/// "close", "rename", "fsync of the directory"). On failure before the
/// rename the old file is intact and the temp file removed. EPERM (on the
/// temp file or the rename) names the likely cause: an immutable or
/// append-only attribute (chattr +i / +a), checked on the file and directory.
Result<void> AtomicWriteAt(int dirfd, const std::string& name, std::string_view data,
                           const AtomicWriteOptions& opts, const std::string& display);

/// AtomicWriteAt in steps, so that a batch of writes pays for durability
/// once (the real Host's WriteFilesAtomic): stage every temp file, sync them
/// all together, commit (rename) each, then sync each directory once. The
/// errors are AtomicWriteAt's; a failed step removes the temp file.
struct StagedWrite {
  int dirfd = -1;       // not owned
  std::string name;     // the target, in dirfd
  std::string tmp;      // the temp file, in dirfd
  std::string display;  // the target in messages
  Fd fd;                // the temp file, written, not yet synced
};
/// Creates and writes the temp file (data, owner, mode); not synced.
Result<void> AtomicStageAt(int dirfd, const std::string& name, std::string_view data,
                           const AtomicWriteOptions& opts, const std::string& display,
                           StagedWrite& staged);
/// fsync and close of the staged temp file (thread-safe across writes).
Result<void> AtomicSyncStaged(StagedWrite& staged);
/// AtomicSyncStaged of each, issued together (several threads: the file
/// system then commits its journal once for many files, not once per
/// file); one result per write. From kSyncfsFrom writes on: one syncfs per
/// file system instead (each file fsynced on its own where it fails).
/// Serial and per file while a fault hook is installed, so that tests count
/// steps in order.
constexpr size_t kSyncfsFrom = 64;
std::vector<Result<void>> AtomicSyncAll(std::span<StagedWrite* const> staged);
/// before_rename, the identity check (opts.expect) and the rename.
Result<void> AtomicCommitStaged(StagedWrite& staged, const AtomicWriteOptions& opts);
/// fsync of a directory after renames into it ("fsync of the directory").
Result<void> AtomicSyncDir(int dirfd, const std::string& display);

/// The same for a plain path (the parent is opened as given, following
/// symlinks: for paths the caller chose, like --report FILE). The parent
/// must exist.
Result<void> AtomicWriteFile(const std::string& path, std::string_view data,
                             const AtomicWriteOptions& opts = {});

/// Removes the temp files a killed earlier run left (IsAtomicTempName), each
/// directory at most once per sweeper (a sweep per write made writing N files
/// into one directory O(N^2)), sparing the temp files of this run's writes
/// in progress (--jobs). Thread-safe.
class TempSweeper {
 public:
  /// Marks `name` as a write in progress until the returned guard goes.
  class Claim {
   public:
    Claim(TempSweeper& s, std::string name);
    ~Claim();
    Claim(const Claim&) = delete;
    Claim& operator=(const Claim&) = delete;

   private:
    TempSweeper& s_;
    std::string name_;
  };
  Claim Own(std::string name) { return Claim(*this, std::move(name)); }
  /// Sweeps the directory `dirfd` unless this sweeper already did.
  void SweepOnce(int dirfd);

 private:
  std::mutex mu_;
  std::set<std::string> own_;
  std::set<std::pair<dev_t, ino_t>> swept_;
};

/// mkdirat(dirfd, name) with `mode` set past the umask; ok when a directory
/// (not a symlink) is already there. Error "cannot create directory
/// <display>: <strerror>".
Result<void> MakeDirAt(int dirfd, const std::string& name, mode_t mode, const std::string& display);

// ---------------------------------------------------------------------------
// Test-only fault injection.
//
// The steps above are each preceded by a call of the installed hook (none in
// production). When it returns an errno (non-zero) that step fails with it
// and its system call is not made; 0 lets the step run. A test counts calls
// to fail the Nth fsync or rename:
//
//   static int n = 0;
//   SetAtomicFaultHook([](FaultStep s, const std::string&) {
//     return s == FaultStep::kRename && ++n == 2 ? EIO : 0; });
//   ...
//   SetAtomicFaultHook(nullptr);
//
// `path` is the display name of the target (for kMkdir, of the directory).
// The hook is process-wide: install it only in single-threaded tests.

enum class FaultStep { kWrite, kFsync, kRename, kDirFsync, kMkdir };
using FaultHook = int (*)(FaultStep step, const std::string& path);
/// Installs `hook` (nullptr removes it); returns the previous one.
FaultHook SetAtomicFaultHook(FaultHook hook);

}  // namespace keel
