// file: a regular file, directory or symlink at one path (SPEC 3.1).
//
// Choices (README):
//  - No ensure and no content/source/template/target: only mode/owner/group
//    of whatever is at the path are managed; nothing is created. When
//    nothing is there, the resource is unchanged and a warning says so.
//  - ensure file/directory and attribute-only management follow a symlink
//    at the path (inside the root, SPEC 6): the link's target is written,
//    as an editor would. ensure link/absent act on the link itself.
//  - A missing parent directory is a failure ("parent directory /x does not
//    exist"), as in Puppet: declare the directory as a file resource; the
//    graph orders parents first.
//  - A directory is replaced by a file or link (or removed by ensure absent)
//    only with force: true. A file is replaced by a directory without force.
//  - source/template are read from the config repo through a second,
//    read-only Host rooted at the repo directory, so a source never resolves
//    outside the repo (symlinks included).
//  - template is rendered with `facts` only: manifest variables are resolved
//    at load time and do not exist at apply time. Undefined names are errors.
//  - purge removes, recursively, every entry below the directory that is
//    neither a path of a file resource of this run nor an ancestor of one.
//  - New files get 0644, new directories 0755, owned by root, unless given.
#include <map>
#include <mutex>
#include <set>
#include <unordered_map>
#include <vector>

#include "engine/host.h"
#include "engine/passwd.h"
#include "engine/provider.h"
#include "engine/registry.h"
#include "engine/text_diff.h"
#include "engine/text_lines.h"
#include "resources/builtin.h"
#include "resources/common/edit.h"
#include "resources/file/file_content.h"
#include "resources/file/file_util.h"

