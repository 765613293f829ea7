// The real Host (root-confined file access, chrooted commands) and the
// in-memory plan overlay.
#include "engine/host_real.h"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <mutex>
#include <set>

#include "engine/atomic_file.h"
#include "engine/fd.h"
#include "engine/root_resolver.h"

namespace keel {

namespace {

constexpr const char* kDefaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
constexpr size_t kOutputCap = 1 << 20;  // bytes of stdout / stderr kept (the last ones)

std::string Errno(int err) { return std::strerror(err); }

Error IoError(int err, const std::string& what) {
  return MakeError(ErrorCode::kIo, what + ": " + Errno(err));
}

FileType TypeOf(mode_t m) {
  if (S_ISREG(m)) return FileType::kFile;
  if (S_ISDIR(m)) return FileType::kDirectory;
  if (S_ISLNK(m)) return FileType::kSymlink;
  return FileType::kOther;
}

FileInfo InfoOf(const struct stat& st) {
  FileInfo info;
  info.type = TypeOf(st.st_mode);
  info.mode = st.st_mode & 07777;
  info.uid = st.st_uid;
  info.gid = st.st_gid;
  info.size = static_cast<uint64_t>(st.st_size);
  return info;
}

std::string TempName(const std::string& base) { return AtomicTempName(base); }

// Removes the temp files (".keel-<name>.<12 hex>") that a killed earlier
// run left in the directory `pfd`, except those `is_ours` claims (temp files
// of this run's writes in progress, --jobs).
template <typename IsOurs>
void RemoveStaleTemps(int pfd, IsOurs is_ours) {
  int dfd = ::openat(pfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0) return;
  DIR* d = ::fdopendir(dfd);
  if (d == nullptr) {
    ::close(dfd);
    return;
  }
  std::vector<std::string> stale;
  while (struct dirent* e = ::readdir(d)) {
    std::string_view n = e->d_name;
    if (!IsAtomicTempName(n)) continue;
    if (e->d_type == DT_DIR || is_ours(n)) continue;
    stale.emplace_back(n);
  }
  for (const auto& n : stale) ::unlinkat(::dirfd(d), n.c_str(), 0);
  ::closedir(d);
}

// Reads a whole open file (regular file: sized by fstat, then to EOF).
bool ReadAll(int fd, std::string& out, size_t size_hint) {
  out.clear();
  out.reserve(size_hint + 1);
  size_t chunk = 1 << 16;
  for (;;) {
    size_t old = out.size();
    // Read the fstat size (+1 to see EOF) without over-allocating: contents
    // are kept in reports and diffs, so a 64 KiB buffer per small file adds up.
    size_t want = old <= size_hint ? size_hint + 1 - old : std::max(chunk, out.capacity() - old);
    out.resize(old + want);
    ssize_t n = ::read(fd, out.data() + old, want);
    if (n < 0) {
      out.resize(old);
      if (errno == EINTR) continue;
      return false;
    }
    out.resize(old + static_cast<size_t>(n));
    if (n == 0) return true;
  }
}

// ---------------------------------------------------------------------------
// RealHost

class RealHost : public Host {
 public:
  RealHost(std::string root, Fd root_fd, BackupSink* backups, bool use_openat2)
      : root_(std::move(root)),
        root_fd_(std::move(root_fd)),
        resolver_(root_fd_.get(), use_openat2),
        backups_(backups) {}

  bool live() const override { return root_ == "/"; }
  const std::string& root() const override { return root_; }

  Result<std::optional<std::string>> ReadFile(const HostPath& path) override {
    int fd = Open(path, O_RDONLY | O_NOCTTY | O_NONBLOCK);
    if (fd == -ENOENT || fd == -ENOTDIR) return std::optional<std::string>();
    if (fd < 0) return IoError(-fd, "cannot read " + Where(path));
    Fd f(fd);
    struct stat st;
    if (::fstat(fd, &st) != 0) return IoError(errno, "cannot read " + Where(path));
    if (S_ISDIR(st.st_mode)) {
      return MakeError(ErrorCode::kIo, "cannot read " + Where(path) + ": is a directory");
    }
    if (!S_ISREG(st.st_mode)) {
      return MakeError(ErrorCode::kIo, "cannot read " + Where(path) + ": not a regular file");
    }
    ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) & ~O_NONBLOCK);
    std::string content;
    if (!ReadAll(fd, content, static_cast<size_t>(st.st_size))) {
      return IoError(errno, "cannot read " + Where(path));
    }
    return std::optional<std::string>(std::move(content));
  }

