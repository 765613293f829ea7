// TempRoot: a temporary directory tree for tests (a --root image), with
// helpers to seed files and to snapshot the whole tree byte for byte.
#pragma once

#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>

namespace keel::testing {

class TempRoot {
 public:
  TempRoot() {
    char tmpl[] = "/tmp/keel-test-XXXXXX";
    path_ = mkdtemp(tmpl);
  }
  ~TempRoot() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempRoot(const TempRoot&) = delete;
  TempRoot& operator=(const TempRoot&) = delete;

  const std::string& path() const { return path_; }
  /// Real path of a path inside the root ("/etc/hosts" -> "<tmp>/etc/hosts").
  std::string Real(const std::string& p) const { return path_ + p; }

  void Write(const std::string& p, const std::string& content, mode_t mode = 0644) {
    std::filesystem::create_directories(std::filesystem::path(Real(p)).parent_path());
    std::ofstream(Real(p), std::ios::binary | std::ios::trunc) << content;
    ::chmod(Real(p).c_str(), mode);
  }
  void Mkdir(const std::string& p) { std::filesystem::create_directories(Real(p)); }
  void Symlink(const std::string& p, const std::string& target) {
    std::filesystem::create_directories(std::filesystem::path(Real(p)).parent_path());
    std::filesystem::create_symlink(target, Real(p));
  }
  bool Exists(const std::string& p) const {
    struct stat st;
    return ::lstat(Real(p).c_str(), &st) == 0;
  }
  std::string Read(const std::string& p) const {
    std::ifstream in(Real(p), std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }
  mode_t Mode(const std::string& p) const {
    struct stat st;
    return ::lstat(Real(p).c_str(), &st) == 0 ? (st.st_mode & 07777) : 0;
  }

  /// Every entry of the tree: path -> "type mode uid gid content-or-target".
  std::map<std::string, std::string> Snapshot() const {
    std::map<std::string, std::string> out;
    for (auto it = std::filesystem::recursive_directory_iterator(path_);
         it != std::filesystem::recursive_directory_iterator(); ++it) {
      std::string p = it->path().string();
      struct stat st;
      if (::lstat(p.c_str(), &st) != 0) continue;
      std::ostringstream desc;
      desc << (st.st_mode & S_IFMT) << ' ' << (st.st_mode & 07777) << ' ' << st.st_uid << ' '
           << st.st_gid << ' ';
      if (S_ISLNK(st.st_mode)) {
        desc << std::filesystem::read_symlink(p).string();
      } else if (S_ISREG(st.st_mode)) {
        std::ifstream in(p, std::ios::binary);
        desc << in.rdbuf();
      }
      out[p.substr(path_.size())] = desc.str();
    }
    return out;
  }

 private:
  std::string path_;
};

}  // namespace keel::testing
