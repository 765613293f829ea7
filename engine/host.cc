// The non-virtual parts of host.h: HostPath, MakeParents, user/group lookup,
// HasProgram and Command::Display.
#include "engine/host.h"

#include <vector>

#include "engine/passwd.h"

namespace keel {

namespace {

// Splits on '/' and resolves "." / ".." (clamped at the root) onto `parts`.
void PushComponents(std::vector<std::string>& parts, std::string_view text) {
  size_t i = 0;
  while (i <= text.size()) {
    size_t j = text.find('/', i);
    if (j == std::string_view::npos) j = text.size();
    std::string_view comp = text.substr(i, j - i);
    if (comp.empty() || comp == ".") {
      // skip
    } else if (comp == "..") {
      if (!parts.empty()) parts.pop_back();
    } else {
      parts.emplace_back(comp);
    }
    i = j + 1;
  }
}

std::string JoinComponents(const std::vector<std::string>& parts) {
  if (parts.empty()) return "/";
  std::string out;
  for (const auto& p : parts) {
    out += '/';
    out += p;
  }
  return out;
}

std::vector<std::string> SplitPath(const std::string& p) {
  std::vector<std::string> parts;
  PushComponents(parts, p);
  return parts;
}

bool NeedsQuoting(const std::string& s) {
  if (s.empty()) return true;
  for (char c : s) {
    if (!(isalnum(static_cast<unsigned char>(c)) || c == '/' || c == '.' || c == '-' || c == '_' ||
          c == '=' || c == ':' || c == ',' || c == '+' || c == '@' || c == '%')) {
      return true;
    }
  }
  return false;
}

std::string ShellQuote(const std::string& s) {
  if (!NeedsQuoting(s)) return s;
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  out += '\'';
  return out;
}

// Looks `name` up in a colon-separated database (passwd / group) of the root.
Result<uint32_t> LookupId(Host& host, std::string_view name, const char* file, const char* what) {
  if (auto id = ParseId(name)) return *id;
  // Named inside the root, like every path in a message (issue 11 item 10).
  std::string where = file;
  if (name.empty()) return MakeError(ErrorCode::kInvalid, std::string("empty ") + what + " name");
  auto content = host.ReadFile(*HostPath::Parse(file));
  if (!content.ok()) return content.error();
  if (content->has_value()) {
    if (auto entry = FindIdByName(**content, name)) {
      if (entry->id) return *entry->id;
      return MakeError(ErrorCode::kInvalid, "malformed entry for " + std::string(what) + " '" +
                                                std::string(name) + "' in " + where);
    }
  }
  return MakeError(ErrorCode::kNotFound,
                   "no " + std::string(what) + " '" + std::string(name) + "' in " + where);
}

}  // namespace

bool IsNormalPath(std::string_view text) {
  if (text.empty() || text[0] != '/') return false;
  if (text == "/") return true;
  if (text.back() == '/') return false;
  size_t i = 1;  // after a '/'
  while (i <= text.size()) {
    size_t j = text.find('/', i);
    if (j == std::string_view::npos) j = text.size();
    std::string_view comp = text.substr(i, j - i);
    if (comp.empty() || comp == "." || comp == "..") return false;
    i = j + 1;
  }
  return true;
}

Result<HostPath> HostPath::Parse(std::string_view text) {
  if (text.empty() || text[0] != '/') {
    return MakeError(ErrorCode::kInvalid, "path '" + std::string(text) + "' is not absolute");
  }
  if (text.find('\0') != std::string_view::npos) {
    return MakeError(ErrorCode::kInvalid, "path contains a NUL byte");
  }
  if (IsNormalPath(text)) return HostPath(std::string(text));  // the common case, no copies
  std::vector<std::string> parts;
  PushComponents(parts, text);
  return HostPath(JoinComponents(parts));
}

HostPath HostPath::Parent() const {
  size_t slash = p_.rfind('/');
  if (slash == 0 || slash == std::string::npos) return HostPath();
  return HostPath(p_.substr(0, slash));
}

std::string HostPath::Basename() const {
  if (p_ == "/") return "/";
  return p_.substr(p_.rfind('/') + 1);
}

HostPath HostPath::Join(std::string_view rel) const {
  std::vector<std::string> parts = SplitPath(p_);
  PushComponents(parts, rel);
  return HostPath(JoinComponents(parts));
}

bool HostPath::IsAncestorOf(const HostPath& other) const {
  if (other.p_ == p_) return false;
  if (p_ == "/") return true;
  return other.p_.size() > p_.size() && other.p_.compare(0, p_.size(), p_) == 0 &&
         other.p_[p_.size()] == '/';
}

std::string Command::Display() const {
  if (!shell.empty()) return "/bin/sh -c " + ShellQuote(shell);
  std::string out;
  for (const auto& a : argv) {
    if (!out.empty()) out += ' ';
    out += ShellQuote(a);
  }
  return out;
}

Result<std::vector<HostPath>> MakeParents(Host& host, const HostPath& path) {
  std::vector<HostPath> chain;
  for (HostPath p = path.Parent(); !p.IsRoot(); p = p.Parent()) chain.push_back(p);
  std::vector<HostPath> created;
  for (auto it = chain.rbegin(); it != chain.rend(); ++it) {
    auto info = host.Stat(*it);
    if (!info.ok()) return info.error();
    if (info->type == FileType::kDirectory) continue;
    if (info->exists()) {
      return MakeError(ErrorCode::kConflict,
                       "cannot create " + path.str() + ": " + it->str() + " is not a directory");
    }
    FileAttrs attrs;
    attrs.mode = 0755;
    auto made = host.MakeDir(*it, attrs);
    if (!made.ok()) return made.error();
    created.push_back(*it);
  }
  return created;
}

Result<FileInfo> Host::LstatRead(const HostPath& path, std::optional<std::string>& content) {
  content.reset();
  auto st = Lstat(path);
  if (!st.ok() || st->type != FileType::kFile) return st;
  auto data = ReadFile(path);
  if (!data.ok()) return data.error();
  if (!data->has_value()) return FileInfo{};  // removed between the two looks
  content = std::move(*data);
  return st;
}

Result<std::shared_ptr<const std::string>> Host::ReadFileShared(const HostPath& path) {
  auto data = ReadFile(path);
  if (!data.ok()) return data.error();
  if (!data->has_value()) return std::shared_ptr<const std::string>();
  return std::shared_ptr<const std::string>(std::make_shared<std::string>(std::move(**data)));
}

Result<void> Host::WriteFileShared(const HostPath& path, std::shared_ptr<const std::string> data,
                                   const FileAttrs& attrs) {
  return WriteFileAtomic(path, *data, attrs);
}

std::vector<Result<void>> Host::WriteFilesAtomic(std::span<const Write> writes) {
  std::vector<Result<void>> out;
  out.reserve(writes.size());
  for (size_t k = 0; k < writes.size(); ++k) {
    if (auto e = FailedBefore(writes, k, out)) {
      out.push_back(*e);
      continue;
    }
    out.push_back(WriteFileAtomic(writes[k].path, writes[k].data, writes[k].attrs));
  }
  return out;
}

std::optional<Error> Host::FailedBefore(std::span<const Write> writes, size_t k,
                                        std::span<const Result<void>> out) {
  for (size_t j : writes[k].after) {
    if (j >= k || j >= out.size() || out[j].ok()) continue;
    return MakeError(ErrorCode::kIo, "cannot write " + writes[k].path.str() +
                                         ": not written, it must follow " + writes[j].path.str() +
                                         ", whose write failed");
  }
  return std::nullopt;
}

Result<uint32_t> LookupUid(Host& host, std::string_view name) {
  return LookupId(host, name, "/etc/passwd", "user");
}

Result<uint32_t> LookupGid(Host& host, std::string_view name) {
  return LookupId(host, name, "/etc/group", "group");
}

bool HasProgram(Host& host, std::string_view name) {
  if (name.empty()) return false;
  auto executable = [&](const HostPath& p) {
    auto info = host.Stat(p);
    return info.ok() && info->type == FileType::kFile && (info->mode & 0111) != 0;
  };
  if (name.find('/') != std::string_view::npos) {
    auto p = HostPath::Parse(name);
    return p.ok() && executable(*p);
  }
  for (const char* dir :
       {"/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"}) {
    if (executable(HostPath::Parse(dir)->Join(name))) return true;
  }
  return false;
}

}  // namespace keel