namespace keel {
namespace {

using file::ContentSum;
using file::FormatMode;
using file::ParseMode;

TypeSchema Schema() {
  return {.name = "file",
          .doc = "A regular file, directory or symbolic link: content, mode and ownership.",
          .attrs = {
              {.name = "path",
               .kind = AttrKind::kAbsPath,
               .role = AttrRole::kNamevar,
               .doc = "Absolute path of the file inside the root. Defaults to the title."},
              {.name = "ensure",
               .allowed = {"file", "directory", "link", "absent"},
               .doc = "What should be at the path. Default: file when content, source or template "
                      "is given, link when target is given; otherwise only mode/owner/group of "
                      "whatever exists are managed and nothing is created."},
              {.name = "content", .doc = "The exact content of the file."},
              {.name = "source",
               .doc = "Path of a file in the config repo (relative to the manifest) whose bytes "
                      "become the content."},
              {.name = "template",
               .doc = "Path of a file in the config repo rendered with {{ }} expressions; only "
                      "`facts` is defined at apply time."},
              {.name = "mode", .kind = AttrKind::kMode, .doc = "Permission bits, e.g. \"0644\"."},
              {.name = "owner", .doc = "User name (from the root's /etc/passwd) or uid."},
              {.name = "group", .doc = "Group name (from the root's /etc/group) or gid."},
              {.name = "target", .doc = "Target of the symbolic link (ensure: link)."},
              {.name = "backup",
               .kind = AttrKind::kBool,
               .role = AttrRole::kParameter,
               .default_value = Value(true),
               .doc = "Save replaced or removed content in the backup store."},
              {.name = "force",
               .kind = AttrKind::kBool,
               .role = AttrRole::kParameter,
               .default_value = Value(false),
               .doc = "Replace (or remove) a directory by a file or a link."},
              {.name = "purge",
               .kind = AttrKind::kBool,
               .role = AttrRole::kParameter,
               .default_value = Value(false),
               .doc = "ensure: directory only. Remove every entry below the directory that no file "
                      "resource of this run manages (recursively)."},
          }};
}

/// The ensure in effect: explicit, else derived; "" = attributes only.
std::string EffectiveEnsure(const Resource& r) {
  if (r.Has("ensure")) return r.GetString("ensure");
  if (r.Has("content") || r.Has("source") || r.Has("template")) return "file";
  if (r.Has("target")) return "link";
  return "";
}

void Validate(const Resource& r, std::vector<AttrProblem>& problems) {
  int sources = r.Has("content") + r.Has("source") + r.Has("template");
  if (sources > 1)
    problems.push_back({"content", "only one of content, source and template may be given"});
  std::string ensure = EffectiveEnsure(r);
  if (r.Has("target") && ensure != "link")
    problems.push_back({"target", "target is only valid with ensure: link"});
  if (ensure == "link" && !r.Has("target"))
    problems.push_back({"ensure", "ensure: link needs a target"});
  if (sources > 0 && ensure != "file")
    problems.push_back({"ensure", "content, source and template need ensure: file, not " +
                                      (ensure.empty() ? std::string("none") : ensure)});
  if (ensure == "link" || ensure == "absent")
    for (const char* a : {"mode", "owner", "group"})
      if (r.Has(a))
        problems.push_back({a, std::string(a) + " is not managed with ensure: " + ensure});
  if (r.GetBool("purge", false) && ensure != "directory")
    problems.push_back({"purge", "purge needs ensure: directory"});
  // The root itself can only be a directory: never removed, replaced or purged.
  if (auto p = HostPath::Parse(r.GetString("path")); p.ok() && p->IsRoot()) {
    if (ensure != "directory" && !ensure.empty())
      problems.push_back({"ensure", "the root / can only be ensure: directory"});
    if (r.GetBool("purge", false)) problems.push_back({"purge", "purge of / is refused"});
  }
  for (const char* a : {"owner", "group"})
    if (r.Has(a) && r.GetString(a).empty())
      problems.push_back({a, std::string(a) + " must not be empty"});
  for (const char* a : {"source", "template"})
    if (r.Has(a) && r.GetString(a).empty())
      problems.push_back({a, std::string(a) + " must not be empty"});
}

const char* TypeName(FileType t) {
  switch (t) {
    case FileType::kNone:
      return "absent";
    case FileType::kFile:
      return "file";
    case FileType::kDirectory:
      return "directory";
    case FileType::kSymlink:
      return "link";
    case FileType::kOther:
      return "other";
  }
  return "other";
}

std::optional<Value> TypeValue(FileType t) {
  if (t == FileType::kNone) return std::nullopt;
  return Value(TypeName(t));
}

/// What Read observed of one resource, kept for its Diff and Apply.
struct Observed {
  std::string ensure;  // effective
  HostPath path;       // as declared
  HostPath real;       // after following a final symlink (ensure file/directory/"")
  FileInfo path_info;  // of `path` (Lstat)
  FileInfo info;       // of `real` (Lstat)
  std::optional<std::string> old_content;  // when info is a file
  std::optional<std::string> new_content;  // from content/source/template
  std::optional<uint32_t> uid, gid;        // wanted owner/group, resolved
  std::string owner_name, group_name;      // current, for messages
  std::vector<std::string> purge;          // unmanaged entries below a directory
};

Result<HostPath> ParsePath(const std::string& text) {
  auto p = HostPath::Parse(text);
  if (!p.ok()) return p.error();
  return *p;
}

/// Follows a final symlink at `path` to what it names inside the root.
Result<HostPath> FollowLinks(Host& host, HostPath path, FileInfo& info) {
  for (int hops = 0; hops < 40; ++hops) {
    auto st = host.Lstat(path);
    if (!st.ok()) return st.error().Context("reading " + path.str());
    info = *st;
    if (info.type != FileType::kSymlink) return path;
    const std::string& t = info.link_target;
    if (!t.empty() && t[0] == '/') {
      auto next = HostPath::Parse(t);
      if (!next.ok()) return next.error();
      path = *next;
    } else {
      path = path.Parent().Join(t);
    }
  }
  return MakeError(ErrorCode::kInvalid, path.str() + ": too many levels of symbolic links");
}

// uid or gid -> name as FindNameById answers it (the first line of the id),
// the database parsed once per content instead of once per lookup (two per
// managed file: 8 % of a no-op run of 1,000 files). Thread-safe.
class IdNames {
 public:
  explicit IdNames(const char* db) : path_(*HostPath::Parse(db)) {}
  std::string Name(Host& host, uint32_t id) {
    auto text = host.ReadFile(path_);
    if (!text.ok() || !text->has_value()) return std::to_string(id);
    std::lock_guard<std::mutex> lock(mu_);
    if (!parsed_ || text_ != **text) {
      text_ = std::move(**text);
      parsed_ = true;
      names_.clear();
      for (std::string_view line : SplitLines(text_))
        if (auto e = ParseIdDbLine(line); e && e->id)
          names_.emplace(*e->id, std::string(e->name));  // the first line of an id wins
    }
    auto it = names_.find(id);
    return it == names_.end() ? std::to_string(id) : it->second;
  }

