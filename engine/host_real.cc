// The real Host: root-confined file access (RootResolver), atomic writes
// (atomic_file), commands chrooted under --root (subprocess).
#include "engine/host_real.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <set>

#include "engine/atomic_file.h"
#include "engine/fd.h"
#include "engine/root_resolver.h"
#include "engine/subprocess.h"

namespace keel {

namespace {

// Descriptors for one batch of writes (WriteFilesAtomic): each write holds
// two (its temp file and its directory) until its rename, and a batch is
// synced with one syncfs per chunk, so the fewer chunks the better: at
// 1,000 new files, four chunks of 250 cost four journal commits (~30 ms
// each here) where one would do. When the soft limit is too low for the
// whole batch it is raised toward the hard limit for the batch and put
// back after; children started meanwhile get the limit keel started with
// (subprocess.cc).
class DescriptorsForBatch {
 public:
  explicit DescriptorsForBatch(size_t writes) {
    if (::getrlimit(RLIMIT_NOFILE, &old_) != 0) return;
    rlim_t soft = old_.rlim_cur;
    const rlim_t want = static_cast<rlim_t>(std::min(writes, kMaxChunk)) * 2 + kReserve;
    if (soft != RLIM_INFINITY && soft < want) {
      struct rlimit raised = old_;
      raised.rlim_cur = old_.rlim_max == RLIM_INFINITY ? want : std::min(want, old_.rlim_max);
      if (raised.rlim_cur > soft && ::setrlimit(RLIMIT_NOFILE, &raised) == 0) {
        raised_ = true;
        soft = raised.rlim_cur;
      }
    }
    if (soft == RLIM_INFINITY || soft >= kMaxChunk * 2 + kReserve)
      chunk_ = kMaxChunk;
    else if (soft >= kMinChunk * 2 + kReserve)
      chunk_ = static_cast<size_t>((soft - kReserve) / 2);
  }
  ~DescriptorsForBatch() {
    if (raised_) ::setrlimit(RLIMIT_NOFILE, &old_);
  }
  DescriptorsForBatch(const DescriptorsForBatch&) = delete;
  DescriptorsForBatch& operator=(const DescriptorsForBatch&) = delete;
  /// The most writes one chunk may hold.
  size_t MaxChunk() const { return chunk_; }

 private:
  static constexpr size_t kMaxChunk = 4096;
  static constexpr size_t kMinChunk = 16;
  static constexpr rlim_t kReserve = 256;  // the run's other descriptors, other jobs'
  struct rlimit old_ {};
  bool raised_ = false;
  size_t chunk_ = kMinChunk;
};

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

// Reads a whole open file (regular file: sized by fstat, then to EOF). For
// a regular file a short read is its end (POSIX: fewer bytes than asked only
// when fewer are left), so a file read whole takes one read(2).
bool ReadAll(int fd, std::string& out, size_t size_hint, bool regular = false) {
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
    if (n == 0 || (regular && static_cast<size_t>(n) < want)) return true;
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
    if (auto cached = CachedIdFile(path)) return std::optional<std::string>(std::move(*cached));
    const uint64_t gen = IdGen();
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
    // O_NONBLOCK (no hang on a FIFO at open) means nothing to a regular file.
    std::string content;
    if (!ReadAll(fd, content, static_cast<size_t>(st.st_size), true)) {
      return IoError(errno, "cannot read " + Where(path));
    }
    NoteRead(path, st);
    KeepIdFile(path, content, gen);
    return std::optional<std::string>(std::move(content));
  }

  Result<FileInfo> LstatRead(const HostPath& path, std::optional<std::string>& content) override {
    content.reset();
    if (path.IsRoot()) return Lstat(path);
    const uint64_t gen = IdGen();
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
      return info;
    }
    if (info.type != FileType::kFile) return info;
    // Only a regular file is opened (a device is never opened to be looked
    // at); the one component, O_NOFOLLOW, stays inside the confined parent.
    int fd = ::openat(pfd, base.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    if (fd < 0) {
      if (errno == ENOENT || errno == ELOOP) return Host::LstatRead(path, content);  // raced
      return IoError(errno, "cannot read " + Where(path));
    }
    Fd f(fd);
    struct stat now;
    if (::fstat(fd, &now) != 0) return IoError(errno, "cannot read " + Where(path));
    if (!S_ISREG(now.st_mode) || now.st_dev != st.st_dev || now.st_ino != st.st_ino) {
      f.Reset();
      return Host::LstatRead(path, content);  // replaced meanwhile: look again, slowly
    }
    std::string data;
    if (!ReadAll(fd, data, static_cast<size_t>(now.st_size), true)) {
      return IoError(errno, "cannot read " + Where(path));
    }
    NoteRead(path, now);
    KeepIdFile(path, data, gen);
    content = std::move(data);
    return InfoOf(now);
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
    PreparedWrite w;
    KEEL_TRY(PrepareWrite(requested, data, attrs, w));
    auto own = temps_.Own(w.opts.temp_name);
    auto written = AtomicWriteAt(w.parent.get(), w.base, data, w.opts, Where(w.path));
    ForgetRead(requested, w.now);
    ForgetIdFiles();
    if (!written.ok()) return written;
    temps_.SweepOnce(w.parent.get());
    return {};
  }

