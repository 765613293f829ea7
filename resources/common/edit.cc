#include "resources/common/edit.h"

#include <algorithm>

#include "engine/digest.h"
#include "engine/text_diff.h"

namespace keel::edit {
namespace {
Result<void> WriteEditedImpl(Host& host, const HostPath& path,
                             const std::optional<std::string>& content,
                             std::shared_ptr<const std::string> shared,
                             const std::map<HostPath, DeclaredAttrs>* declared);
// True when following the links from `path` comes back to a link already
// passed (or takes more hops than the kernel allows, 40): a loop rather
// than a link to nothing. Lexical, for the message only.
bool LinkLoops(Host& host, HostPath path) {
  std::vector<std::string> seen;
  for (int hop = 0; hop < 40; ++hop) {
    auto l = host.Lstat(path);
    if (!l.ok() || l->type != FileType::kSymlink) return false;
    if (std::find(seen.begin(), seen.end(), path.str()) != seen.end()) return true;
    seen.push_back(path.str());
    const std::string& to = l->link_target;
    if (to.starts_with("/")) {
      auto p = HostPath::Parse(to);
      if (!p.ok()) return false;
      path = *p;
    } else {
      path = path.Parent().Join(to);
    }
  }
  return true;
}
}  // namespace

Result<std::optional<std::string>> ReadEditable(Host& host, const HostPath& path) {
  auto info = host.Stat(path);
  if (!info.ok()) {
    Error e = info.error();
    return e.Context("reading " + path.str());
  }
  if (info->type == FileType::kDirectory)
    return MakeError(ErrorCode::kInvalid, path.str() + " is a directory, expected a file");
  if (info->type == FileType::kOther)
    return MakeError(
        ErrorCode::kInvalid,
        path.str() + " is not a regular file (device, socket or fifo); refusing to edit");
  if (info->type == FileType::kNone) {
    // A dangling symlink: Stat says nothing is there. Writing would replace the
    // link, so report it rather than silently creating a file in its place.
    auto l = host.Lstat(path);
    if (l.ok() && l->type == FileType::kSymlink) {
      const char* what =
          LinkLoops(host, path) ? " is a symlink loop (-> " : " is a dangling symlink (-> ";
      return MakeError(ErrorCode::kInvalid,
                       path.str() + what + l->link_target + "); refusing to edit");
    }
  }
  auto content = host.ReadFile(path);
  if (!content.ok()) {
    Error e = content.error();
    return e.Context("reading " + path.str());
  }
  if (content->has_value() && (*content)->find('\0') != std::string::npos)
    return MakeError(ErrorCode::kInvalid, path.str() + " looks binary; refusing to edit");
  return std::move(*content);
}

Change ContentChange(const HostPath& path, const std::optional<std::string>& before,
                     const std::optional<std::string>& after, bool sensitive) {
  Change c;
  c.attr = "content";
  if (before) c.from = Value("{sha256}" + Sha256Hex(*before));
  if (after) c.to = Value("{sha256}" + Sha256Hex(*after));
  if (!sensitive) {
    // Views, not value_or(""): that would copy both texts.
    c.detail = UnifiedDiff(before ? std::string_view(*before) : std::string_view(),
                           after ? std::string_view(*after) : std::string_view(),
                           before ? path.str() : std::string("/dev/null"),
                           after ? path.str() : std::string("/dev/null"));
  }
  return c;
}

Result<void> WriteEdited(Host& host, const HostPath& path, const Content& content,
                         const std::map<HostPath, DeclaredAttrs>* declared) {
  return WriteEditedImpl(host, path, *content, content->has_value() ? SharedText(content) : nullptr,
                         declared);
}

Result<void> WriteEdited(Host& host, const HostPath& path,
                         const std::optional<std::string>& content,
                         const std::map<HostPath, DeclaredAttrs>* declared) {
  return WriteEditedImpl(host, path, content, nullptr, declared);
}

namespace {
Result<void> WriteEditedImpl(Host& host, const HostPath& path,
                             const std::optional<std::string>& content,
                             std::shared_ptr<const std::string> shared,
                             const std::map<HostPath, DeclaredAttrs>* declared) {
  auto declared_for = [&](const HostPath& p) -> const DeclaredAttrs* {
    if (!declared) return nullptr;
    auto it = declared->find(p);
    return it == declared->end() ? nullptr : &it->second;
  };
  if (!content) {
    auto r = host.Remove(path, /*recursive=*/false);
    if (!r.ok()) {
      Error e = r.error();
      return e.Context("removing " + path.str());
    }
    return {};
  }
  auto info = host.Stat(path);
  if (!info.ok()) {
    Error e = info.error();
    return e.Context("writing " + path.str());
  }
  FileAttrs attrs;
  if (!info->exists()) {
    // MakeParents, with the mode/owner a `file` resource declares for a
    // directory (0755 root:root otherwise).
    std::vector<HostPath> chain;
    for (HostPath p = path.Parent(); !p.IsRoot(); p = p.Parent()) chain.push_back(p);
    for (auto it = chain.rbegin(); it != chain.rend(); ++it) {
      auto st = host.Stat(*it);
      Result<void> made;
      if (!st.ok()) {
        made = st.error();
      } else if (st->type == FileType::kDirectory) {
        continue;
      } else if (st->exists()) {
        made = MakeError(ErrorCode::kConflict,
                         "cannot create " + path.str() + ": " + it->str() + " is not a directory");
      } else {
        FileAttrs dir;
        dir.mode = 0755;
        if (const DeclaredAttrs* d = declared_for(*it)) {
          if (d->attrs.mode) dir.mode = d->attrs.mode;
          dir.uid = d->attrs.uid;
          dir.gid = d->attrs.gid;
        }
        made = host.MakeDir(*it, dir);
      }
      if (!made.ok()) {
        Error e = made.error();
        return e.Context("creating the parent directories of " + path.str());
      }
    }
    attrs.mode = 0644;
    attrs.uid = 0;
    attrs.gid = 0;
    if (const DeclaredAttrs* create = declared_for(path)) {
      // A `file` resource's mode/owner: the temp file gets them before the
      // content, so the file is never world-readable on the way.
      if (create->attrs.mode) attrs.mode = create->attrs.mode;
      if (create->attrs.uid) attrs.uid = create->attrs.uid;
      if (create->attrs.gid) attrs.gid = create->attrs.gid;
    }
  }
  auto w = shared ? host.WriteFileShared(path, std::move(shared), attrs)
                  : host.WriteFileAtomic(path, *content, attrs);
  if (!w.ok()) {
    Error e = w.error();
    return e.Context("writing " + path.str());
  }
  return {};
}

}  // namespace

}  // namespace keel::edit

