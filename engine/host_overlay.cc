// The plan overlay (SPEC 5): a Host that layers a dry run's writes in memory
// over the real one and runs only read-only query commands.
#include "engine/host_overlay.h"

#include <deque>
#include <map>
#include <mutex>
#include <set>

#include "engine/root_resolver.h"

namespace keel {

namespace {

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
      return std::optional<std::string>(*it->second.content);
    }
    auto info = RawLstat(*c);
    if (!info.ok()) return info.error();
    if (!info->exists() || info->type == FileType::kSymlink) return std::optional<std::string>();
    if (info->type == FileType::kDirectory) {
      return MakeError(ErrorCode::kIo, "cannot read " + path.str() + ": is a directory");
    }
    return base_.ReadFile(*c);
  }

  Result<std::shared_ptr<const std::string>> ReadFileShared(const HostPath& path) override {
    std::lock_guard<std::recursive_mutex> lock(mu_);
    if (!layer_.empty()) {
      auto c = Canonical(path, true);
      if (c.ok()) {
        auto it = layer_.find(c->str());
        if (it != layer_.end() && it->second.kind == Node::kFile) return it->second.content;
      }
    }
    return Host::ReadFileShared(path);  // ReadFile: its errors and the base's text
  }

  Result<FileInfo> Lstat(const HostPath& path) override {
    std::lock_guard<std::recursive_mutex> lock(mu_);
    if (layer_.empty()) return base_.Lstat(path);
    auto c = Canonical(path, false);
    if (!c.ok()) return c.error();
    return RawLstat(*c);
  }

  Result<FileInfo> LstatRead(const HostPath& path, std::optional<std::string>& content) override {
    std::lock_guard<std::recursive_mutex> lock(mu_);
    if (layer_.empty()) return base_.LstatRead(path, content);
    return Host::LstatRead(path, content);  // through this layer
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
    return WriteFileShared(path, std::make_shared<const std::string>(data), attrs);
  }

  // The text is kept, not copied: an edited file is held once.
  Result<void> WriteFileShared(const HostPath& path, std::shared_ptr<const std::string> data,
                               const FileAttrs& attrs) override {
    std::lock_guard<std::recursive_mutex> lock(mu_);
    auto c = Canonical(path, true);
    if (!c.ok()) return c.error();
    if (c->IsRoot()) return MakeError(ErrorCode::kInvalid, "cannot write /");
    // Worded as the real host words it (host_real.cc): the path written,
    // after the final links (plan and apply name the same failure).
    const std::string what = "cannot write " + Shown(path, *c);
    KEEL_TRY(RequireParentDir(*c, what, c->Parent()));
    auto old = RawLstat(*c);
    if (!old.ok()) return old.error();
    if (old->type == FileType::kDirectory) {
      return MakeError(ErrorCode::kIo, what + ": is a directory");
    }
    bool was_file = old->type == FileType::kFile;
    Node n;
    n.kind = Node::kFile;
    n.info.size = data->size();
    n.content = std::move(data);
    n.info.type = FileType::kFile;
    n.info.mode = attrs.mode ? *attrs.mode : (was_file ? old->mode : 0644);
    n.info.uid = attrs.uid ? *attrs.uid : (old->exists() ? old->uid : 0);
    n.info.gid = attrs.gid ? *attrs.gid : (old->exists() ? old->gid : 0);
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
    // As mkdir(2) on the real host: a final link that does not lead to a
    // directory (dangling, or to a file) is in the way; it is not followed.
    const std::string what = "cannot create directory " + path.str();
    auto at = Canonical(path, false);
    if (!at.ok()) return at.error();
    auto here = RawLstat(*at);
    if (!here.ok()) return here.error();
    if (old->exists() || here->exists()) {
      return MakeError(ErrorCode::kConflict, what + ": something else exists there");
    }
    KEEL_TRY(RequireParentDir(*c, what, path.Parent()));
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
    const std::string what = "cannot create symlink " + path.str();
    if (c->IsRoot()) return MakeError(ErrorCode::kInvalid, what);
    if (target.empty()) return MakeError(ErrorCode::kInvalid, what + ": empty target");
    KEEL_TRY(RequireParentDir(*c, what, path.Parent()));
    auto old = RawLstat(*c);
    if (!old.ok()) return old.error();
    if (old->type == FileType::kDirectory) {
      return MakeError(ErrorCode::kConflict, what + ": is a directory");
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
    if (path.IsRoot()) return MakeError(ErrorCode::kInvalid, "cannot remove /: it is the root");
    auto c = Canonical(path, false);
    if (!c.ok()) return c.error();
    auto old = RawLstat(*c);
    if (!old.ok()) return old.error();
    if (!old->exists()) return {};
    if (old->type == FileType::kDirectory && !recursive) {
      auto names = ListDir(*c);
      if (!names.ok()) return names.error();
      if (!names->empty()) {
        return MakeError(ErrorCode::kIo, "cannot remove " + path.str() + ": Directory not empty");
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
                       "cannot set attributes of " + path.str() + ": does not exist");
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
    std::string data;                            // link target
    std::shared_ptr<const std::string> content;  // kFile: the content (shared, immutable)
    FileInfo info;                               // for kFile / kDir / kSymlink
    FileAttrs attrs;                             // for kAttrs: overrides over the base entry
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

  // `shown`: the parent as the real host names it in the same failure.
  Result<void> RequireParentDir(const HostPath& c, const std::string& what, const HostPath& shown) {
    auto parent = Stat(c.Parent());
    if (!parent.ok()) return parent.error();
    if (parent->type != FileType::kDirectory) {
      return MakeError(ErrorCode::kNotFound,
                       what + ": parent directory " + shown.str() + " does not exist");
    }
    return {};
  }

  // "/etc/hosts", or "/etc/hosts (-> /srv/hosts)" when links lead elsewhere.
  static std::string Shown(const HostPath& asked, const HostPath& real) {
    return asked == real ? asked.str() : asked.str() + " (-> " + real.str() + ")";
  }

  Host& base_;
  std::recursive_mutex mu_;  // --jobs: resources of a plan may run at once
  std::map<std::string, Node> layer_;
};

}  // namespace

std::unique_ptr<Host> MakeOverlayHost(Host& base) { return std::make_unique<OverlayHost>(base); }

}  // namespace keel
