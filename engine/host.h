// Host: every file and command access of keel, confined to the managed root.
// Providers never touch the file system or spawn processes any other way.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "engine/result.h"

namespace keel {

/// True when `text` is absolute and already normalised: no empty, "." or
/// ".." component and no trailing slash (except "/" itself).
bool IsNormalPath(std::string_view text);

/// A path inside the managed system ("/etc/default/grub"): absolute and
/// normalised (no "." / ".." / "//" components, no trailing slash except "/").
/// Only a Host maps it to a real place.
class HostPath {
 public:
  HostPath() : p_("/") {}
  /// Error when `text` is not absolute. ".." is clamped at "/".
  static Result<HostPath> Parse(std::string_view text);
  const std::string& str() const { return p_; }
  bool IsRoot() const { return p_ == "/"; }
  /// "/" for "/" and for top-level entries.
  HostPath Parent() const;
  std::string Basename() const;
  /// Appends a relative path (normalised, clamped at "/").
  HostPath Join(std::string_view rel) const;
  /// True when `other` lies strictly below this directory.
  bool IsAncestorOf(const HostPath& other) const;
  bool operator==(const HostPath& o) const { return p_ == o.p_; }
  bool operator<(const HostPath& o) const { return p_ < o.p_; }

 private:
  explicit HostPath(std::string p) : p_(std::move(p)) {}
  std::string p_;
};

enum class FileType { kNone, kFile, kDirectory, kSymlink, kOther };

struct FileInfo {
  FileType type = FileType::kNone;  // kNone: nothing at the path
  uint32_t mode = 0;                // permission bits only (07777)
  uint32_t uid = 0;
  uint32_t gid = 0;
  uint64_t size = 0;
  std::string link_target;  // for kSymlink (from Lstat)
  bool exists() const { return type != FileType::kNone; }
};

/// What a write sets. Unset fields: a new file gets 0644 root:root, a
/// replaced file keeps its current mode and owner.
struct FileAttrs {
  std::optional<uint32_t> mode;
  std::optional<uint32_t> uid;
  std::optional<uint32_t> gid;
  bool backup = true;  // save replaced/removed content in the backup store
};

struct Command {
  std::vector<std::string> argv;           // run without a shell when `shell` is empty
  std::string shell;                       // non-empty: run `/bin/sh -c shell`
  std::map<std::string, std::string> env;  // added to a minimal PATH/LANG environment
  std::string cwd;                         // inside the root; "" = "/"
  int timeout_s = 300;                     // 0 = none; on expiry the process group is killed
  bool chroot = true;                      // under --root: run chrooted into the root;
                                           // false: run on the host with KEEL_ROOT set
  std::string stdin_data;
  /// A read-only query (iptables-save, dpkg-query -W, auditctl -l, an exec's
  /// unless/onlyif guard): the plan overlay runs only commands marked so and
  /// answers every other one "not run: dry run" without running it.
  bool query = false;
  /// Printable form for messages ("/bin/sh -c '...'" or the argv joined).
  std::string Display() const;
};

struct CommandResult {
  int exit_code = -1;  // -1 when killed by a signal or timed out
  bool timed_out = false;
  std::string out;  // stdout
  std::string err;  // stderr
  /// True when the command was not run: the plan overlay's answer to a
  /// command that is not a query (exit_code 0, err "not run: dry run").
  bool not_run = false;
};

/// Receives content that a write replaces or a removal deletes (SPEC 6).
class BackupSink {
 public:
  virtual ~BackupSink() = default;
  virtual Result<void> Save(const HostPath& path, std::string_view content) = 0;
};

class Host {
 public:
  virtual ~Host() = default;

  /// False for an image tree under --root: live halves (kernel, daemons,
  /// /proc/sys, iptables) are not touched then.
  virtual bool live() const = 0;
  /// The real directory of the root ("/" when live).
  virtual const std::string& root() const = 0;
  /// True for the plan overlay: writes land in memory only.
  virtual bool dry_run() const { return false; }