 private:
  const HostPath path_;
  std::mutex mu_;
  bool parsed_ = false;
  std::string text_;
  std::unordered_map<uint32_t, std::string> names_;
};

class FileProvider : public Provider {
 public:
  Result<void> Prefetch(std::span<const Resource* const> all, Host& host,
                        RunContext& ctx) override {
    std::lock_guard<std::mutex> lock(mu_);
    for (const Resource* r : all)
      if (auto p = HostPath::Parse(r->GetString("path")); p.ok()) {
        managed_.insert(p->str());
        DeclareForEdits(*r, *p, host, ctx);
      }
    return {};
  }

  // Only mode/owner/group (no ensure): a file an editing type (line,
  // shellvar, ...) creates in this run gets them from the start (issue 11
  // item 8). Names that do not resolve are left out (this resource fails
  // on them itself).
  static void DeclareForEdits(const Resource& r, const HostPath& p, Host& host, RunContext& ctx) {
    if (!EffectiveEnsure(r).empty()) return;
    edit::DeclaredAttrs d;
    d.by = r.id();
    if (auto m = ParseMode(r.GetString("mode")); r.Has("mode") && m) {
      d.attrs.mode = *m;
      d.mode = FormatMode(*m);
    }
    if (r.Has("owner"))
      if (auto uid = LookupUid(host, r.GetString("owner")); uid.ok()) {
        d.attrs.uid = *uid;
        d.owner = r.GetString("owner");
      }
    if (r.Has("group"))
      if (auto gid = LookupGid(host, r.GetString("group")); gid.ok()) {
        d.attrs.gid = *gid;
        d.group = r.GetString("group");
      }
    if (d.attrs.mode || d.attrs.uid || d.attrs.gid) edit::Session(ctx).Declare(p, std::move(d));
  }

  Result<Observation> Read(const Resource& want, Host& host, RunContext& ctx) override {
    auto obs = Observe(want, host, ctx);
    if (!obs.ok()) return obs.error();
    // The state of the declared path, comparable with the attributes (and
    // printable by `keel resource`): a link is shown as a link.
    Observation have;
    const Observed& o = have.SetState(std::move(obs).value());
    if (o.path_info.type == FileType::kSymlink) {
      have.Set("ensure", Value("link"));
      have.Set("target", Value(o.path_info.link_target));
    } else {
      have.Set("ensure", Value(TypeName(o.info.type)));
      if (o.info.exists()) {
        have.Set("mode", Value(FormatMode(o.info.mode)));
        have.Set("owner", Value(o.owner_name));
        have.Set("group", Value(o.group_name));
      }
      if (o.old_content && o.old_content->size() > kMaxShownContent)
        have.Set("#", Value(ContentNotShown("content", *o.old_content)));
      else if (o.old_content)
        have.Set("content", Value(*o.old_content));
    }
    if (!o.purge.empty()) {
      List l;
      for (const auto& p : o.purge) l.push_back(Value(p));
      have.Set("purge", Value(std::move(l)));
    }
    if (o.ensure.empty() && !o.info.exists())
      ctx.Warn(want.id() + ": nothing at " + o.path.str() +
               "; only mode/owner/group are given, so it creates nothing (an editing resource "
               "that creates the file in this run gives it them)");
    return have;
  }