  std::vector<Result<void>> WriteFilesAtomic(std::span<const Write> writes) override {
    std::vector<Result<void>> out(writes.size());
    // In chunks that the descriptor limit allows (DescriptorsForBatch),
    // of even size, so that no small remainder misses the one-syncfs path
    // of a large batch (AtomicSyncAll, kSyncfsFrom).
    DescriptorsForBatch descriptors(writes.size());
    const size_t kMaxChunk = descriptors.MaxChunk();
    const size_t chunks = (writes.size() + kMaxChunk - 1) / kMaxChunk;
    const size_t chunk = chunks == 0 ? 1 : (writes.size() + chunks - 1) / chunks;
    for (size_t from = 0; from < writes.size(); from += chunk) {
      size_t to = std::min(writes.size(), from + chunk);
      std::vector<std::unique_ptr<PreparedWrite>> ws(to - from);
      std::vector<std::unique_ptr<TempSweeper::Claim>> claims;
      std::vector<StagedWrite*> staged;
      std::vector<size_t> staged_k;
      // 1. every temp file written (not synced yet)
      for (size_t k = from; k < to; ++k) {
        const Write& w = writes[k];
        auto pw = std::make_unique<PreparedWrite>();
        auto r = PrepareWrite(w.path, w.data, w.attrs, *pw);
        if (!r.ok()) {
          out[k] = r;
          continue;
        }
        claims.push_back(std::make_unique<TempSweeper::Claim>(temps_, pw->opts.temp_name));
        r = AtomicStageAt(pw->parent.get(), pw->base, w.data, pw->opts, Where(pw->path),
                          pw->staged);
        if (!r.ok()) {
          out[k] = r;
          ForgetRead(w.path, pw->now);
          continue;
        }
        staged.push_back(&pw->staged);
        staged_k.push_back(k);
        ws[k - from] = std::move(pw);
      }
      // 2. all synced together: the file system commits its journal for
      //    many files at once instead of once per file
      std::vector<Result<void>> synced = AtomicSyncAll(staged);
      // 3. the renames, in order; 4. one fsync per directory
      std::map<std::string, std::vector<size_t>> dirs;  // parent -> writes renamed into it
      for (size_t j = 0; j < staged_k.size(); ++j) {
        size_t k = staged_k[j];
        PreparedWrite& pw = *ws[k - from];
        if (auto failed = FailedBefore(writes, k, out)) {
          // A write it must follow failed (in order: every earlier one is
          // settled by now): its temp file goes, the old file stays.
          ::unlinkat(pw.staged.dirfd, pw.staged.tmp.c_str(), 0);
          out[k] = *failed;
        } else if (synced[j].ok()) {
          out[k] = AtomicCommitStaged(pw.staged, pw.opts);
          if (out[k].ok()) dirs[pw.path.Parent().str()].push_back(k);
        } else {
          out[k] = synced[j];
        }
        ForgetRead(writes[k].path, pw.now);
      }
      for (const auto& [dir, ks] : dirs) {
        // One fsync makes every rename into the directory durable. When it
        // fails, each file hears of it (tried again for each).
        PreparedWrite& first = *ws[ks[0] - from];
        auto r = AtomicSyncDir(first.parent.get(), Where(first.path));
        if (r.ok()) {
          temps_.SweepOnce(first.parent.get());
          continue;
        }
        out[ks[0]] = r;
        for (size_t j = 1; j < ks.size(); ++j) {
          PreparedWrite& pw = *ws[ks[j] - from];
          out[ks[j]] = AtomicSyncDir(pw.parent.get(), Where(pw.path));
        }
      }
      ForgetIdFiles();
    }
    return out;
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
    ForgetRead(path);
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
    std::string tmp = AtomicTempName(base);
    auto own = temps_.Own(tmp);
    if (::symlinkat(target.c_str(), pfd, tmp.c_str()) != 0) return IoError(errno, what);
    if (::renameat(pfd, tmp.c_str(), pfd, base.c_str()) != 0) {
      int err = errno;
      ::unlinkat(pfd, tmp.c_str(), 0);
      return IoError(err, what);
    }
    ::fsync(pfd);
    ForgetIdFiles();
    return {};
  }

