// The one atomic write: temp in the same directory, fsync, rename, fsync dir.
#include "engine/atomic_file.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <random>
#include <thread>
#include <vector>

#include "engine/fd.h"

namespace keel {

namespace {

std::atomic<FaultHook> g_fault_hook{nullptr};

// 0, or the errno the installed hook injects before `step`.
int Fault(FaultStep step, const std::string& path) {
  FaultHook h = g_fault_hook.load(std::memory_order_relaxed);
  return h != nullptr ? h(step, path) : 0;
}

Error IoError(int err, const std::string& what) {
  return MakeError(ErrorCode::kIo, what + ": " + std::strerror(err));
}

std::string RandomSuffix() {
  static std::atomic<uint64_t> counter{0};
  static const uint64_t seed = std::random_device{}() ^
                               (static_cast<uint64_t>(std::random_device{}()) << 32) ^
                               static_cast<uint64_t>(getpid());
  uint64_t x = seed + 0x9e3779b97f4a7c15ULL * (++counter);
  x ^= x >> 31;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 29;
  static const char* kHex = "0123456789abcdef";
  std::string out;
  for (int i = 0; i < 12; ++i) {
    out += kHex[x & 15];
    x >>= 4;
  }
  return out;
}

// write(2) until done; false with errno set on failure.
bool WriteAll(int fd, const char* data, size_t len) {
  while (len > 0) {
    ssize_t n = ::write(fd, data, len);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    data += n;
    len -= static_cast<size_t>(n);
  }
  return true;
}

// The inode flags (FS_IOC_GETFLAGS) of `name` in `dirfd` ("." = the
// directory itself); 0 when they cannot be read.
long InodeFlags(int dirfd, const std::string& name) {
  int fd = ::openat(dirfd, name.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) return 0;
  long flags = 0;
  int f = 0;
  if (::ioctl(fd, FS_IOC_GETFLAGS, &f) == 0) flags = f;
  ::close(fd);
  return flags;
}

// Why an EPERM happened, as far as keel can tell: " (the file is immutable:
// ...)", or a general hint.
std::string EpermHint(int dirfd, const std::string& name) {
  long file = InodeFlags(dirfd, name), dir = InodeFlags(dirfd, ".");
  if (file & FS_IMMUTABLE_FL)
    return " (the file has the immutable attribute: chattr +i; lsattr shows it, chattr -i lifts "
           "it)";
  if (file & FS_APPEND_FL)
    return " (the file has the append-only attribute: chattr +a; lsattr shows it, chattr -a "
           "lifts it)";
  if (dir & (FS_IMMUTABLE_FL | FS_APPEND_FL))
    return " (its directory has the immutable or append-only attribute: chattr +i/+a; lsattr -d "
           "shows it)";
  return " (an immutable or append-only attribute, chattr +i / +a, is a likely cause: check "
         "with lsattr)";
}

}  // namespace

FileIdentity IdentityOf(const struct stat& st) {
  return FileIdentity{
      .exists = true,
      .dev = st.st_dev,
      .ino = st.st_ino,
      .size = st.st_size,
      .mtime_ns = static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec};
}

FileIdentity IdentityAt(int dirfd, const std::string& name) {
  struct stat st;
  if (::fstatat(dirfd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) return FileIdentity{};
  return IdentityOf(st);
}

FaultHook SetAtomicFaultHook(FaultHook hook) { return g_fault_hook.exchange(hook); }

std::string AtomicTempName(std::string_view name) {
  return ".keel-" + std::string(name.substr(0, 200)) + "." + RandomSuffix();
}

bool IsAtomicTempName(std::string_view n) {
  if (n.size() < 20 || n.compare(0, 6, ".keel-") != 0 || n[n.size() - 13] != '.') return false;
  return n.find_first_not_of("0123456789abcdef", n.size() - 12) == std::string_view::npos;
}

Result<void> AtomicStageAt(int dirfd, const std::string& name, std::string_view data,
                           const AtomicWriteOptions& opts, const std::string& display,
                           StagedWrite& staged) {
  std::string what = "cannot write " + display;
  staged.dirfd = dirfd;
  staged.name = name;
  staged.display = display;
  staged.tmp = opts.temp_name.empty() ? AtomicTempName(name) : opts.temp_name;
  const std::string& tmp = staged.tmp;
  int tfd =
      ::openat(dirfd, tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (tfd < 0) {
    int err = errno;
    std::string hint = err == EPERM ? EpermHint(dirfd, name) : "";
    return MakeError(ErrorCode::kIo,
                     what + ": creating a temporary file: " + std::strerror(err) + hint);
  }
  Fd t(tfd);
  auto fail = [&](const char* step, int err) -> Result<void> {
    t.Reset();
    ::unlinkat(dirfd, tmp.c_str(), 0);
    std::string hint = err == EPERM ? EpermHint(dirfd, name) : "";
    return MakeError(ErrorCode::kIo, what + ": " + step + ": " + std::strerror(err) + hint);
  };
  if (int e = Fault(FaultStep::kWrite, display)) return fail("write", e);
  if (!WriteAll(tfd, data.data(), data.size())) return fail("write", errno);
  if (opts.uid || opts.gid) {
    uid_t uid = opts.uid ? *opts.uid : static_cast<uid_t>(-1);
    gid_t gid = opts.gid ? *opts.gid : static_cast<gid_t>(-1);
    if (::fchown(tfd, uid, gid) != 0) {
      // Only root can give files away; keep going as an ordinary user when
      // the wanted owner is already ours.
      bool ours =
          (!opts.uid || *opts.uid == ::geteuid()) && (!opts.gid || *opts.gid == ::getegid());
      if (!(errno == EPERM && ours)) return fail("chown", errno);
    }
  }
  if (::fchmod(tfd, opts.mode) != 0) return fail("chmod", errno);
  staged.fd = std::move(t);
  return {};
}

namespace {

// A failed sync step: the temp file is removed; the error names the target.
Result<void> FailStaged(StagedWrite& staged, const char* step, int err) {
  staged.fd.Reset();
  ::unlinkat(staged.dirfd, staged.tmp.c_str(), 0);
  std::string hint = err == EPERM ? EpermHint(staged.dirfd, staged.name) : "";
  return MakeError(ErrorCode::kIo, "cannot write " + staged.display + ": " + step + ": " +
                                       std::strerror(err) + hint);
}

// syncfs(2) reports the file system's writeback errors since Linux 5.8
// (before, it returned 0 even when data was lost): only then is it used.
bool SyncfsReportsErrors() {
  static const bool reports = [] {
    struct utsname u {};
    int major = 0, minor = 0;
    if (::uname(&u) != 0 || std::sscanf(u.release, "%d.%d", &major, &minor) != 2) return false;
    return major > 5 || (major == 5 && minor >= 8);
  }();
  return reports;
}

// A large batch: one syncfs per file system instead of one fsync per file.
// A journaling file system commits once either way, but 1,000 fsyncs cost
// ~0.3 s of system time (the journal wait and flush, per file) against
// ~0.02 s for one syncfs. Where syncfs fails, each file of that file system
// is fsynced on its own, which names the file whose data was lost. Returns
// false when the batch is not synced this way (the caller fsyncs).
bool SyncBySyncfs(std::span<StagedWrite* const> staged, std::vector<Result<void>>& out) {
  if (staged.size() < kSyncfsFrom || !SyncfsReportsErrors()) return false;
  std::vector<std::pair<dev_t, int>> devices;  // device -> syncfs result (0 or errno)
  std::vector<size_t> device_of(staged.size());
  for (size_t i = 0; i < staged.size(); ++i) {
    struct stat st {};
    if (::fstat(staged[i]->fd.get(), &st) != 0) return false;
    size_t d = 0;
    while (d < devices.size() && devices[d].first != st.st_dev) ++d;
    if (d == devices.size()) devices.emplace_back(st.st_dev, -1);
    if (devices[d].second < 0) devices[d].second = ::syncfs(staged[i]->fd.get()) == 0 ? 0 : errno;
    device_of[i] = d;
  }
  for (size_t i = 0; i < staged.size(); ++i) {
    if (devices[device_of[i]].second != 0) {
      out[i] = AtomicSyncStaged(*staged[i]);
    } else if (::close(staged[i]->fd.Release()) != 0) {
      out[i] = FailStaged(*staged[i], "close", errno);
    }
  }
  return true;
}

}  // namespace

Result<void> AtomicSyncStaged(StagedWrite& staged) {
  if (int e = Fault(FaultStep::kFsync, staged.display)) return FailStaged(staged, "fsync", e);
  if (::fsync(staged.fd.get()) != 0) return FailStaged(staged, "fsync", errno);
  if (::close(staged.fd.Release()) != 0) return FailStaged(staged, "close", errno);
  return {};
}

std::vector<Result<void>> AtomicSyncAll(std::span<StagedWrite* const> staged) {
  std::vector<Result<void>> out(staged.size());
  if (g_fault_hook.load(std::memory_order_relaxed) == nullptr && SyncBySyncfs(staged, out))
    return out;
  const size_t threads = std::min<size_t>(staged.size(), 16);
  if (threads <= 1 || g_fault_hook.load(std::memory_order_relaxed) != nullptr) {
    for (size_t i = 0; i < staged.size(); ++i) out[i] = AtomicSyncStaged(*staged[i]);
    return out;
  }
  std::atomic<size_t> next{0};
  auto work = [&] {
    for (size_t i; (i = next.fetch_add(1)) < staged.size();) out[i] = AtomicSyncStaged(*staged[i]);
  };
  std::vector<std::thread> pool;
  pool.reserve(threads - 1);
  for (size_t t = 1; t < threads; ++t) pool.emplace_back(work);
  work();
  for (auto& t : pool) t.join();
  return out;
}

Result<void> AtomicCommitStaged(StagedWrite& staged, const AtomicWriteOptions& opts) {
  const int dirfd = staged.dirfd;
  const std::string& tmp = staged.tmp;
  std::string what = "cannot write " + staged.display;
  if (opts.before_rename) {
    if (auto b = opts.before_rename(); !b.ok()) {
      ::unlinkat(dirfd, tmp.c_str(), 0);
      return b;
    }
  }
  // The last look before the rename: a file someone changed since keel
  // read it (an administrator's appended line) is not overwritten.
  if (opts.expect && IdentityAt(dirfd, staged.name) != *opts.expect) {
    ::unlinkat(dirfd, tmp.c_str(), 0);
    return MakeError(ErrorCode::kConflict,
                     what +
                         ": it changed while keel was writing it (another program wrote it "
                         "after keel read it); not replaced, the next run will look again");
  }
  int e = Fault(FaultStep::kRename, staged.display);
  if (e == 0 && ::renameat(dirfd, tmp.c_str(), dirfd, staged.name.c_str()) != 0) e = errno;
  if (e != 0) {
    ::unlinkat(dirfd, tmp.c_str(), 0);
    std::string hint = e == EPERM ? EpermHint(dirfd, staged.name) : "";
    return MakeError(ErrorCode::kIo, what + ": rename: " + std::strerror(e) + hint);
  }
  return {};
}

Result<void> AtomicSyncDir(int dirfd, const std::string& display) {
  // The new file is in place; a failed directory fsync means it may not
  // survive a crash, which the caller hears about. EINVAL: a file system
  // that cannot sync directories.
  int e = Fault(FaultStep::kDirFsync, display);
  if (e == 0 && ::fsync(dirfd) != 0) e = errno;
  if (e != 0 && e != EINVAL)
    return IoError(e, "cannot write " + display + ": fsync of the directory");
  return {};
}

Result<void> AtomicWriteAt(int dirfd, const std::string& name, std::string_view data,
                           const AtomicWriteOptions& opts, const std::string& display) {
  StagedWrite staged;
  KEEL_TRY(AtomicStageAt(dirfd, name, data, opts, display, staged));
  if (!opts.sync) {
    if (::close(staged.fd.Release()) != 0) {
      int e = errno;
      ::unlinkat(dirfd, staged.tmp.c_str(), 0);
      return IoError(e, "cannot write " + display + ": close");
    }
    return AtomicCommitStaged(staged, opts);
  }
  KEEL_TRY(AtomicSyncStaged(staged));
  KEEL_TRY(AtomicCommitStaged(staged, opts));
  return AtomicSyncDir(dirfd, display);
}

Result<void> AtomicWriteFile(const std::string& path, std::string_view data,
                             const AtomicWriteOptions& opts) {
  size_t slash = path.find_last_of('/');
  std::string dir = slash == std::string::npos ? "." : (slash == 0 ? "/" : path.substr(0, slash));
  std::string name = slash == std::string::npos ? path : path.substr(slash + 1);
  if (name.empty() || name == "." || name == "..") {
    return MakeError(ErrorCode::kInvalid, "cannot write " + path + ": not a file name");
  }
  int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0) return IoError(errno, "cannot write " + path + ": opening " + dir);
  Fd d(dfd);
  return AtomicWriteAt(dfd, name, data, opts, path);
}

TempSweeper::Claim::Claim(TempSweeper& s, std::string name) : s_(s), name_(std::move(name)) {
  std::lock_guard<std::mutex> lock(s_.mu_);
  s_.own_.insert(name_);
}

TempSweeper::Claim::~Claim() {
  std::lock_guard<std::mutex> lock(s_.mu_);
  s_.own_.erase(name_);
}

void TempSweeper::SweepOnce(int dirfd) {
  struct stat st;
  if (::fstat(dirfd, &st) != 0) return;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!swept_.emplace(st.st_dev, st.st_ino).second) return;
  }
  int dfd = ::openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0) return;
  DIR* d = ::fdopendir(dfd);
  if (d == nullptr) {
    ::close(dfd);
    return;
  }
  std::vector<std::string> stale;
  while (struct dirent* e = ::readdir(d)) {
    std::string_view n = e->d_name;
    if (!IsAtomicTempName(n) || e->d_type == DT_DIR) continue;
    std::lock_guard<std::mutex> lock(mu_);
    if (own_.count(std::string(n)) == 0) stale.emplace_back(n);
  }
  for (const auto& n : stale) ::unlinkat(::dirfd(d), n.c_str(), 0);
  ::closedir(d);
}

Result<void> MakeDirAt(int dirfd, const std::string& name, mode_t mode,
                       const std::string& display) {
  std::string what = "cannot create directory " + display;
  int e = Fault(FaultStep::kMkdir, display);
  if (e == 0 && ::mkdirat(dirfd, name.c_str(), 0700) != 0) e = errno;
  if (e == EEXIST) {
    struct stat st;
    if (::fstatat(dirfd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode)) {
      return {};
    }
    return MakeError(ErrorCode::kIo, what + ": something other than a directory is there");
  }
  if (e != 0) return IoError(e, what);
  int fd = ::openat(dirfd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return IoError(errno, what);
  Fd d(fd);
  if (::fchmod(fd, mode) != 0) return IoError(errno, what + ": chmod");
  return {};
}

}  // namespace keel
