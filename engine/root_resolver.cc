// Root-confined path resolution: openat2(RESOLVE_IN_ROOT) or the walk.
#include "engine/root_resolver.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <deque>

#include "engine/fd.h"

namespace keel {

bool Openat2Wanted() {
  const char* no2 = std::getenv("KEEL_NO_OPENAT2");
  return !(no2 != nullptr && *no2 != '\0' && std::string(no2) != "0");
}

std::vector<std::string> PathComponents(std::string_view s) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i <= s.size()) {
    size_t j = s.find('/', i);
    if (j == std::string_view::npos) j = s.size();
    if (j > i) out.emplace_back(s.substr(i, j - i));
    i = j + 1;
  }
  return out;
}

Result<std::string> ReadLinkAt(int dirfd, const std::string& name) {
  std::string buf(256, '\0');
  for (;;) {
    ssize_t n = ::readlinkat(dirfd, name.c_str(), buf.data(), buf.size());
    if (n < 0) {
      return MakeError(ErrorCode::kIo, "readlink " + name + ": " + std::strerror(errno));
    }
    if (static_cast<size_t>(n) < buf.size()) {
      buf.resize(static_cast<size_t>(n));
      return buf;
    }
    buf.resize(buf.size() * 2);
  }
}

int RootResolver::Open(std::string_view rel_in, int flags) const {
  std::string_view rel = rel_in;
  while (!rel.empty() && rel.front() == '/') rel.remove_prefix(1);
  std::string rel_s = rel.empty() ? std::string(".") : std::string(rel);
  if (use_openat2_.load(std::memory_order_relaxed)) {
    struct open_how how;
    std::memset(&how, 0, sizeof how);
    how.flags = static_cast<uint64_t>(flags | O_CLOEXEC);
    how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
    if (flags & O_CREAT) how.mode = 0600;
    long fd = -1;
    for (int attempt = 0; attempt < 16; ++attempt) {
      fd = ::syscall(SYS_openat2, root_fd_, rel_s.c_str(), &how, sizeof how);
      if (fd >= 0) return static_cast<int>(fd);
      if (errno != EAGAIN && errno != EINTR) break;
    }
    if (errno != ENOSYS) return -errno;
    use_openat2_ = false;  // old kernel: walk by hand from now on
  }
  return WalkOpen(rel_s, flags);
}

// One component at a time from the root fd: absolute link targets restart at
// the root, ".." never leaves it.
int RootResolver::WalkOpen(std::string_view rel, int flags) const {
  std::vector<Fd> stack;
  {
    int r = ::fcntl(root_fd_, F_DUPFD_CLOEXEC, 0);
    if (r < 0) return -errno;
    stack.emplace_back(r);
  }
  std::deque<std::string> pending;
  for (auto& c : PathComponents(rel)) pending.push_back(c);
  int links = 0;
  while (!pending.empty()) {
    std::string comp = std::move(pending.front());
    pending.pop_front();
    if (comp == "." || comp.empty()) continue;
    if (comp == "..") {
      if (stack.size() > 1) stack.pop_back();
      continue;
    }
    bool last = pending.empty();
    int cur = stack.back().get();
    struct stat st;
    if (::fstatat(cur, comp.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
      if (errno == ENOENT && last && (flags & O_CREAT)) {
        int fd = ::openat(cur, comp.c_str(), flags | O_NOFOLLOW | O_CLOEXEC, 0600);
        return fd >= 0 ? fd : -errno;
      }
      return -errno;
    }
    if (S_ISLNK(st.st_mode)) {
      if (++links > kMaxSymlinks) return -ELOOP;
      auto target = ReadLinkAt(cur, comp);
      if (!target.ok()) return -EIO;
      if (!target->empty() && (*target)[0] == '/') stack.resize(1);
      auto tc = PathComponents(*target);
      for (auto it = tc.rbegin(); it != tc.rend(); ++it) pending.push_front(*it);
      continue;
    }
    if (last) {
      int fd = ::openat(cur, comp.c_str(), flags | O_NOFOLLOW | O_CLOEXEC, 0600);
      return fd >= 0 ? fd : -errno;
    }
    if (!S_ISDIR(st.st_mode)) return -ENOTDIR;
    int fd = ::openat(cur, comp.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) return -errno;
    stack.emplace_back(fd);
  }
  // The path named a directory already on the stack (root, or after "..").
  int fd = ::openat(stack.back().get(), ".", flags | O_CLOEXEC);
  return fd >= 0 ? fd : -errno;
}

int RootResolver::MakeDirs(std::string_view rel, mode_t mode) const {
  std::vector<std::string> comps = PathComponents(rel);
  std::string prefix;  // the components resolved so far, joined
  for (size_t i = 0; i < comps.size(); ++i) {
    const std::string& comp = comps[i];
    if (comp == "." || comp == "..") return -EINVAL;  // callers pass plain names
    std::string next = prefix.empty() ? comp : prefix + "/" + comp;
    bool last = i + 1 == comps.size();
    int fd = Open(next, O_PATH | O_DIRECTORY);
    if (fd >= 0) {
      ::close(fd);
      prefix = next;
      continue;
    }
    if (fd != -ENOENT) return fd;
    int pfd = Open(prefix, O_PATH | O_DIRECTORY);
    if (pfd < 0) return pfd;
    Fd parent(pfd);
    mode_t m = last ? mode : 0755;
    if (::mkdirat(pfd, comp.c_str(), 0700) != 0) {
      // EEXIST: made by another run just now, or a link that leads nowhere
      // inside the root (the re-open below tells).
      if (errno != EEXIST) return -errno;
      int again = Open(next, O_PATH | O_DIRECTORY);
      if (again < 0) return again == -ENOENT ? -EEXIST : again;
      ::close(again);
    } else {
      int dfd = ::openat(pfd, comp.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (dfd < 0) return -errno;
      Fd d(dfd);
      if (::fchmod(dfd, m) != 0) return -errno;
    }
    prefix = next;
  }
  return Open(prefix, O_RDONLY | O_DIRECTORY);
}

}  // namespace keel
