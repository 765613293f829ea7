// The state dir (SPEC 6): run lock, backup store + index, owed refreshes,
// last_run.json; every file reached relative to one directory fd.
#include "engine/state.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <thread>

#include "engine/atomic_file.h"
#include "engine/clock.h"
#include "engine/digest.h"
#include "engine/interrupt.h"
#include "engine/text_lines.h"

namespace keel {

namespace {

constexpr const char* kDefaultRel = "var/lib/keel";
constexpr const char* kReserve = ".reserve";

// Removes the AtomicTempName files in `dirfd`; returns how many.
int SweepDir(int dirfd) {
  if (dirfd < 0) return 0;
  int dfd = ::openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0) return 0;
  DIR* d = ::fdopendir(dfd);
  if (d == nullptr) {
    ::close(dfd);
    return 0;
  }
  std::vector<std::string> stale;
  while (struct dirent* e = ::readdir(d)) {
    if (e->d_type != DT_DIR && IsAtomicTempName(e->d_name)) stale.emplace_back(e->d_name);
  }
  int n = 0;
  for (const auto& name : stale) n += ::unlinkat(::dirfd(d), name.c_str(), 0) == 0;
  ::closedir(d);
  return n;
}

Error IoError(int err, const std::string& what) {
  return MakeError(ErrorCode::kIo, what + ": " + std::strerror(err));
}

// mkdir -p of a plain path (--state-dir); the last component gets `mode`,
// missing parents 0755.
Result<void> MakePlainDirs(const std::string& dir, mode_t mode) {
  struct stat st;
  if (::stat(dir.c_str(), &st) == 0) {
    if (!S_ISDIR(st.st_mode)) {
      return MakeError(ErrorCode::kIo, "state dir " + dir + " is not a directory");
    }
    return {};
  }
  size_t slash = dir.find_last_of('/');
  if (slash != std::string::npos && slash > 0) {
    KEEL_TRY(MakePlainDirs(dir.substr(0, slash), 0755));
  }
  if (::mkdir(dir.c_str(), mode) != 0 && errno != EEXIST) {
    return IoError(errno, "cannot create " + dir);
  }
  ::chmod(dir.c_str(), mode);  // umask
  return {};
}

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

// Reads `name` in `dirfd` without following a final symlink; nullopt when
// absent (or `dirfd` is -1: no directory).
Result<std::optional<std::string>> ReadAt(int dirfd, const std::string& name,
                                          const std::string& display) {
  if (dirfd < 0) return std::optional<std::string>();
  int fd = ::openat(dirfd, name.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
  if (fd < 0) {
    if (errno == ENOENT) return std::optional<std::string>();
    return IoError(errno, "cannot read " + display);
  }
  Fd f(fd);
  std::string out;
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      return IoError(errno, "cannot read " + display);
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  return std::optional<std::string>(std::move(out));
}

bool IsSha(const std::string& s) {
  if (s.size() != 64) return false;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

std::string TrimSlashes(std::string d) {
  while (d.size() > 1 && d.back() == '/') d.pop_back();
  return d;
}

}  // namespace

StateDir::StateDir(std::string dir) : dir_(TrimSlashes(std::move(dir))) {}

StateDir::StateDir(std::string display, Fd root_fd, std::string rel)
    : dir_(std::move(display)), root_fd_(std::move(root_fd)), rel_(std::move(rel)) {
  resolver_.emplace(root_fd_.get(), Openat2Wanted());
}

Result<std::unique_ptr<StateDir>> StateDir::InRoot(const std::string& root_dir) {
  if (root_dir.empty()) return MakeError(ErrorCode::kInvalid, "empty root directory");
  int fd = ::open(root_dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return IoError(errno, "cannot open root " + root_dir);
  std::string r = TrimSlashes(root_dir);
  std::string display = (r == "/" ? "" : r) + "/" + kDefaultRel;
  auto state = std::unique_ptr<StateDir>(new StateDir(display, Fd(fd), kDefaultRel));
  state->root_display_ = r;
  return state;
}

Result<std::unique_ptr<StateDir>> StateDir::Open(const std::string& root_dir,
                                                 const std::string& state_dir_flag) {
  if (!state_dir_flag.empty()) return std::make_unique<StateDir>(state_dir_flag);
  return InRoot(root_dir);
}

StateDir::~StateDir() { Unlock(); }

Result<int> StateDir::DirFd(bool create) const {
  std::lock_guard<std::mutex> lock(mu_);
  if (dir_fd_.valid()) return dir_fd_.get();
  int fd;
  if (resolver_) {
    fd = create ? resolver_->MakeDirs(rel_, 0700) : resolver_->Open(rel_, O_RDONLY | O_DIRECTORY);
  } else {
    if (create) KEEL_TRY(MakePlainDirs(dir_, 0700));
    fd = ::open(dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) fd = -errno;
  }
  if (fd == -ENOENT && !create) return -1;
  if (fd < 0) {
    std::string what = std::string(create ? "cannot create" : "cannot open") + " the state dir " +
                       dir_ + ": " + std::strerror(-fd);
    // A link (var -> /elsewhere) is resolved inside the root, where it may
    // lead nowhere: say so, since the error alone reads oddly.
    if (resolver_ && (fd == -EEXIST || fd == -ENOTDIR || fd == -ELOOP)) {
      what += " (symlinks are resolved inside the root " + root_display_ + ")";
    }
    return MakeError(ErrorCode::kIo, what);
  }
  dir_fd_.Reset(fd);
  return fd;
}

Result<std::string> StateDir::RealPath() const {
  auto fd = DirFd(true);
  if (!fd.ok()) return fd.error();
  std::string link = "/proc/self/fd/" + std::to_string(*fd);
  std::string buf(4096, '\0');
  ssize_t n = ::readlink(link.c_str(), buf.data(), buf.size());
  if (n < 0 || static_cast<size_t>(n) >= buf.size())
    return MakeError(ErrorCode::kIo, "cannot resolve the state dir " + dir_ + ": " +
                                         std::strerror(n < 0 ? errno : ENAMETOOLONG));
  buf.resize(static_cast<size_t>(n));
  return buf;
}

Result<int> StateDir::BackupFd(bool create) const {
  auto dfd = DirFd(create);
  if (!dfd.ok() || *dfd < 0) return dfd;
  std::lock_guard<std::mutex> lock(mu_);
  if (backup_fd_.valid()) return backup_fd_.get();
  std::string display = dir_ + "/backup";
  if (create) KEEL_TRY(MakeDirAt(*dfd, "backup", 0700, display));
  int fd = ::openat(*dfd, "backup", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0 && errno == ENOENT && !create) return -1;
  if (fd < 0) return IoError(errno, "cannot open " + display);
  backup_fd_.Reset(fd);
  return fd;
}

Result<void> StateDir::Lock(double timeout_s) {
  if (lock_fd_ >= 0) return {};
  auto dfd = DirFd(true);
  if (!dfd.ok()) return dfd.error();
  std::string path = dir_ + "/lock";
  int fd = ::openat(*dfd, "lock", O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY, 0600);
  if (fd < 0) return IoError(errno, "cannot open the lock " + path);
  auto deadline = std::chrono::steady_clock::now() +
                  std::chrono::duration<double>(timeout_s > 0 ? timeout_s : 0);
  for (;;) {
    if (::flock(fd, LOCK_EX | LOCK_NB) == 0) break;
    if (errno == EINTR) continue;
    if (errno != EWOULDBLOCK) {
      int err = errno;
      ::close(fd);
      return IoError(err, "cannot lock " + path);
    }
    if (std::chrono::steady_clock::now() >= deadline || StopRequested()) {
      std::string holder;
      char buf[64];
      ssize_t n = ::pread(fd, buf, sizeof buf - 1, 0);
      if (n > 0) {
        for (ssize_t i = 0; i < n && buf[i] >= '0' && buf[i] <= '9'; ++i) holder += buf[i];
      }
      ::close(fd);
      std::string msg = "another keel run holds the lock " + path;
      if (!holder.empty()) msg += " (pid " + holder + ")";
      if (timeout_s > 0) msg += "; waited " + std::to_string(static_cast<int>(timeout_s)) + " s";
      return MakeError(ErrorCode::kConflict, msg);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  std::string pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, pid.data(), pid.size(), 0) < 0) {
    // The lock is held; a missing pid only makes the message vaguer.
  }
  lock_fd_ = fd;
  return {};
}

void StateDir::Unlock() {
  if (lock_fd_ < 0) return;
  if (::ftruncate(lock_fd_, 0) != 0) {
    // best effort
  }
  ::flock(lock_fd_, LOCK_UN);
  ::close(lock_fd_);
  lock_fd_ = -1;
}

Result<void> StateDir::Save(const HostPath& path, std::string_view content) {
  std::string backup_dir = dir_ + "/backup";
  auto backup_fd = BackupFd(true);
  if (!backup_fd.ok()) return backup_fd.error();
  int bfd = *backup_fd;
  std::string sha = Sha256Hex(content);
  struct stat st;
  if (::fstatat(bfd, sha.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
    KEEL_TRY(
        AtomicWriteAt(bfd, sha, content, AtomicWriteOptions{.mode = 0600}, backup_dir + "/" + sha));
  }
  std::string index = backup_dir + "/index";
  int fd = ::openat(bfd, "index", O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) return IoError(errno, "cannot write " + index);
  Fd f(fd);
  std::string line = NowRfc3339(true) + "\t" + path.str() + "\t" + sha;
  if (!origin_.empty()) line += "\t" + origin_;
  line += "\n";
  if (!WriteAll(fd, line.data(), line.size()) || ::fsync(fd) != 0) {
    return IoError(errno, "cannot write " + index);
  }
  return {};
}

Result<std::vector<BackupEntry>> StateDir::Index() const {
  std::vector<BackupEntry> out;
  auto bfd = BackupFd(false);
  if (!bfd.ok()) return bfd.error();
  auto text = ReadAt(*bfd, "index", dir_ + "/backup/index");
  if (!text.ok()) return text.error();
  if (!text->has_value()) return out;
  for (std::string_view view : SplitLines(**text)) {
    // time \t path \t sha256 [\t origin]; a path may hold tabs, a sha not.
    std::string line(view);
    size_t t1 = line.find('\t');
    size_t t2 = line.rfind('\t');
    if (t1 == std::string::npos || t2 == t1) continue;  // a torn or foreign line
    std::string origin;
    if (!IsSha(line.substr(t2 + 1))) {
      origin = line.substr(t2 + 1);
      line.resize(t2);
      t2 = line.rfind('\t');
      if (t2 == std::string::npos || t2 <= t1) continue;
    }
    BackupEntry e{line.substr(0, t1), line.substr(t1 + 1, t2 - t1 - 1), line.substr(t2 + 1),
                  origin};
    if (!IsSha(e.sha256)) continue;
    out.push_back(std::move(e));
  }
  return out;
}

Result<std::string> StateDir::LoadBackup(const std::string& sha256) const {
  if (!IsSha(sha256)) return MakeError(ErrorCode::kInvalid, "not a sha256: '" + sha256 + "'");
  std::string path = dir_ + "/backup/" + sha256;
  auto bfd = BackupFd(false);
  if (!bfd.ok()) return bfd.error();
  auto text = ReadAt(*bfd, sha256, path);
  if (!text.ok()) return text.error();
  if (!text->has_value()) return MakeError(ErrorCode::kNotFound, "no backup " + path);
  return std::move(**text);
}

Result<std::vector<std::string>> StateDir::OwedRefreshes() const {
  std::vector<std::string> ids;
  auto dfd = DirFd(false);
  if (!dfd.ok()) return dfd.error();
  auto text = ReadAt(*dfd, "owed_refreshes", dir_ + "/owed_refreshes");
  if (!text.ok()) return text.error();
  if (!text->has_value()) return ids;
  for (std::string_view id : SplitLines(**text))
    if (!id.empty()) ids.emplace_back(id);
  return ids;
}

Result<void> StateDir::WriteStateFile(const std::string& name, std::string_view data, bool sync) {
  auto dfd = DirFd(true);
  if (!dfd.ok()) return dfd.error();
  std::string path = dir_ + "/" + name;
  const AtomicWriteOptions opts{.mode = 0600, .sync = sync};
  auto w = AtomicWriteAt(*dfd, name, data, opts, path);
  if (w.ok() || !reserved_) return w;
  const std::string& m = w.error().message;
  if (m.find(std::strerror(ENOSPC)) == std::string::npos &&
      m.find(std::strerror(EDQUOT)) == std::string::npos)
    return w;
  // The disk filled up during the run: the reserve was kept for this.
  ReleaseReserve();
  return AtomicWriteAt(*dfd, name, data, opts, path);
}

Result<void> StateDir::SetOwedRefreshes(const std::vector<std::string>& ids) {
  std::string path = dir_ + "/owed_refreshes";
  if (ids.empty()) {
    auto dfd = DirFd(false);
    if (!dfd.ok()) return dfd.error();
    if (*dfd < 0) return {};
    if (::unlinkat(*dfd, "owed_refreshes", 0) != 0 && errno != ENOENT)
      return IoError(errno, "cannot remove " + path);
    return {};
  }
  std::string text;
  for (const auto& id : ids) text += id + "\n";
  return WriteStateFile("owed_refreshes", text);
}

Result<void> StateDir::WriteLastRun(const std::string& json, bool durable) {
  return WriteStateFile("last_run.json", json, durable);
}

Result<void> StateDir::MarkRunStarted(const std::string& marker) {
  auto w = WriteStateFile("last_run.json", marker);
  if (w.ok()) return {};
  if (!RemoveLastRun().ok()) {
    Error e = w.error();
    return e.Context("cannot mark or remove the previous " + dir_ + "/last_run.json");
  }
  return {};
}

Result<void> StateDir::RemoveLastRun() {
  auto dfd = DirFd(false);
  if (!dfd.ok()) return dfd.error();
  if (*dfd < 0) return {};
  if (::unlinkat(*dfd, "last_run.json", 0) != 0 && errno != ENOENT)
    return IoError(errno, "cannot remove " + dir_ + "/last_run.json");
  return {};
}

int StateDir::SweepTemps() {
  auto dfd = DirFd(false);
  if (!dfd.ok() || *dfd < 0) return 0;
  int n = SweepDir(*dfd);
  auto bfd = BackupFd(false);
  if (bfd.ok() && *bfd >= 0) n += SweepDir(*bfd);
  return n;
}

Result<void> StateDir::Reserve(uint64_t bytes) {
  auto dfd = DirFd(true);
  if (!dfd.ok()) return dfd.error();
  std::string path = dir_ + "/" + kReserve;
  int fd = ::openat(*dfd, kReserve, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) return IoError(errno, "cannot reserve space in the state dir: " + path);
  Fd f(fd);
  int err = ::posix_fallocate(fd, 0, static_cast<off_t>(bytes));
  if (err == EOPNOTSUPP || err == EINVAL) {
    // No fallocate here: write the bytes.
    std::string zeros(65536, '\0');
    err = 0;
    for (uint64_t done = 0; done < bytes && err == 0;) {
      size_t n = static_cast<size_t>(std::min<uint64_t>(zeros.size(), bytes - done));
      if (!WriteAll(fd, zeros.data(), n)) err = errno;
      done += n;
    }
  }
  // No fsync: fallocate (or the delayed allocation of the written zeros)
  // holds the space at once, and the reserve matters only while this run lives.
  if (err != 0) {
    f.Reset();
    ::unlinkat(*dfd, kReserve, 0);
    return IoError(err, "cannot reserve " + std::to_string(bytes) + " bytes in the state dir " +
                            dir_ + " for the owed refreshes and the report");
  }
  reserved_ = true;
  return {};
}

void StateDir::ReleaseReserve() {
  auto dfd = DirFd(false);
  if (dfd.ok() && *dfd >= 0) ::unlinkat(*dfd, kReserve, 0);
  reserved_ = false;
}

}  // namespace keel