  std::vector<Change> Diff(const Resource& want, const Observation& have,
                           RunContext& ctx) override {
    (void)ctx;
    const Observed* seen = have.State<Observed>();
    if (!seen) return AttrDiff(want, have);
    const Observed& o = *seen;

    std::vector<Change> out;
    const FileType t = o.info.type;
    const std::string& e = o.ensure;
    if (e == "absent") {
      if (t != FileType::kNone) out.push_back({"ensure", TypeValue(t), Value("absent"), ""});
      return out;
    }
    if (e == "link") {
      const std::string target = want.GetString("target");
      if (t != FileType::kSymlink) out.push_back({"ensure", TypeValue(t), Value("link"), ""});
      if (t != FileType::kSymlink || o.info.link_target != target) {
        std::optional<Value> from;
        if (t == FileType::kSymlink) from = Value(o.info.link_target);
        out.push_back({"target", from, Value(target), ""});
      }
      return out;
    }
    if (e.empty() && t == FileType::kNone) return out;

    bool creating = false;
    if (e == "file" && t != FileType::kFile) creating = true;
    if (e == "directory" && t != FileType::kDirectory) creating = true;
    if (creating) out.push_back({"ensure", TypeValue(t), Value(e), ""});

    if (e == "file" && o.new_content &&
        (creating || !o.old_content || *o.old_content != *o.new_content)) {
      Change c{"content", std::nullopt, Value(ContentSum(*o.new_content)), ""};
      if (!creating && o.old_content) c.from = Value(ContentSum(*o.old_content));
      if (!want.sensitive)
        // Views: value_or("") would copy the old content (50 MB for a 50 MB file).
        c.detail = UnifiedDiff(
            creating || !o.old_content ? std::string_view() : std::string_view(*o.old_content),
            *o.new_content, o.path.str(), o.path.str());
      out.push_back(std::move(c));
    }
    if (const Value* m = want.Get("mode")) {
      auto wm = ParseMode(m->ToString());
      if (wm && (creating || (o.info.mode & 07777) != *wm)) {
        std::optional<Value> from;
        if (!creating) from = Value(FormatMode(o.info.mode));
        out.push_back({"mode", from, Value(FormatMode(*wm)), ""});
      }
    }
    if (o.uid && (creating || o.info.uid != *o.uid)) {
      std::optional<Value> from;
      if (!creating) from = Value(o.owner_name);
      out.push_back({"owner", from, Value(want.GetString("owner")), ""});
    }
    if (o.gid && (creating || o.info.gid != *o.gid)) {
      std::optional<Value> from;
      if (!creating) from = Value(o.group_name);
      out.push_back({"group", from, Value(want.GetString("group")), ""});
    }
    if (!creating)
      for (const auto& p : o.purge) out.push_back({"purge", Value(p), std::nullopt, ""});
    return out;
  }