  /// Content of a regular file (following symlinks inside the root);
  /// nullopt when nothing exists at the path. Error when it is a directory
  /// or cannot be read.
  virtual Result<std::optional<std::string>> ReadFile(const HostPath& path) = 0;
  /// ReadFile as a shared, immutable text (nullptr when nothing exists at
  /// the path): the plan overlay hands out the text it holds without a
  /// copy (a large edited file is held once). Default: ReadFile.
  virtual Result<std::shared_ptr<const std::string>> ReadFileShared(const HostPath& path);
  /// Does not follow a final symlink. type kNone when absent.
  virtual Result<FileInfo> Lstat(const HostPath& path) = 0;
  /// Lstat, and when a regular file is at the path, its content too (set
  /// only then): what a provider that compares content needs, in one open
  /// of the file (the real Host: one confined open of the parent, one
  /// fstatat, one open, one fstat, one read). The default is Lstat + ReadFile.
  virtual Result<FileInfo> LstatRead(const HostPath& path, std::optional<std::string>& content);
  /// Follows symlinks (inside the root). type kNone when absent or dangling.
  virtual Result<FileInfo> Stat(const HostPath& path) = 0;
  /// Sorted entry names of a directory (no "." / ".."). Error when absent.
  virtual Result<std::vector<std::string>> ListDir(const HostPath& path) = 0;

  /// Atomic replace (temp file in the same directory with the final mode and
  /// owner, fsync, rename, fsync of the directory). The parent must exist.
  virtual Result<void> WriteFileAtomic(const HostPath& path, std::string_view data,
                                       const FileAttrs& attrs) = 0;
  /// WriteFileAtomic of a shared, immutable text: the plan overlay keeps
  /// `data` itself instead of a copy. Default: WriteFileAtomic(*data).
  virtual Result<void> WriteFileShared(const HostPath& path,
                                       std::shared_ptr<const std::string> data,
                                       const FileAttrs& attrs);
  /// Several WriteFileAtomic at once, paying for durability once per batch:
  /// every temp file written, then all synced together, then the renames,
  /// then one fsync per directory. Each write succeeds or fails on its own
  /// (one result per write, in order); a failed one leaves its old file.
  /// The default writes them one by one.
  struct Write {
    HostPath path;
    std::string data;
    FileAttrs attrs;
    /// Earlier writes of the same batch (indices) this one must follow:
    /// when one of them failed, this one is not written either.
    std::vector<size_t> after;
  };
  /// The error of a write not done because write `k` of its batch, which it
  /// must follow, failed (nullopt: none did).
  static std::optional<Error> FailedBefore(std::span<const Write> writes, size_t k,
                                           std::span<const Result<void>> out);
  virtual std::vector<Result<void>> WriteFilesAtomic(std::span<const Write> writes);
  /// Creates one directory (mode default 0755); ok when it already is one.
  virtual Result<void> MakeDir(const HostPath& path, const FileAttrs& attrs) = 0;
  /// Creates or atomically replaces a symlink at `path` pointing at `target`.
  virtual Result<void> Symlink(const HostPath& path, const std::string& target) = 0;
  /// Removes a file, link or (with recursive) a directory tree; ok when absent.
  virtual Result<void> Remove(const HostPath& path, bool recursive, bool backup = true) = 0;
  /// chmod/chown of what is at the path, not following a final symlink.
  virtual Result<void> SetAttrs(const HostPath& path, const FileAttrs& attrs) = 0;

  /// Runs a command (chrooted under --root unless cmd.chroot is false).
  /// A non-zero exit is NOT an error: it is in the result. Error only when
  /// the command cannot be started.
  virtual Result<CommandResult> Run(const Command& cmd) = 0;
};

/// Creates the missing parent directories of `path` with mode 0755,
/// returning those it created (outermost first). In a dry run the overlay
/// records them.
Result<std::vector<HostPath>> MakeParents(Host& host, const HostPath& path);

/// Resolves a user name (or a decimal uid) in the root's /etc/passwd.
Result<uint32_t> LookupUid(Host& host, std::string_view name);
/// Resolves a group name (or a decimal gid) in the root's /etc/group.
Result<uint32_t> LookupGid(Host& host, std::string_view name);

/// True when `cmd` names a program that exists in the root (absolute path,
/// or found in /usr/sbin:/usr/bin:/sbin:/bin of the root).
bool HasProgram(Host& host, std::string_view name);

}  // namespace keel
