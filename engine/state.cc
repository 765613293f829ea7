// The state dir (SPEC 6): run lock, backup store + index, owed refreshes,
// last_run.json.
#include "engine/state.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <thread>

#include "engine/clock.h"
#include "engine/digest.h"

namespace keel {

namespace {

Error IoError(int err, const std::string& what) {
  return MakeError(ErrorCode::kIo, what + ": " + std::strerror(err));
}

// mkdir -p; the last component gets `mode`, missing parents 0755.
Result<void> MakeDirs(const std::string& dir, mode_t mode) {
  struct stat st;
  if (::stat(dir.c_str(), &st) == 0) {
    if (!S_ISDIR(st.st_mode)) {
      return MakeError(ErrorCode::kIo, "state dir " + dir + " is not a directory");
    }
    return {};
  }
  size_t slash = dir.find_last_of('/');
  if (slash != std::string::npos && slash > 0) {
    KEEL_TRY(MakeDirs(dir.substr(0, slash), 0755));
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

// Atomic replace of a state file: temp, fsync, rename, fsync of the dir.
Result<void> WriteAtomic(const std::string& dir, const std::string& name, std::string_view data,
                         mode_t mode) {
  std::string target = dir + "/" + name;
  std::string tmp = dir + "/." + name + ".tmp." + std::to_string(::getpid());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode);
  if (fd < 0) return IoError(errno, "cannot write " + target);
  bool ok = WriteAll(fd, data.data(), data.size()) && ::fchmod(fd, mode) == 0 && ::fsync(fd) == 0;
  int err = errno;
  ok = (::close(fd) == 0) && ok;
  if (ok && ::rename(tmp.c_str(), target.c_str()) != 0) {
    err = errno;
    ok = false;
  }
  if (!ok) {
    ::unlink(tmp.c_str());
    return IoError(err, "cannot write " + target);
  }
  int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  return {};
}

Result<std::optional<std::string>> ReadWhole(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return std::optional<std::string>();
    return IoError(errno, "cannot read " + path);
  }
  std::string out;
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      ::close(fd);
      return IoError(err, "cannot read " + path);
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return std::optional<std::string>(std::move(out));
}

bool IsSha(const std::string& s) {
  if (s.size() != 64) return false;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

}  // namespace

StateDir::StateDir(std::string dir) : dir_(std::move(dir)) {
  while (dir_.size() > 1 && dir_.back() == '/') dir_.pop_back();
}

StateDir::~StateDir() { Unlock(); }

Result<void> StateDir::Lock(double timeout_s) {
  if (lock_fd_ >= 0) return {};
  KEEL_TRY(MakeDirs(dir_, 0700));
  std::string path = dir_ + "/lock";
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
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
    if (std::chrono::steady_clock::now() >= deadline) {
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
  KEEL_TRY(MakeDirs(dir_, 0700));
  KEEL_TRY(MakeDirs(backup_dir, 0700));
  std::string sha = Sha256Hex(content);
  struct stat st;
  if (::stat((backup_dir + "/" + sha).c_str(), &st) != 0) {
    KEEL_TRY(WriteAtomic(backup_dir, sha, content, 0600));
  }
  std::string index = backup_dir + "/index";
  int fd = ::open(index.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) return IoError(errno, "cannot write " + index);
  std::string line = NowRfc3339(true) + "\t" + path.str() + "\t" + sha + "\n";
  bool ok = WriteAll(fd, line.data(), line.size()) && ::fsync(fd) == 0;
  int err = errno;
  ::close(fd);
  if (!ok) return IoError(err, "cannot write " + index);
  return {};
}

Result<std::vector<BackupEntry>> StateDir::Index() const {
  std::vector<BackupEntry> out;
  auto text = ReadWhole(dir_ + "/backup/index");
  if (!text.ok()) return text.error();
  if (!text->has_value()) return out;
  const std::string& s = **text;
  size_t pos = 0;
  while (pos < s.size()) {
    size_t end = s.find('\n', pos);
    if (end == std::string::npos) end = s.size();
    std::string line = s.substr(pos, end - pos);
    pos = end + 1;
    size_t t1 = line.find('\t');
    size_t t2 = line.rfind('\t');
    if (t1 == std::string::npos || t2 == t1) continue;  // a torn or foreign line
    BackupEntry e{line.substr(0, t1), line.substr(t1 + 1, t2 - t1 - 1), line.substr(t2 + 1)};
    if (!IsSha(e.sha256)) continue;
    out.push_back(std::move(e));
  }
  return out;
}

Result<std::string> StateDir::LoadBackup(const std::string& sha256) const {
  if (!IsSha(sha256)) return MakeError(ErrorCode::kInvalid, "not a sha256: '" + sha256 + "'");
  std::string path = dir_ + "/backup/" + sha256;
  auto text = ReadWhole(path);
  if (!text.ok()) return text.error();
  if (!text->has_value()) return MakeError(ErrorCode::kNotFound, "no backup " + path);
  return std::move(**text);
}

std::vector<std::string> StateDir::OwedRefreshes() const {
  std::vector<std::string> ids;
  auto text = ReadWhole(dir_ + "/owed_refreshes");
  if (!text.ok() || !text->has_value()) return ids;
  const std::string& s = **text;
  size_t pos = 0;
  while (pos < s.size()) {
    size_t end = s.find('\n', pos);
    if (end == std::string::npos) end = s.size();
    std::string id = s.substr(pos, end - pos);
    if (!id.empty()) ids.push_back(std::move(id));
    pos = end + 1;
  }
  return ids;
}

Result<void> StateDir::SetOwedRefreshes(const std::vector<std::string>& ids) {
  std::string path = dir_ + "/owed_refreshes";
  if (ids.empty()) {
    if (::unlink(path.c_str()) != 0 && errno != ENOENT)
      return IoError(errno, "cannot remove " + path);
    return {};
  }
  KEEL_TRY(MakeDirs(dir_, 0700));
  std::string text;
  for (const auto& id : ids) text += id + "\n";
  return WriteAtomic(dir_, "owed_refreshes", text, 0600);
}

Result<void> StateDir::WriteLastRun(const std::string& json) {
  KEEL_TRY(MakeDirs(dir_, 0700));
  return WriteAtomic(dir_, "last_run.json", json, 0600);
}

}  // namespace keel