namespace keel::edit {

Content MakeContent(std::optional<std::string> text) {
  return std::make_shared<const std::optional<std::string>>(std::move(text));
}

std::shared_ptr<const std::string> SharedText(const Content& c) {
  return std::shared_ptr<const std::string>(c, &**c);
}

std::string EditSession::Digest(const std::optional<std::string>& c) {
  return c ? "+" + Sha256Hex(*c) : std::string("-");
}

Result<std::map<HostPath, EditSession::Entry>::iterator> EditSession::Load(Host& host,
                                                                           const HostPath& path) {
  auto it = files_.find(path);
  if (it != files_.end()) return it;
  if (host.dry_run()) {
    // What this run wrote to the overlay, when the overlay still holds
    // that very text: no copy (a large file is held once).
    auto w = written_.find(path);
    Content mine = w == written_.end() ? nullptr : w->second.lock();
    if (mine && mine->has_value()) {
      auto now = host.ReadFileShared(path);
      if (now.ok() && now->get() == &**mine) {
        ++reads_;
        Entry e;
        e.base_digest = Digest(*mine);
        e.current = std::move(mine);
        return files_.emplace(path, std::move(e)).first;
      }
    }
  }
  auto content = ReadEditable(host, path);
  if (!content.ok()) return content.error();
  ++reads_;
  Entry e;
  e.base_digest = Digest(*content);
  e.current = MakeContent(std::move(*content));
  return files_.emplace(path, std::move(e)).first;
}

Result<Content> EditSession::ReadShared(Host& host, const HostPath& path) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = Load(host, path);
  if (!it.ok()) return it.error();
  return (*it)->second.current;
}

Result<std::optional<std::string>> EditSession::Read(Host& host, const HostPath& path) {
  auto c = ReadShared(host, path);
  if (!c.ok()) return c.error();
  return **c;
}

Result<void> EditSession::Stage(Host& host, const HostPath& path,
                                std::optional<std::string> content) {
  return Stage(host, path, MakeContent(std::move(content)));
}

Result<void> EditSession::Stage(Host& host, const HostPath& path, Content content) {
  std::lock_guard<std::mutex> lock(mu_);
  auto found = Load(host, path);
  if (!found.ok()) return found.error();
  Entry& e = (*found)->second;
  if (host.dry_run()) {
    // The overlay is memory: write at once so every other reader of the
    // host (a file resource, an exec's creates) sees the planned state.
    KEEL_TRY(WriteEdited(host, path, content, &declared_));
    written_[path] = content;
    e.base_digest = Digest(*content);
    e.current = std::move(content);
    e.dirty = false;
    return {};
  }
  e.current = std::move(content);
  e.dirty = Digest(*e.current) != e.base_digest;
  return {};
}

Result<void> EditSession::Flush(Host& host) { return FlushSome(host, nullptr); }

Result<void> EditSession::Flush(Host& host, const std::vector<HostPath>& paths) {
  return FlushSome(host, &paths);
}

Result<void> EditSession::FlushSome(Host& host, const std::vector<HostPath>* only) {
  std::lock_guard<std::mutex> lock(mu_);
  std::optional<Error> first;
  for (auto it = files_.begin(); it != files_.end();) {
    const HostPath& path = it->first;
    Entry& e = it->second;
    bool wanted = !only || std::find(only->begin(), only->end(), path) != only->end();
    if (e.dirty && !wanted) {
      ++it;
      continue;
    }
    if (e.dirty) {
      auto now = ReadEditable(host, path);
      if (!now.ok()) {
        if (!first) first = now.error();
      } else if (Digest(*now) != e.base_digest) {
        if (!first)
          first = MakeError(ErrorCode::kConflict,
                            path.str() +
                                " was changed by something else during this run after keel read "
                                "it; not overwriting (order that resource before or after the "
                                "editing resources of this file)");
      } else {
        now->reset();  // freed before the write
        if (auto w = WriteEdited(host, path, *e.current, &declared_); !w.ok()) {
          if (!first) first = w.error();
        } else {
          ++writes_;
        }
      }
    }
    // Forgotten: the next read sees the disk (and whatever ran meanwhile).
    it = files_.erase(it);
  }
  if (first) return *first;
  return {};
}

void EditSession::Declare(const HostPath& path, DeclaredAttrs attrs) {
  std::lock_guard<std::mutex> lock(mu_);
  declared_.emplace(path, std::move(attrs));
}

std::optional<DeclaredAttrs> EditSession::Declared(const HostPath& path) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = declared_.find(path);
  if (it == declared_.end()) return std::nullopt;
  return it->second;
}

}  // namespace keel::edit
