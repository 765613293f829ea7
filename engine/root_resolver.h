// RootResolver: opens paths inside a directory fd as if it were "/" (SPEC 6
// root confinement). openat2(RESOLVE_IN_ROOT) when the kernel has it, else a
// component walk that re-roots absolute symlinks and clamps ".." at the root.
// Used by the real Host for managed paths and by StateDir for the default
// state dir <root>/var/lib/keel.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <string>
#include <string_view>
#include <vector>

#include "engine/result.h"

namespace keel {

/// Symlinks followed in one resolution before ELOOP.
inline constexpr int kMaxSymlinks = 40;

/// False when KEEL_NO_OPENAT2 is set to something other than "" or "0":
/// the walk is used even where openat2 exists (tests of the fallback).
bool Openat2Wanted();

/// Splits a path or link target into components ("" parts dropped, "." and
/// ".." kept).
std::vector<std::string> PathComponents(std::string_view s);

/// readlinkat of `name` in `dirfd`; error naming `name` and errno.
Result<std::string> ReadLinkAt(int dirfd, const std::string& name);

class RootResolver {
 public:
  /// `root_fd` (not owned, e.g. O_PATH|O_DIRECTORY) stays open while this
  /// is used. `use_openat2` false forces the walk.
  RootResolver(int root_fd, bool use_openat2) : root_fd_(root_fd), use_openat2_(use_openat2) {}

  int root_fd() const { return root_fd_; }

  /// Opens `rel` inside the root, following symlinks confined to it
  /// ("" / "." / "/" is the root itself; a leading "/" is ignored). O_CLOEXEC
  /// is added. Returns the fd, or -errno (-ENOENT when a component is
  /// missing, -ELOOP past kMaxSymlinks links). With O_CREAT the walk opens a
  /// missing final component.
  int Open(std::string_view rel, int flags) const;

  /// mkdir -p inside the root: each missing component is created with
  /// mkdirat() relative to its parent as resolved inside the root (so a
  /// symlink never leads the creation outside); the last component gets
  /// `mode`, missing parents 0755 (both past the umask). Returns an
  /// O_RDONLY|O_DIRECTORY fd of the directory, or -errno (-EEXIST when a
  /// component is something other than a directory, e.g. a link dangling
  /// inside the root; -ENOTDIR when it is a file).
  int MakeDirs(std::string_view rel, mode_t mode) const;

 private:
  int WalkOpen(std::string_view rel, int flags) const;

  int root_fd_;
  mutable std::atomic<bool> use_openat2_;
};

}  // namespace keel