  Result<FileInfo> Lstat(const HostPath& path) override {
    if (path.IsRoot()) return StatFd(root_fd_.get(), path);
    int pfd = Open(path.Parent(), O_PATH | O_DIRECTORY);
    if (pfd == -ENOENT || pfd == -ENOTDIR) return FileInfo{};
    if (pfd < 0) return IoError(-pfd, "cannot stat " + Where(path));
    Fd parent(pfd);
    std::string base = path.Basename();
    struct stat st;
    if (::fstatat(pfd, base.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
      if (errno == ENOENT || errno == ENOTDIR) return FileInfo{};
      return IoError(errno, "cannot stat " + Where(path));
    }
    FileInfo info = InfoOf(st);
    if (info.type == FileType::kSymlink) {
      auto target = ReadLinkAt(pfd, base);
      if (!target.ok()) return target.error();
      info.link_target = *target;
    }
    return info;
  }

  Result<FileInfo> Stat(const HostPath& path) override {
    int fd = Open(path, O_PATH);
    // A loop resolves to nothing, like a dangling link.
    if (fd == -ENOENT || fd == -ENOTDIR || fd == -ELOOP) return FileInfo{};
    if (fd < 0) return IoError(-fd, "cannot stat " + Where(path));
    Fd f(fd);
    return StatFd(fd, path);
  }

  Result<std::vector<std::string>> ListDir(const HostPath& path) override {
    int fd = Open(path, O_RDONLY | O_DIRECTORY);
    if (fd == -ENOENT) {
      return MakeError(ErrorCode::kNotFound, "cannot list " + Where(path) + ": no such directory");
    }
    if (fd < 0) return IoError(-fd, "cannot list " + Where(path));
    DIR* d = ::fdopendir(fd);
    if (d == nullptr) {
      int err = errno;
      ::close(fd);
      return IoError(err, "cannot list " + Where(path));
    }
    std::vector<std::string> names;
    errno = 0;
    while (struct dirent* e = ::readdir(d)) {
      std::string n = e->d_name;
      if (n != "." && n != "..") names.push_back(std::move(n));
      errno = 0;
    }
    int err = errno;
    ::closedir(d);
    if (err != 0) return IoError(err, "cannot list " + Where(path));
    std::sort(names.begin(), names.end());
    return names;
  }

  Result<void> WriteFileAtomic(const HostPath& requested, std::string_view data,
                               const FileAttrs& attrs) override {
    auto resolved = ResolveFinalLinks(requested);
    if (!resolved.ok()) return resolved.error();
    const HostPath& path = *resolved;
    if (path.IsRoot()) return MakeError(ErrorCode::kInvalid, "cannot write " + Where(path));
    std::string what = "cannot write " + Where(path);
    int pfd = Open(path.Parent(), O_RDONLY | O_DIRECTORY);
    if (pfd == -ENOENT || pfd == -ENOTDIR) {
      return MakeError(ErrorCode::kNotFound,
                       what + ": parent directory " + path.Parent().str() + " does not exist");
    }
    if (pfd < 0) return IoError(-pfd, what);
    Fd parent(pfd);
    std::string base = path.Basename();

    struct stat old;
    bool exists = ::fstatat(pfd, base.c_str(), &old, AT_SYMLINK_NOFOLLOW) == 0;
    if (!exists && errno != ENOENT) return IoError(errno, what);
    if (exists && S_ISDIR(old.st_mode)) return MakeError(ErrorCode::kIo, what + ": is a directory");
    if (exists && S_ISLNK(old.st_mode)) {
      // A link that changed under us or a loop: refuse rather than guess.
      return MakeError(ErrorCode::kIo, what + ": unresolvable symlink");
    }
    bool old_regular = exists && S_ISREG(old.st_mode);

    if (old_regular && attrs.backup && backups_ != nullptr) {
      int ofd = ::openat(pfd, base.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
      if (ofd < 0) return IoError(errno, what + ": reading the old content");
      Fd of(ofd);
      std::string previous;
      if (!ReadAll(ofd, previous, static_cast<size_t>(old.st_size))) {
        return IoError(errno, what + ": reading the old content");
      }
      if (previous != data) {
        // Indexed under the managed path (what `keel restore` is given).
        auto saved = backups_->Save(requested, previous);
        if (!saved.ok()) {
          Error e = saved.error();
          return e.Context(what + ": backup failed");
        }
      }
    }

    uint32_t mode = attrs.mode ? *attrs.mode : (old_regular ? (old.st_mode & 07777) : 0644);
    uint32_t uid = attrs.uid ? *attrs.uid : (exists ? old.st_uid : 0);
    uint32_t gid = attrs.gid ? *attrs.gid : (exists ? old.st_gid : 0);

    AtomicWriteOptions opts{.mode = mode, .uid = uid, .gid = gid, .temp_name = TempName(base)};
    OwnTemp own(*this, opts.temp_name);
    auto written = AtomicWriteAt(pfd, base, data, opts, Where(path));
    if (!written.ok()) return written;
    SweepDirOnce(pfd);
    return {};
  }

  Result<void> MakeDir(const HostPath& path, const FileAttrs& attrs) override {
    if (path.IsRoot()) return {};
    std::string what = "cannot create directory " + Where(path);
    auto st = Stat(path);
    if (!st.ok()) return st.error();
    if (st->type == FileType::kDirectory) return {};
    int pfd = Open(path.Parent(), O_RDONLY | O_DIRECTORY);
    if (pfd == -ENOENT || pfd == -ENOTDIR) {
      return MakeError(ErrorCode::kNotFound,
                       what + ": parent directory " + path.Parent().str() + " does not exist");
    }
    if (pfd < 0) return IoError(-pfd, what);
    Fd parent(pfd);
    std::string base = path.Basename();
    uint32_t mode = attrs.mode ? *attrs.mode : 0755;
    if (::mkdirat(pfd, base.c_str(), 0700) != 0) {
      if (errno == EEXIST) {
        // Another resource (--jobs) may have just made the same directory.
        struct stat st2;
        if (::fstatat(pfd, base.c_str(), &st2, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st2.st_mode))
          return {};
        return MakeError(ErrorCode::kConflict, what + ": something else exists there");
      }
      return IoError(errno, what);
    }
    int dfd = ::openat(pfd, base.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (dfd < 0) return IoError(errno, what);
    Fd d(dfd);
    uint32_t uid = attrs.uid ? *attrs.uid : 0;
    uint32_t gid = attrs.gid ? *attrs.gid : 0;
    if (::fchown(dfd, uid, gid) != 0 && !(errno == EPERM && uid == ::geteuid())) {
      return IoError(errno, what + ": chown");
    }
    if (::fchmod(dfd, mode) != 0) return IoError(errno, what + ": chmod");
    ::fsync(pfd);
    return {};
  }

  Result<void> Symlink(const HostPath& path, const std::string& target) override {
    std::string what = "cannot create symlink " + Where(path);
    if (path.IsRoot()) return MakeError(ErrorCode::kInvalid, what);
    if (target.empty()) return MakeError(ErrorCode::kInvalid, what + ": empty target");
    int pfd = Open(path.Parent(), O_RDONLY | O_DIRECTORY);
    if (pfd == -ENOENT || pfd == -ENOTDIR) {
      return MakeError(ErrorCode::kNotFound,
                       what + ": parent directory " + path.Parent().str() + " does not exist");
    }
    if (pfd < 0) return IoError(-pfd, what);
    Fd parent(pfd);
    std::string base = path.Basename();
    struct stat old;
    if (::fstatat(pfd, base.c_str(), &old, AT_SYMLINK_NOFOLLOW) == 0) {
      if (S_ISDIR(old.st_mode)) return MakeError(ErrorCode::kConflict, what + ": is a directory");
      if (S_ISREG(old.st_mode) && backups_ != nullptr) {
        auto saved = SaveOld(pfd, base, path, old);
        if (!saved.ok()) return saved;
      }
    }
    std::string tmp = TempName(base);
    OwnTemp own(*this, tmp);
    if (::symlinkat(target.c_str(), pfd, tmp.c_str()) != 0) return IoError(errno, what);
    if (::renameat(pfd, tmp.c_str(), pfd, base.c_str()) != 0) {
      int err = errno;
      ::unlinkat(pfd, tmp.c_str(), 0);
      return IoError(err, what);
    }
    ::fsync(pfd);
    return {};
  }

  Result<void> Remove(const HostPath& path, bool recursive, bool backup) override {
    std::string what = "cannot remove " + Where(path);
    if (path.IsRoot()) return MakeError(ErrorCode::kInvalid, what + ": it is the root");
    int pfd = Open(path.Parent(), O_RDONLY | O_DIRECTORY);
    if (pfd == -ENOENT || pfd == -ENOTDIR) return {};
    if (pfd < 0) return IoError(-pfd, what);
    Fd parent(pfd);
    auto r = RemoveAt(pfd, path.Basename(), path, recursive, backup);
    if (r.ok()) ::fsync(pfd);
    return r;
  }

  Result<void> SetAttrs(const HostPath& path, const FileAttrs& attrs) override {
    std::string what = "cannot set attributes of " + Where(path);
    if (!attrs.mode && !attrs.uid && !attrs.gid) return {};
    Fd f;
    if (path.IsRoot()) {
      f.Reset(::openat(root_fd_.get(), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
      if (!f.valid()) return IoError(errno, what);
      return SetAttrsFd(f.get(), attrs, what);
    }
    int pfd = Open(path.Parent(), O_PATH | O_DIRECTORY);
    if (pfd == -ENOENT || pfd == -ENOTDIR) {
      return MakeError(ErrorCode::kNotFound, what + ": does not exist");
    }
    if (pfd < 0) return IoError(-pfd, what);
    Fd parent(pfd);
    std::string base = path.Basename();
    struct stat st;
    if (::fstatat(pfd, base.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
      if (errno == ENOENT) return MakeError(ErrorCode::kNotFound, what + ": does not exist");
      return IoError(errno, what);
    }
    if (S_ISLNK(st.st_mode)) {
      // chmod of a link is meaningless; lchown.
      if (attrs.uid || attrs.gid) {
        if (::fchownat(pfd, base.c_str(), attrs.uid ? *attrs.uid : static_cast<uid_t>(-1),
                       attrs.gid ? *attrs.gid : static_cast<gid_t>(-1), AT_SYMLINK_NOFOLLOW) != 0) {
          return IoError(errno, what);
        }
      }
      return {};
    }
    if (S_ISREG(st.st_mode) || S_ISDIR(st.st_mode)) {
      f.Reset(
          ::openat(pfd, base.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY));
      if (!f.valid()) return IoError(errno, what);
      return SetAttrsFd(f.get(), attrs, what);
    }
    if (attrs.uid || attrs.gid) {
      if (::fchownat(pfd, base.c_str(), attrs.uid ? *attrs.uid : static_cast<uid_t>(-1),
                     attrs.gid ? *attrs.gid : static_cast<gid_t>(-1), AT_SYMLINK_NOFOLLOW) != 0) {
        return IoError(errno, what);
      }
    }
    if (attrs.mode && ::fchmodat(pfd, base.c_str(), *attrs.mode, 0) != 0) {
      return IoError(errno, what);
    }
    return {};
  }

  Result<CommandResult> Run(const Command& cmd) override;

 private:
  std::string Where(const HostPath& p) const {
    return live() ? p.str() : root_ + (p.IsRoot() ? "" : p.str());
  }

  Result<FileInfo> StatFd(int fd, const HostPath& path) {
    struct stat st;
    if (::fstat(fd, &st) != 0) return IoError(errno, "cannot stat " + Where(path));
    return InfoOf(st);
  }

  // Opens `path` inside the root (following symlinks, confined). Returns the
  // fd or -errno.
  int Open(const HostPath& path, int flags) { return resolver_.Open(path.str(), flags); }

  // The real path (inside the root) of an open directory, via /proc.
  std::optional<HostPath> PathOfDir(int fd) {
    std::string link = "/proc/self/fd/" + std::to_string(fd);
    char buf[4096];
    ssize_t n = ::readlink(link.c_str(), buf, sizeof buf - 1);
    if (n <= 0) return std::nullopt;
    std::string real(buf, static_cast<size_t>(n));
    std::string prefix = live() ? "" : root_;
    if (real.compare(0, prefix.size(), prefix) != 0) return std::nullopt;
    std::string rest = real.substr(prefix.size());
    if (rest.empty()) rest = "/";
    if (rest[0] != '/') return std::nullopt;
    auto p = HostPath::Parse(rest);
    if (!p.ok()) return std::nullopt;
    return *p;
  }

  // Follows final symlinks of `path` (inside the root) to the path that a
  // write must replace: "/etc/hosts -> /srv/hosts" gives "/srv/hosts".
  Result<HostPath> ResolveFinalLinks(const HostPath& path) {
    HostPath cur = path;
    for (int i = 0; i <= kMaxSymlinks; ++i) {
      if (cur.IsRoot()) return cur;
      int pfd = Open(cur.Parent(), O_PATH | O_DIRECTORY);
      if (pfd < 0) return cur;  // the write reports the missing parent
      Fd parent(pfd);
      std::string base = cur.Basename();
      struct stat st;
      if (::fstatat(pfd, base.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISLNK(st.st_mode)) {
        // Canonical form of the parent (it may itself be reached through links).
        auto real_parent = PathOfDir(pfd);
        return real_parent ? real_parent->Join(base) : cur;
      }
      auto target = ReadLinkAt(pfd, base);
      if (!target.ok()) return target.error();
      if (!target->empty() && (*target)[0] == '/') {
        cur = *HostPath::Parse(*target);
      } else {
        auto real_parent = PathOfDir(pfd);
        cur = (real_parent ? *real_parent : cur.Parent()).Join(*target);
      }
    }
    return MakeError(ErrorCode::kIo, "cannot resolve " + Where(path) + ": too many symlinks");
  }

  Result<void> SaveOld(int pfd, const std::string& base, const HostPath& path,
                       const struct stat& st) {
    int ofd = ::openat(pfd, base.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
    if (ofd < 0) return IoError(errno, "backup of " + Where(path));
    Fd of(ofd);
    std::string previous;
    if (!ReadAll(ofd, previous, static_cast<size_t>(st.st_size))) {
      return IoError(errno, "backup of " + Where(path));
    }
    auto saved = backups_->Save(path, previous);
    if (!saved.ok()) {
      Error e = saved.error();
      return e.Context("backup of " + Where(path));
    }
    return {};
  }

  Result<void> RemoveAt(int pfd, const std::string& base, const HostPath& path, bool recursive,
                        bool backup) {
    std::string what = "cannot remove " + Where(path);
    struct stat st;
    if (::fstatat(pfd, base.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
      if (errno == ENOENT) return {};
      return IoError(errno, what);
    }
    if (S_ISDIR(st.st_mode)) {
      if (recursive) {
        int dfd = ::openat(pfd, base.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (dfd < 0) return IoError(errno, what);
        DIR* d = ::fdopendir(dfd);
        if (d == nullptr) {
          int err = errno;
          ::close(dfd);
          return IoError(err, what);
        }
        std::vector<std::string> names;
        while (struct dirent* e = ::readdir(d)) {
          std::string n = e->d_name;
          if (n != "." && n != "..") names.push_back(std::move(n));
        }
        for (const auto& n : names) {
          auto r = RemoveAt(::dirfd(d), n, path.Join(n), true, backup);
          if (!r.ok()) {
            ::closedir(d);
            return r;
          }
        }
        ::closedir(d);
      }
      if (::unlinkat(pfd, base.c_str(), AT_REMOVEDIR) != 0) return IoError(errno, what);
      return {};
    }
    if (S_ISREG(st.st_mode) && backup && backups_ != nullptr) {
      auto saved = SaveOld(pfd, base, path, st);
      if (!saved.ok()) return saved;
    }
    if (::unlinkat(pfd, base.c_str(), 0) != 0) return IoError(errno, what);
    return {};
  }

  Result<void> SetAttrsFd(int fd, const FileAttrs& attrs, const std::string& what) {
    if (attrs.uid || attrs.gid) {
      if (::fchown(fd, attrs.uid ? *attrs.uid : static_cast<uid_t>(-1),
                   attrs.gid ? *attrs.gid : static_cast<gid_t>(-1)) != 0) {
        return IoError(errno, what);
      }
    }
    if (attrs.mode && ::fchmod(fd, *attrs.mode) != 0) return IoError(errno, what);
    return {};
  }

  // Temp files of this run's writes in progress: a sweep never takes them.
  struct OwnTemp {
    OwnTemp(RealHost& h, const std::string& name) : host(h), name(name) {
      std::lock_guard<std::mutex> lock(host.temps_mu_);
      host.own_temps_.insert(name);
    }
    ~OwnTemp() {
      std::lock_guard<std::mutex> lock(host.temps_mu_);
      host.own_temps_.erase(name);
    }
    RealHost& host;
    std::string name;
  };

  // Sweeps a directory for a killed run's temp files once per run: a sweep
  // per write made writing N files into one directory O(N^2).
  void SweepDirOnce(int pfd) {
    struct stat st;
    if (::fstat(pfd, &st) != 0) return;
    {
      std::lock_guard<std::mutex> lock(temps_mu_);
      if (!swept_dirs_.emplace(st.st_dev, st.st_ino).second) return;
    }
    RemoveStaleTemps(pfd, [this](std::string_view n) {
      std::lock_guard<std::mutex> lock(temps_mu_);
      return own_temps_.count(std::string(n)) > 0;
    });
  }

  std::string root_;
  Fd root_fd_;
  RootResolver resolver_;
  BackupSink* backups_;
  std::mutex temps_mu_;
  std::set<std::string> own_temps_;
  std::set<std::pair<dev_t, ino_t>> swept_dirs_;
};

// ---------------------------------------------------------------------------
// Run

// Moves a descriptor to >= 10 (so dup2 onto 0..3 in the child never clobbers
// another pipe end) and marks it close-on-exec.
int HighFd(int fd) {
  if (fd >= 10) return fd;
  int h = ::fcntl(fd, F_DUPFD_CLOEXEC, 10);
  ::close(fd);
  return h;
}

bool MakePipe(int fds[2]) {
  if (::pipe2(fds, O_CLOEXEC) != 0) return false;
  fds[0] = HighFd(fds[0]);
  fds[1] = HighFd(fds[1]);
  return fds[0] >= 0 && fds[1] >= 0;
}

void Append(std::string& buf, const char* data, size_t n) {
  buf.append(data, n);
  if (buf.size() > 2 * kOutputCap) buf.erase(0, buf.size() - kOutputCap);
}

double Now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// Child-side failure report: stage and errno, written to the exec pipe.
struct ChildFailure {
  int stage;  // 1 chroot, 2 chdir, 3 exec, 4 setup
  int err;
};

[[noreturn]] void ChildFail(int fd, int stage, int err) {
  ChildFailure f{stage, err};
  ssize_t ignored = ::write(fd, &f, sizeof f);
  (void)ignored;
  ::_exit(127);
}

Result<CommandResult> RealHost::Run(const Command& cmd) {
  std::vector<std::string> argv;
  if (!cmd.shell.empty()) {
    argv = {"/bin/sh", "-c", cmd.shell};
  } else {
    argv = cmd.argv;
  }
  if (argv.empty() || argv[0].empty()) {
    return MakeError(ErrorCode::kInvalid, "cannot run an empty command");
  }
  const std::string& prog = argv[0];
  bool chrooted = !live() && cmd.chroot;

  // Environment.
  std::map<std::string, std::string> env = {{"PATH", kDefaultPath}, {"LANG", "C"}};
  if (!live() && !cmd.chroot) env["KEEL_ROOT"] = root_;
  for (const auto& [k, v] : cmd.env) env[k] = v;
  std::vector<std::string> env_strs;
  for (const auto& [k, v] : env) env_strs.push_back(k + "=" + v);

  // Candidate program paths (PATH search done here, not after fork).
  std::vector<std::string> candidates;
  if (prog.find('/') != std::string::npos) {
    candidates.push_back(prog);
  } else {
    std::string path_var = env["PATH"];
    size_t i = 0;
    while (i <= path_var.size()) {
      size_t j = path_var.find(':', i);
      if (j == std::string::npos) j = path_var.size();
      std::string dir = path_var.substr(i, j - i);
      if (dir.empty()) dir = ".";
      candidates.push_back(dir + "/" + prog);
      i = j + 1;
    }
  }
  auto cwd_path = HostPath::Parse(cmd.cwd.empty() ? "/" : cmd.cwd);
  if (!cwd_path.ok()) {
    return MakeError(ErrorCode::kInvalid, "cannot run '" + prog + "': working directory '" +
                                              cmd.cwd + "' is not absolute");
  }
  std::string workdir = cwd_path->str();
  Fd cwd_fd;  // without chroot under --root: the directory, resolved inside the root
  if (!live() && !chrooted) {
    int fd = Open(*cwd_path, O_PATH | O_DIRECTORY);
    if (fd < 0) {
      return IoError(-fd,
                     "cannot run '" + prog + "': cannot change directory to " + Where(*cwd_path));
    }
    cwd_fd.Reset(fd);
    workdir = Where(*cwd_path);
  }

  std::vector<char*> cargv;
  for (auto& a : argv) cargv.push_back(const_cast<char*>(a.c_str()));
  cargv.push_back(nullptr);
  std::vector<char*> cenv;
  for (auto& e : env_strs) cenv.push_back(const_cast<char*>(e.c_str()));
  cenv.push_back(nullptr);

  int in[2], out[2], err[2], exec_pipe[2];
  if (!MakePipe(in)) return IoError(errno, "cannot run '" + prog + "': pipe");
  Fd in_r(in[0]), in_w(in[1]);
  if (!MakePipe(out)) return IoError(errno, "cannot run '" + prog + "': pipe");
  Fd out_r(out[0]), out_w(out[1]);
  if (!MakePipe(err)) return IoError(errno, "cannot run '" + prog + "': pipe");
  Fd err_r(err[0]), err_w(err[1]);
  if (!MakePipe(exec_pipe)) return IoError(errno, "cannot run '" + prog + "': pipe");
  Fd ex_r(exec_pipe[0]), ex_w(exec_pipe[1]);

  const char* root_c = root_.c_str();
  const char* workdir_c = workdir.c_str();
  pid_t pid = ::fork();
  if (pid < 0) return IoError(errno, "cannot run '" + prog + "': fork");
  if (pid == 0) {
    // Child: only async-signal-safe calls from here.
    ::setpgid(0, 0);
    if (cwd_fd.valid() && ::fchdir(cwd_fd.get()) != 0) ChildFail(ex_w.get(), 2, errno);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    for (int s : {SIGPIPE, SIGINT, SIGTERM, SIGQUIT, SIGHUP, SIGCHLD}) ::signal(s, SIG_DFL);
    int ex = ex_w.get();
    if (::dup2(in_r.get(), 0) < 0 || ::dup2(out_w.get(), 1) < 0 || ::dup2(err_w.get(), 2) < 0) {
      ChildFail(ex, 4, errno);
    }
    if (::dup3(ex, 3, O_CLOEXEC) < 0) ChildFail(ex, 4, errno);
    ex = 3;
    ::syscall(SYS_close_range, 4U, ~0U, 0U);
    if (chrooted) {
      if (::chroot(root_c) != 0) ChildFail(ex, 1, errno);
    }
    if (!cwd_fd.valid() && ::chdir(workdir_c) != 0) ChildFail(ex, 2, errno);
    int last_err = ENOENT;
    for (const auto& c : candidates) {
      ::execve(c.c_str(), cargv.data(), cenv.data());
      if (errno != ENOENT && errno != ENOTDIR) last_err = errno;
      if (last_err == ENOENT && errno != ENOENT) last_err = errno;
    }
    ChildFail(ex, 3, last_err);
  }

  // Parent.
  in_r.Reset();
  out_w.Reset();
  err_w.Reset();
  ex_w.Reset();
  ChildFailure failure{0, 0};
  ssize_t got;
  do {
    got = ::read(ex_r.get(), &failure, sizeof failure);
  } while (got < 0 && errno == EINTR);
  if (got == static_cast<ssize_t>(sizeof failure)) {
    int status;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    std::string msg = "cannot run '" + prog + "'";
    if (failure.stage == 1) msg += ": chroot " + root_;
    if (failure.stage == 2) msg += ": cannot change directory to " + workdir;
    return MakeError(
        failure.stage == 3 && failure.err == ENOENT ? ErrorCode::kNotFound : ErrorCode::kIo,
        msg + ": " + Errno(failure.err));
  }
  ex_r.Reset();

  CommandResult result;
  size_t in_off = 0;
  if (cmd.stdin_data.empty()) in_w.Reset();
  for (Fd* f : {&in_w, &out_r, &err_r}) {
    if (f->valid()) ::fcntl(f->get(), F_SETFL, ::fcntl(f->get(), F_GETFL) | O_NONBLOCK);
  }

  // Writing to a pipe whose reader is gone must not kill keel: block
  // SIGPIPE in this thread while feeding stdin, and consume any pending one.
  sigset_t pipe_set, old_set;
  sigemptyset(&pipe_set);
  sigaddset(&pipe_set, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe_set, &old_set);

  double deadline = cmd.timeout_s > 0 ? Now() + cmd.timeout_s : 0;
  double kill_at = 0;  // after SIGTERM: when to send SIGKILL
  bool reaped = false;
  int status = 0;
  char buf[65536];
  auto drain = [&](Fd& f, std::string& sink) {
    for (;;) {
      ssize_t n = ::read(f.get(), buf, sizeof buf);
      if (n > 0) {
        Append(sink, buf, static_cast<size_t>(n));
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n == 0) f.Reset();
      return;
    }
  };

  while (!reaped) {
    struct pollfd pfds[3];
    int nfds = 0;
    Fd* owners[3];
    std::string* sinks[3];
    if (out_r.valid()) {
      pfds[nfds] = {out_r.get(), POLLIN, 0};
      owners[nfds] = &out_r;
      sinks[nfds++] = &result.out;
    }
    if (err_r.valid()) {
      pfds[nfds] = {err_r.get(), POLLIN, 0};
      owners[nfds] = &err_r;
      sinks[nfds++] = &result.err;
    }
    if (in_w.valid()) {
      pfds[nfds] = {in_w.get(), POLLOUT, 0};
      owners[nfds] = &in_w;
      sinks[nfds++] = nullptr;
    }
    int wait_ms = 100;
    double now = Now();
    if (deadline > 0 && !result.timed_out) {
      wait_ms = std::min(wait_ms, std::max(0, static_cast<int>((deadline - now) * 1000) + 1));
    }
    int pr = nfds > 0 ? ::poll(pfds, nfds, wait_ms) : ::poll(nullptr, 0, wait_ms);
    if (pr > 0) {
      for (int i = 0; i < nfds; ++i) {
        if (pfds[i].revents == 0) continue;
        if (sinks[i] != nullptr) {
          drain(*owners[i], *sinks[i]);
        } else if (pfds[i].revents & (POLLERR | POLLHUP)) {
          in_w.Reset();
        } else {
          ssize_t n =
              ::write(in_w.get(), cmd.stdin_data.data() + in_off, cmd.stdin_data.size() - in_off);
          if (n > 0) in_off += static_cast<size_t>(n);
          if ((n < 0 && errno != EAGAIN && errno != EINTR) || in_off >= cmd.stdin_data.size()) {
            in_w.Reset();
          }
        }
      }
    }
    pid_t w = ::waitpid(pid, &status, WNOHANG);
    if (w == pid) {
      reaped = true;
      break;
    }
    now = Now();
    if (deadline > 0 && !result.timed_out && now >= deadline) {
      result.timed_out = true;
      ::kill(-pid, SIGTERM);
      kill_at = now + 2.0;
    }
    if (kill_at > 0 && now >= kill_at) {
      ::kill(-pid, SIGKILL);
      kill_at = 0;
    }
  }
  // Whatever the main process wrote is in the pipes now; do not wait for
  // background children that inherited them.
  if (out_r.valid()) drain(out_r, result.out);
  if (err_r.valid()) drain(err_r, result.err);
  if (result.timed_out) ::kill(-pid, SIGKILL);  // stragglers of the group
  in_w.Reset();
  struct timespec zero = {0, 0};
  while (sigtimedwait(&pipe_set, nullptr, &zero) > 0) {
  }
  pthread_sigmask(SIG_SETMASK, &old_set, nullptr);

  if (result.out.size() > kOutputCap) result.out.erase(0, result.out.size() - kOutputCap);
  if (result.err.size() > kOutputCap) result.err.erase(0, result.err.size() - kOutputCap);
  if (result.timed_out) {
    result.exit_code = -1;
  } else if (WIFEXITED(status)) {
    result.exit_code = WEXITSTATUS(status);
  } else {
    result.exit_code = -1;
  }
  return result;
}

// ---------------------------------------------------------------------------
// OverlayHost: the plan's in-memory layer.

class OverlayHost : public Host {
 public:
  explicit OverlayHost(Host& base) : base_(base) {}

  bool live() const override { return base_.live(); }
  const std::string& root() const override { return base_.root(); }
  bool dry_run() const override { return true; }

  Result<std::optional<std::string>> ReadFile(const HostPath& path) override {
    std::lock_guard<std::recursive_mutex> lock(mu_);
    if (layer_.empty()) return base_.ReadFile(path);
    auto c = Canonical(path, true);
    if (!c.ok()) return c.error();
    auto it = layer_.find(c->str());
    if (it != layer_.end() && it->second.kind == Node::kFile) {
      return std::optional<std::string>(it->second.data);
    }
    auto info = RawLstat(*c);
    if (!info.ok()) return info.error();
    if (!info->exists() || info->type == FileType::kSymlink) return std::optional<std::string>();
    if (info->type == FileType::kDirectory) {
      return MakeError(ErrorCode::kIo, "cannot read " + path.str() + ": is a directory");
    }
    return base_.ReadFile(*c);
  }

  Result<FileInfo> Lstat(const HostPath& path) override {
    std::lock_guard<std::recursive_mutex> lock(mu_);
    if (layer_.empty()) return base_.Lstat(path);
    auto c = Canonical(path, false);
    if (!c.ok()) return c.error();
    return RawLstat(*c);
  }

  Result<FileInfo> Stat(const HostPath& path) override {
    std::lock_guard<std::recursive_mutex> lock(mu_);
    if (layer_.empty()) return base_.Stat(path);
    auto c = Canonical(path, true);
    if (!c.ok()) return FileInfo{};  // a loop: nothing usable there
    auto info = RawLstat(*c);
    if (info.ok() && info->type == FileType::kSymlink) return FileInfo{};
    return info;
  }

  Result<std::vector<std::string>> ListDir(const HostPath& path) override {
    std::lock_guard<std::recursive_mutex> lock(mu_);
    if (layer_.empty()) return base_.ListDir(path);
    auto c = Canonical(path, true);
    if (!c.ok()) return c.error();
    auto info = RawLstat(*c);
    if (!info.ok()) return info.error();
    if (info->type != FileType::kDirectory) {
      return MakeError(info->exists() ? ErrorCode::kIo : ErrorCode::kNotFound,
                       "cannot list " + path.str() + ": no such directory");
    }
    std::set<std::string> names;
    auto it = layer_.find(c->str());
    bool opaque = (it != layer_.end() && it->second.kind != Node::kAttrs) || Hidden(*c);
    if (!opaque) {
      auto base = base_.ListDir(*c);
      if (!base.ok()) return base.error();
      names.insert(base->begin(), base->end());
    }
    for (const auto& [p, node] : layer_) {
      auto hp = HostPath::Parse(p);
      if (!hp.ok() || hp->IsRoot() || !(hp->Parent() == *c)) continue;
      if (node.kind == Node::kRemoved) {
        names.erase(hp->Basename());
      } else {
        names.insert(hp->Basename());
      }
    }
    return std::vector<std::string>(names.begin(), names.end());
  }

  Result<void> WriteFileAtomic(const HostPath& path, std::string_view data,
                               const FileAttrs& attrs) override {
    std::lock_guard<std::recursive_mutex> lock(mu_);
    auto c = Canonical(path, true);
    if (!c.ok()) return c.error();
    if (c->IsRoot()) return MakeError(ErrorCode::kInvalid, "cannot write /");
    KEEL_TRY(RequireParentDir(*c, "cannot write " + c->str()));
    auto old = RawLstat(*c);
    if (!old.ok()) return old.error();
    if (old->type == FileType::kDirectory) {
      return MakeError(ErrorCode::kIo, "cannot write " + c->str() + ": is a directory");
    }
    bool was_file = old->type == FileType::kFile;
    Node n;
    n.kind = Node::kFile;
    n.data = std::string(data);
    n.info.type = FileType::kFile;
    n.info.mode = attrs.mode ? *attrs.mode : (was_file ? old->mode : 0644);
    n.info.uid = attrs.uid ? *attrs.uid : (old->exists() ? old->uid : 0);
    n.info.gid = attrs.gid ? *attrs.gid : (old->exists() ? old->gid : 0);
    n.info.size = data.size();
    Put(*c, std::move(n));
    return {};
  }

  Result<void> MakeDir(const HostPath& path, const FileAttrs& attrs) override {
    std::lock_guard<std::recursive_mutex> lock(mu_);
    auto c = Canonical(path, true);
    if (!c.ok()) return c.error();
    if (c->IsRoot()) return {};
    auto old = RawLstat(*c);
    if (!old.ok()) return old.error();
    if (old->type == FileType::kDirectory) return {};
    if (old->exists()) {
      return MakeError(ErrorCode::kConflict,
                       "cannot create directory " + c->str() + ": something else exists there");
    }
    KEEL_TRY(RequireParentDir(*c, "cannot create directory " + c->str()));
    Node n;
    n.kind = Node::kDir;
    n.info.type = FileType::kDirectory;
    n.info.mode = attrs.mode ? *attrs.mode : 0755;
    n.info.uid = attrs.uid ? *attrs.uid : 0;
    n.info.gid = attrs.gid ? *attrs.gid : 0;
    Put(*c, std::move(n));
    return {};
  }

  Result<void> Symlink(const HostPath& path, const std::string& target) override {
    std::lock_guard<std::recursive_mutex> lock(mu_);
    auto c = Canonical(path, false);
    if (!c.ok()) return c.error();
    if (c->IsRoot() || target.empty()) {
      return MakeError(ErrorCode::kInvalid, "cannot create symlink " + path.str());
    }
    KEEL_TRY(RequireParentDir(*c, "cannot create symlink " + c->str()));
    auto old = RawLstat(*c);
    if (!old.ok()) return old.error();
    if (old->type == FileType::kDirectory) {
      return MakeError(ErrorCode::kConflict,
                       "cannot create symlink " + c->str() + ": is a directory");
    }
    Node n;
    n.kind = Node::kSymlink;
    n.data = target;
    n.info.type = FileType::kSymlink;
    n.info.mode = 0777;
    n.info.size = target.size();
    n.info.link_target = target;
    Put(*c, std::move(n));
    return {};
  }

  Result<void> Remove(const HostPath& path, bool recursive, bool) override {
    std::lock_guard<std::recursive_mutex> lock(mu_);
    if (path.IsRoot()) return MakeError(ErrorCode::kInvalid, "cannot remove /");
    auto c = Canonical(path, false);
    if (!c.ok()) return c.error();
    auto old = RawLstat(*c);
    if (!old.ok()) return old.error();
    if (!old->exists()) return {};
    if (old->type == FileType::kDirectory && !recursive) {
      auto names = ListDir(*c);
      if (!names.ok()) return names.error();
      if (!names->empty()) {
        return MakeError(ErrorCode::kIo, "cannot remove " + c->str() + ": Directory not empty");
      }
    }
    Node n;
    n.kind = Node::kRemoved;
    Put(*c, std::move(n));
    return {};
  }

  Result<void> SetAttrs(const HostPath& path, const FileAttrs& attrs) override {
    std::lock_guard<std::recursive_mutex> lock(mu_);
    auto c = Canonical(path, false);
    if (!c.ok()) return c.error();
    auto old = RawLstat(*c);
    if (!old.ok()) return old.error();
    if (!old->exists()) {
      return MakeError(ErrorCode::kNotFound,
                       "cannot set attributes of " + c->str() + ": does not exist");
    }
    auto it = layer_.find(c->str());
    if (it != layer_.end() && it->second.kind != Node::kAttrs) {
      Node& n = it->second;
      if (attrs.mode && n.kind != Node::kSymlink) n.info.mode = *attrs.mode;
      if (attrs.uid) n.info.uid = *attrs.uid;
      if (attrs.gid) n.info.gid = *attrs.gid;
      return {};
    }
    Node& n = layer_[c->str()];
    n.kind = Node::kAttrs;
    if (attrs.mode && old->type != FileType::kSymlink) n.attrs.mode = attrs.mode;
    if (attrs.uid) n.attrs.uid = attrs.uid;
    if (attrs.gid) n.attrs.gid = attrs.gid;
    return {};
  }

  // Safe by construction: only read-only queries reach the real system; any
  // other command (a provider that forgot to check dry_run()) is answered
  // "not run" without running.
  Result<CommandResult> Run(const Command& cmd) override {
    if (cmd.query) return base_.Run(cmd);
    CommandResult r;
    r.exit_code = 0;
    r.not_run = true;
    r.err = "not run: dry run";
    return r;
  }

 private:
  struct Node {
    enum Kind { kFile, kDir, kSymlink, kRemoved, kAttrs } kind = kFile;
    std::string data;  // file content or link target
    FileInfo info;     // for kFile / kDir / kSymlink
    FileAttrs attrs;   // for kAttrs: overrides over the base entry
  };

  // Replaces the node at `p`; what the layer held below it is gone.
  void Put(const HostPath& p, Node n) {
    std::string prefix = p.IsRoot() ? "/" : p.str() + "/";
    for (auto it = layer_.lower_bound(prefix);
         it != layer_.end() && it->first.compare(0, prefix.size(), prefix) == 0;) {
      it = layer_.erase(it);
    }
    layer_[p.str()] = std::move(n);
  }

  // True when an ancestor of `p` was replaced in the layer (removed, a new
  // directory, a file, a link): the base has nothing visible below it.
  bool Hidden(const HostPath& p) const {
    for (HostPath a = p; !a.IsRoot();) {
      a = a.Parent();
      auto it = layer_.find(a.str());
      if (it != layer_.end() && it->second.kind != Node::kAttrs) return true;
    }
    return false;
  }

  // Lstat of a canonical path (no symlinks among its ancestors).
  Result<FileInfo> RawLstat(const HostPath& p) {
    auto it = layer_.find(p.str());
    if (it != layer_.end() && it->second.kind != Node::kAttrs) {
      if (it->second.kind == Node::kRemoved) return FileInfo{};
      return it->second.info;
    }
    if (Hidden(p)) return FileInfo{};
    auto info = base_.Lstat(p);
    if (!info.ok()) return info;
    if (it != layer_.end() && info->exists()) {
      const FileAttrs& a = it->second.attrs;
      if (a.mode) info->mode = *a.mode;
      if (a.uid) info->uid = *a.uid;
      if (a.gid) info->gid = *a.gid;
    }
    return info;
  }

  // Resolves symlinks (through the layer) component by component, like the
  // kernel inside the root: absolute targets restart at "/", ".." stops there.
  Result<HostPath> Canonical(const HostPath& path, bool follow_final) {
    std::deque<std::string> pending;
    for (auto& c : PathComponents(path.str())) pending.push_back(c);
    HostPath cur;
    int links = 0;
    while (!pending.empty()) {
      std::string comp = std::move(pending.front());
      pending.pop_front();
      if (comp == ".") continue;
      if (comp == "..") {
        cur = cur.Parent();
        continue;
      }
      HostPath next = cur.Join(comp);
      if (pending.empty() && !follow_final) {
        cur = next;
        break;
      }
      auto info = RawLstat(next);
      if (!info.ok()) return info.error();
      if (info->type != FileType::kSymlink) {
        cur = next;
        continue;
      }
      if (++links > kMaxSymlinks) {
        return MakeError(ErrorCode::kIo, "cannot resolve " + path.str() + ": too many symlinks");
      }
      const std::string& target = info->link_target;
      if (!target.empty() && target[0] == '/') cur = HostPath();
      auto tc = PathComponents(target);
      for (auto it = tc.rbegin(); it != tc.rend(); ++it) pending.push_front(*it);
    }
    return cur;
  }

  Result<void> RequireParentDir(const HostPath& c, const std::string& what) {
    auto parent = Stat(c.Parent());
    if (!parent.ok()) return parent.error();
    if (parent->type != FileType::kDirectory) {
      return MakeError(ErrorCode::kNotFound,
                       what + ": parent directory " + c.Parent().str() + " does not exist");
    }
    return {};
  }

  Host& base_;
  std::recursive_mutex mu_;  // --jobs: resources of a plan may run at once
  std::map<std::string, Node> layer_;
};

}  // namespace

Result<std::unique_ptr<Host>> OpenRealHost(const std::string& root_dir, BackupSink* backups) {
  if (root_dir.empty()) return MakeError(ErrorCode::kInvalid, "empty root directory");
  int fd = ::open(root_dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return IoError(errno, "cannot open root " + root_dir);
  Fd root_fd(fd);
  // The canonical real path of the root (so "/" and "/tmp/x/../y" compare right).
  char buf[4096];
  std::string link = "/proc/self/fd/" + std::to_string(fd);
  ssize_t n = ::readlink(link.c_str(), buf, sizeof buf - 1);
  std::string canonical;
  if (n > 0 && buf[0] == '/') {
    canonical.assign(buf, static_cast<size_t>(n));
  } else {
    char* rp = ::realpath(root_dir.c_str(), nullptr);
    if (rp == nullptr) return IoError(errno, "cannot open root " + root_dir);
    canonical = rp;
    std::free(rp);
  }
  bool use_openat2 = Openat2Wanted();
  return std::unique_ptr<Host>(
      std::make_unique<RealHost>(canonical, std::move(root_fd), backups, use_openat2));
}

std::unique_ptr<Host> MakeOverlayHost(Host& base) { return std::make_unique<OverlayHost>(base); }

}  // namespace keel
