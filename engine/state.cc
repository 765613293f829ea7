// The state dir (SPEC 6): run lock, backup store + index, owed refreshes,
// last_run.json, and a compact SHA-256.
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

// RFC 3339 UTC with microseconds: 2026-11-29T10:00:00.123456Z
std::string NowRfc3339() {
  struct timespec ts;
  ::clock_gettime(CLOCK_REALTIME, &ts);
  struct tm tm;
  ::gmtime_r(&ts.tv_sec, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%06ldZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000);
  return buf;
}

bool IsSha(const std::string& s) {
  if (s.size() != 64) return false;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

// ---- SHA-256 (FIPS 180-4) ----
constexpr std::array<uint32_t, 64> kK = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};

inline uint32_t Rotr(uint32_t x, int n) { return (x >> n) | (x << (32 - n)); }

void Sha256Block(uint32_t h[8], const unsigned char* p) {
  uint32_t w[64];
  for (int i = 0; i < 16; ++i) {
    w[i] = (uint32_t(p[4 * i]) << 24) | (uint32_t(p[4 * i + 1]) << 16) |
           (uint32_t(p[4 * i + 2]) << 8) | uint32_t(p[4 * i + 3]);
  }
  for (int i = 16; i < 64; ++i) {
    uint32_t s0 = Rotr(w[i - 15], 7) ^ Rotr(w[i - 15], 18) ^ (w[i - 15] >> 3);
    uint32_t s1 = Rotr(w[i - 2], 17) ^ Rotr(w[i - 2], 19) ^ (w[i - 2] >> 10);
    w[i] = w[i - 16] + s0 + w[i - 7] + s1;
  }
  uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], hh = h[7];
  for (int i = 0; i < 64; ++i) {
    uint32_t s1 = Rotr(e, 6) ^ Rotr(e, 11) ^ Rotr(e, 25);
    uint32_t ch = (e & f) ^ (~e & g);
    uint32_t t1 = hh + s1 + ch + kK[i] + w[i];
    uint32_t s0 = Rotr(a, 2) ^ Rotr(a, 13) ^ Rotr(a, 22);
    uint32_t maj = (a & b) ^ (a & c) ^ (b & c);
    uint32_t t2 = s0 + maj;
    hh = g;
    g = f;
    f = e;
    e = d + t1;
    d = c;
    c = b;
    b = a;
    a = t1 + t2;
  }
  h[0] += a;
  h[1] += b;
  h[2] += c;
  h[3] += d;
  h[4] += e;
  h[5] += f;
  h[6] += g;
  h[7] += hh;
}

}  // namespace

std::string Sha256Hex(std::string_view data) {
  uint32_t h[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                   0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
  const auto* p = reinterpret_cast<const unsigned char*>(data.data());
  size_t n = data.size();
  size_t full = n / 64;
  for (size_t i = 0; i < full; ++i) Sha256Block(h, p + 64 * i);
  unsigned char tail[128] = {0};
  size_t rest = n - 64 * full;
  if (rest > 0) std::memcpy(tail, p + 64 * full, rest);
  tail[rest] = 0x80;
  size_t tail_len = rest + 1 + 8 <= 64 ? 64 : 128;
  uint64_t bits = static_cast<uint64_t>(n) * 8;
  for (int i = 0; i < 8; ++i) tail[tail_len - 1 - i] = static_cast<unsigned char>(bits >> (8 * i));
  Sha256Block(h, tail);
  if (tail_len == 128) Sha256Block(h, tail + 64);
  static const char* kHex = "0123456789abcdef";
  std::string out;
  out.reserve(64);
  for (uint32_t v : h) {
    for (int s = 28; s >= 0; s -= 4) out += kHex[(v >> s) & 15];
  }
  return out;
}

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
  std::string line = NowRfc3339() + "\t" + path.str() + "\t" + sha + "\n";
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