  Result<void> Apply(const Resource& want, const Observation& have, std::span<const Change> changes,
                     Host& host, RunContext& ctx, Outcome& out) override {
    (void)ctx;
    const Observed* seen = have.State<Observed>();
    if (!seen) return MakeError(ErrorCode::kInternal, want.id() + ": observation missing");
    const Observed& o = *seen;
    std::set<std::string> attrs;
    for (const auto& c : changes) attrs.insert(c.attr);
    const bool backup = want.GetBool("backup", true);
    const bool force = want.GetBool("force", false);
    const FileType t = o.info.type;

    if (o.ensure == "absent") {
      if (!attrs.count("ensure")) return {};
      if (t == FileType::kDirectory && !force)
        return MakeError(ErrorCode::kConflict,
                         o.path.str() + " is a directory; use force: true to remove it");
      return host.Remove(o.path, t == FileType::kDirectory, backup);
    }

    if (o.ensure == "link") {
      if (!attrs.count("ensure") && !attrs.count("target")) return {};
      KEEL_TRY(CheckParent(host, o.path));
      KEEL_TRY(ReplaceExisting(host, o, force, backup, "a link"));
      return host.Symlink(o.path, want.GetString("target"));
    }

    FileAttrs fa;
    fa.backup = backup;
    if (attrs.count("mode")) fa.mode = ParseMode(want.GetString("mode"));
    if (attrs.count("owner")) fa.uid = o.uid;
    if (attrs.count("group")) fa.gid = o.gid;

    if (o.ensure == "file" && (attrs.count("ensure") || attrs.count("content"))) {
      if (attrs.count("ensure")) {
        KEEL_TRY(CheckParent(host, o.real));
        KEEL_TRY(ReplaceExisting(host, o, force, backup, "a file"));
      }
      // Not value_or(old_content.value_or("")): its argument would copy the
      // old content even when new content is given.
      std::string data = o.new_content   ? *o.new_content
                         : o.old_content ? *o.old_content
                                         : std::string();
      // A new file gets the documented defaults even when only some are given.
      if (t != FileType::kFile) {
        if (!fa.mode) fa.mode = 0644;
      }
      if (host.dry_run()) return host.WriteFileAtomic(o.real, data, fa);
      // Queued: Flush writes the files of a run of file resources together,
      // paying for durability once (Host::WriteFilesAtomic).
      std::lock_guard<std::mutex> lock(mu_);
      pending_.push_back({want.id(), Host::Write{o.real, std::move(data), fa}});
      out.deferred = true;
      return {};
    }
    if (o.ensure == "directory" && attrs.count("ensure")) {
      KEEL_TRY(CheckParent(host, o.real));
      if (t != FileType::kNone) {
        if (t == FileType::kDirectory)
          return MakeError(ErrorCode::kInternal, "already a directory");
        KEEL_TRY(host.Remove(o.real, false, backup));
      }
      if (!fa.mode) fa.mode = 0755;
      KEEL_TRY(host.MakeDir(o.real, fa));
      // MakeDir may leave mode/owner of the new directory to the umask.
      return host.SetAttrs(o.real, fa);
    }
    if (fa.mode || fa.uid || fa.gid) KEEL_TRY(host.SetAttrs(o.real, fa));
    for (const auto& c : changes) {
      if (c.attr != "purge" || !c.from) continue;
      auto p = HostPath::Parse(c.from->ToString());
      if (!p.ok()) return p.error();
      KEEL_TRY(host.Remove(*p, true, backup));
    }
    return {};
  }

  /// A file that requires other files runs behind their queued writes when
  /// its own change is a queued write too (below): a chain of files is one
  /// batch. Its Read cannot see their new content, so a path that one of
  /// them writes is never deferred (two resources on one file through a
  /// symlink), nor is anything done at once (a directory, a link, a
  /// removal, attributes alone, replacing what stands at the path).
  bool FlushesInOrder() const override { return true; }
  bool DefersApply(const Resource& want, const Observation& have,
                   std::span<const Change> changes) const override {
    const Observed* o = have.State<Observed>();
    if (!o || o->ensure != "file") return false;
    bool content = false;
    for (const auto& c : changes) content |= c.attr == "ensure" || c.attr == "content";
    if (!content) return false;
    if (o->info.type != FileType::kFile && o->info.type != FileType::kNone) return false;
    (void)want;
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& p : pending_)
      if (p.write.path == o->real || p.write.path == o->path) return false;
    return true;
  }

  Result<void> Flush(std::span<const Resource* const> changed, Host& host,
                     RunContext& ctx) override {
    return FlushBatch(changed, {}, host, ctx);
  }