  Result<void> Remove(const HostPath& path, bool recursive, bool backup) override {
    ForgetRead(path);
    std::string what = "cannot remove " + Where(path);
    if (path.IsRoot()) return MakeError(ErrorCode::kInvalid, what + ": it is the root");
    int pfd = Open(path.Parent(), O_RDONLY | O_DIRECTORY);
    if (pfd == -ENOENT || pfd == -ENOTDIR) return {};
    if (pfd < 0) return IoError(-pfd, what);
    Fd parent(pfd);
    auto r = RemoveAt(pfd, path.Basename(), path, recursive, backup);
    ForgetIdFiles();
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
  // Messages name the path inside the root (what the manifest says); the
  // root itself is named once, by the report (issue 11 item 10).
  static std::string Where(const HostPath& p) { return p.str(); }

  // What a write of one file needs, checked and gathered before its temp
  // file is written (WriteFileAtomic, WriteFilesAtomic).
  struct PreparedWrite {
    HostPath path;  // after final symlinks
    Fd parent;      // its directory
    std::string base;
    FileIdentity now;  // the file as found
    std::string previous;
    AtomicWriteOptions opts;
    StagedWrite staged;
  };

  Result<void> PrepareWrite(const HostPath& requested, std::string_view data,
                            const FileAttrs& attrs, PreparedWrite& w) {
    auto resolved = ResolveFinalLinks(requested);
    if (!resolved.ok()) return resolved.error();
    w.path = *resolved;
    const HostPath& path = w.path;
    if (path.IsRoot()) return MakeError(ErrorCode::kInvalid, "cannot write /");
    // The path written (after final links), as the plan overlay names it.
    std::string what =
        "cannot write " +
        (requested == path ? Where(path) : Where(requested) + " (-> " + Where(path) + ")");
    int pfd = Open(path.Parent(), O_RDONLY | O_DIRECTORY);
    if (pfd == -ENOENT || pfd == -ENOTDIR) {
      return MakeError(ErrorCode::kNotFound,
                       what + ": parent directory " + path.Parent().str() + " does not exist");
    }
    if (pfd < 0) return IoError(-pfd, what);
    w.parent.Reset(pfd);
    w.base = path.Basename();
    const std::string& base = w.base;

    struct stat old;
    bool exists = ::fstatat(pfd, base.c_str(), &old, AT_SYMLINK_NOFOLLOW) == 0;
    if (!exists && errno != ENOENT) return IoError(errno, what);
    if (exists && S_ISDIR(old.st_mode)) return MakeError(ErrorCode::kIo, what + ": is a directory");
    if (exists && S_ISLNK(old.st_mode)) {
      // A link that changed under us or a loop: refuse rather than guess.
      return MakeError(ErrorCode::kIo, what + ": unresolvable symlink");
    }
    bool old_regular = exists && S_ISREG(old.st_mode);
    // The file as found now: it must still be what a provider read in this
    // run, and still be this just before the rename (AtomicCommitStaged).
    w.now = exists ? IdentityOf(old) : FileIdentity{};
    if (auto seen = LastRead(requested); seen && *seen != w.now) {
      return MakeError(ErrorCode::kConflict,
                       what +
                           ": it changed after keel read it in this run (another program "
                           "wrote it); not replaced, the next run will look again");
    }

    bool save = false;
    if (old_regular && attrs.backup && backups_ != nullptr) {
      int ofd = ::openat(pfd, base.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
      if (ofd < 0) return IoError(errno, what + ": reading the old content");
      Fd of(ofd);
      if (!ReadAll(ofd, w.previous, static_cast<size_t>(old.st_size), true)) {
        return IoError(errno, what + ": reading the old content");
      }
      save = w.previous != data;
    }

    uint32_t mode = attrs.mode ? *attrs.mode : (old_regular ? (old.st_mode & 07777) : 0644);
    uint32_t uid = attrs.uid ? *attrs.uid : (exists ? old.st_uid : 0);
    uint32_t gid = attrs.gid ? *attrs.gid : (exists ? old.st_gid : 0);

    w.opts = AtomicWriteOptions{
        .mode = mode, .uid = uid, .gid = gid, .temp_name = AtomicTempName(base), .expect = w.now};
    if (save) {
      // Taken once the new content is safely in its temp file: a write that
      // fails first (a full disk) leaves no backup or index line behind.
      // `w` stays where it is until the write is done.
      PreparedWrite* pw = &w;
      HostPath managed = requested;
      w.opts.before_rename = [this, pw, managed, what]() -> Result<void> {
        // Indexed under the managed path (what `keel restore` is given).
        auto saved = backups_->Save(managed, pw->previous);
        if (!saved.ok()) {
          Error e = saved.error();
          return e.Context(what + ": backup failed");
        }
        return {};
      };
    }
    return {};
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

  std::string root_;
  Fd root_fd_;
  RootResolver resolver_;
  // What ReadFile saw of each path (identity), so that a write of a file
  // changed by someone else since keel read it fails instead of losing
  // their change. Forgotten when keel writes or removes the path.
  void NoteRead(const HostPath& path, const struct stat& st) {
    std::lock_guard<std::mutex> lock(reads_mu_);
    reads_[path.str()] = IdentityOf(st);
  }
  std::optional<FileIdentity> LastRead(const HostPath& path) {
    std::lock_guard<std::mutex> lock(reads_mu_);
    auto it = reads_.find(path.str());
    if (it == reads_.end()) return std::nullopt;
    return it->second;
  }
  // Also forgets the other names (links) read of the inode keel replaced.
  void ForgetRead(const HostPath& path, const FileIdentity& replaced = {}) {
    std::lock_guard<std::mutex> lock(reads_mu_);
    reads_.erase(path.str());
    if (!replaced.exists) return;
    for (auto it = reads_.begin(); it != reads_.end();) {
      if (it->second.dev == replaced.dev && it->second.ino == replaced.ino)
        it = reads_.erase(it);
      else
        ++it;
    }
  }

  // /etc/passwd and /etc/group as last read: every file resource names the
  // owner and group it found, and reading both per file tripled the system
  // calls of a no-op run. Read once; forgotten whenever keel changes the
  // root (a write, link, removal or non-query command). A read that began
  // before such a change is not kept (gen).
  static bool IsIdFile(const HostPath& p) {
    return p.str() == "/etc/passwd" || p.str() == "/etc/group";
  }
  std::optional<std::string> CachedIdFile(const HostPath& p) {
    if (!IsIdFile(p)) return std::nullopt;
    std::lock_guard<std::mutex> lock(ids_mu_);
    auto it = ids_.find(p.str());
    if (it == ids_.end()) return std::nullopt;
    return it->second;
  }
  uint64_t IdGen() {
    std::lock_guard<std::mutex> lock(ids_mu_);
    return ids_gen_;
  }
  void KeepIdFile(const HostPath& p, const std::string& content, uint64_t gen) {
    if (!IsIdFile(p)) return;
    std::lock_guard<std::mutex> lock(ids_mu_);
    if (gen == ids_gen_) ids_[p.str()] = content;
  }
  void ForgetIdFiles() {
    std::lock_guard<std::mutex> lock(ids_mu_);
    ++ids_gen_;
    ids_.clear();
  }
  std::mutex ids_mu_;
  uint64_t ids_gen_ = 0;
  std::map<std::string, std::string> ids_;

  BackupSink* backups_;
  TempSweeper temps_;  // a killed run's temp files, swept once per directory
  std::mutex reads_mu_;
  std::map<std::string, FileIdentity> reads_;
};

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
  std::map<std::string, std::string> env = {{"PATH", kDefaultCommandPath}, {"LANG", "C"}};
  if (!live() && !cmd.chroot) env["KEEL_ROOT"] = root_;
  for (const auto& [k, v] : cmd.env) env[k] = v;

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
    cwd_fd.Reset(fd);  // the child fchdirs to it; workdir only names it in errors
  }

  ProcessSpec spec;
  spec.argv = std::move(argv);
  spec.env = std::move(env);
  if (chrooted) spec.chroot_dir = root_;
  spec.cwd_fd = cwd_fd.get();
  spec.workdir = workdir;
  spec.stdin_data = cmd.stdin_data;
  spec.timeout_s = cmd.timeout_s;
  auto result = RunProcess(spec);
  if (!cmd.query) ForgetIdFiles();  // it may have added a user
  return result;
}

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

}  // namespace keel