  /// The queued writes of `changed`, all at once. A failed write fails its
  /// resource only (FlushFailedIds), and the writes of the resources that
  /// require it (`after`), which are not done.
  Result<void> FlushBatch(std::span<const Resource* const> changed,
                          std::span<const std::vector<size_t>> after, Host& host,
                          RunContext& ctx) override {
    (void)ctx;
    failed_ids_.clear();
    std::map<std::string, size_t> ids;  // id -> position in `changed`
    for (size_t k = 0; k < changed.size(); ++k) ids.emplace(changed[k]->id(), k);
    std::vector<std::string> write_ids;
    std::vector<Host::Write> writes;
    std::map<size_t, size_t> write_of;  // position in `changed` -> its write
    {
      std::lock_guard<std::mutex> lock(mu_);
      std::vector<Pending> rest;
      for (auto& p : pending_) {
        auto it = ids.find(p.id);
        if (it != ids.end()) {
          write_of.emplace(it->second, writes.size());
          write_ids.push_back(std::move(p.id));
          writes.push_back(std::move(p.write));
        } else {
          rest.push_back(std::move(p));
        }
      }
      pending_.swap(rest);
    }
    if (writes.empty()) return {};
    // Each write follows the writes of what its resource requires (queued
    // first: pending_ is in the order Apply ran).
    for (const auto& [k, w] : write_of) {
      if (k >= after.size()) continue;
      for (size_t a : after[k])
        if (auto it = write_of.find(a); it != write_of.end() && it->second < w)
          writes[w].after.push_back(it->second);
    }
    auto results = host.WriteFilesAtomic(writes);
    std::string first;
    for (size_t k = 0; k < results.size(); ++k) {
      if (results[k].ok()) continue;
      failed_ids_.push_back(write_ids[k]);
      if (first.empty()) first = results[k].error().message;
    }
    if (failed_ids_.empty()) return {};
    if (failed_ids_.size() == 1) return MakeError(ErrorCode::kIo, first);
    return MakeError(ErrorCode::kIo, first + " (and " + std::to_string(failed_ids_.size() - 1) +
                                         " more writes failed)");
  }
  std::vector<std::string> FlushFailedIds() const override { return failed_ids_; }
  bool FlushBeforeOtherTypes() const override { return true; }

 private:
  struct Pending {
    std::string id;
    Host::Write write;
  };
  std::vector<Pending> pending_;         // writes queued by Apply, done by Flush (mu_)
  std::vector<std::string> failed_ids_;  // of the last Flush

  /// Removes what stands where a file/link must go; a directory needs force.
  static Result<void> ReplaceExisting(Host& host, const Observed& o, bool force, bool backup,
                                      const char* what) {
    const HostPath& at = o.ensure == "link" ? o.path : o.real;
    switch (o.info.type) {
      case FileType::kNone:
      case FileType::kSymlink:  // Symlink() replaces a link atomically
        return {};
      case FileType::kFile:
        if (o.ensure == "file") return {};
        return host.Remove(at, false, backup);
      case FileType::kDirectory:
        if (!force)
          return MakeError(ErrorCode::kConflict, at.str() +
                                                     " is a directory; use force: true to "
                                                     "replace it by " +
                                                     what);
        return host.Remove(at, true, backup);
      case FileType::kOther:
        return host.Remove(at, false, backup);
    }
    return {};
  }

  static Result<void> CheckParent(Host& host, const HostPath& path) {
    if (path.IsRoot()) return {};
    HostPath parent = path.Parent();
    auto st = host.Stat(parent);
    if (!st.ok()) return st.error().Context("reading " + parent.str());
    if (st->type != FileType::kDirectory)
      return MakeError(ErrorCode::kNotFound,
                       "parent directory " + parent.str() +
                           (st->exists() ? " is not a directory" : " does not exist"));
    return {};
  }

  Result<Observed> Observe(const Resource& want, Host& host, RunContext& ctx) {
    Observed o;
    o.ensure = EffectiveEnsure(want);
    auto path = ParsePath(want.GetString("path"));
    if (!path.ok()) return path.error();
    o.path = o.real = *path;
    // One look at the path: its type and, for a regular file, its content.
    std::optional<std::string> found;
    auto st = host.LstatRead(o.path, found);
    if (!st.ok()) return st.error().Context("reading " + o.path.str());
    o.path_info = o.info = *st;
    if (o.path_info.type == FileType::kSymlink && o.ensure != "link" && o.ensure != "absent") {
      auto real = FollowLinks(host, o.path, o.info);
      if (!real.ok()) return real.error();
      o.real = *real;
    }
    if (o.info.type == FileType::kFile && o.real == o.path) {
      o.old_content = std::move(found);
    } else if (o.info.type == FileType::kFile) {
      auto data = host.ReadFile(o.real);
      if (!data.ok()) return data.error().Context("reading " + o.real.str());
      o.old_content = std::move(*data);
    }
    if (o.info.exists() && o.info.type != FileType::kSymlink) {
      o.owner_name = users_.Name(host, o.info.uid);
      o.group_name = groups_.Name(host, o.info.gid);
    }
    if (o.ensure == "file") {
      auto content = DesiredContent(want, ctx);
      if (!content.ok()) return content.error();
      o.new_content = std::move(*content);
    }
    if (want.Has("owner")) {
      auto uid = LookupUid(host, want.GetString("owner"));
      if (!uid.ok()) return uid.error().Context("owner " + want.GetString("owner"));
      o.uid = *uid;
    }
    if (want.Has("group")) {
      auto gid = LookupGid(host, want.GetString("group"));
      if (!gid.ok()) return gid.error().Context("group " + want.GetString("group"));
      o.gid = *gid;
    }
    if (want.GetBool("purge", false) && o.info.type == FileType::kDirectory)
      KEEL_TRY(CollectPurge(host, o.real, o.path, o.purge));
    return o;
  }

  /// Entries below `dir` that no file resource manages (nor lies below).
  Result<void> CollectPurge(Host& host, const HostPath& dir, const HostPath& declared,
                            std::vector<std::string>& out) {
    auto names = host.ListDir(dir);
    if (!names.ok()) return names.error().Context("listing " + dir.str());
    for (const auto& name : *names) {
      HostPath real = dir.Join(name);
      HostPath decl = declared.Join(name);
      bool managed = false, ancestor = false;
      {
        std::lock_guard<std::mutex> lock(mu_);
        managed = managed_.count(decl.str()) || managed_.count(real.str());
        for (auto it = managed_.upper_bound(decl.str() + "/");
             it != managed_.end() && it->rfind(decl.str() + "/", 0) == 0; ++it) {
          ancestor = true;
          break;
        }
      }
      if (managed) continue;
      if (!ancestor) {
        out.push_back(real.str());
        continue;
      }
      auto st = host.Lstat(real);
      if (!st.ok()) return st.error().Context("reading " + real.str());
      if (st->type == FileType::kDirectory) KEEL_TRY(CollectPurge(host, real, decl, out));
    }
    return {};
  }

  Result<std::optional<std::string>> DesiredContent(const Resource& want, RunContext& ctx) {
    if (const Value* c = want.Get("content")) return std::optional<std::string>(c->ToString());
    const bool is_template = want.Has("template");
    if (!is_template && !want.Has("source")) return std::optional<std::string>();
    const std::string attr = is_template ? "template" : "source";
    const std::string name = want.GetString(attr);
    auto text = repo_.Read(name, ctx.repo_dir, attr);
    if (!text.ok()) return text.error();
    if (!is_template) return std::optional<std::string>(std::move(*text));
    auto rendered = file::RenderTemplate(*text, ctx.facts, name);
    if (!rendered.ok()) return rendered.error();
    return std::optional<std::string>(std::move(*rendered));
  }

  mutable std::mutex mu_;
  IdNames users_{"/etc/passwd"}, groups_{"/etc/group"};
  std::set<std::string> managed_;  // paths of every file resource of the run
  file::RepoReader repo_;          // source/template files
};

}  // namespace

void RegisterFile(Registry& r) {
  TypeInfo info;
  info.schema = Schema();
  info.make_provider = [] { return std::make_unique<FileProvider>(); };
  info.validate = Validate;
  info.identity = [](const Resource& res) {
    auto p = HostPath::Parse(res.GetString("path"));
    return p.ok() ? p->str() : res.GetString("path");
  };
  info.paths = [](const Resource& res) {
    auto p = HostPath::Parse(res.GetString("path"));
    return std::vector<std::string>{p.ok() ? p->str() : res.GetString("path")};
  };
  info.holds_paths = true;
  info.content_attrs = {"content", "source", "template"};
  info.repo_paths = {"source", "template"};
  r.Add(std::move(info));
}

}  // namespace keel
