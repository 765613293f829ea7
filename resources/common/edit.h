// The shared editing layer of the config-file types (line, shellvar, ifcfg,
// host, mount, sysctl, modprobe, ...): byte-preserving line splitting, safe
// reading of the file to edit, one content change with an exact diff, and
// the write. Each type keeps its own pure parser/serializer beside it.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/host.h"
#include "engine/provider.h"
#include "engine/result.h"
#include "engine/text_lines.h"

namespace keel::edit {

/// A text file split into lines (engine/text_lines.h, the one line splitter).
using TextLines = keel::TextLines;

/// Splits `text` into lines exactly as TextLines::Parse does and maps each
/// through `parse_line` (a format's line parser). Sets `final_newline`.
template <typename Line, typename ParseLine>
std::vector<Line> ParseLines(std::string_view text, ParseLine parse_line, bool& final_newline) {
  TextLines split = TextLines::Parse(text);
  std::vector<Line> out;
  out.reserve(split.lines.size());
  for (const auto& l : split.lines) out.push_back(parse_line(std::string_view(l)));
  final_newline = split.final_newline;
  return out;
}

/// The inverse of ParseLines: each line's Render(), joined as TextLines::Render.
template <typename Line>
std::string RenderLines(const std::vector<Line>& lines, bool final_newline) {
  std::string out;
  for (size_t i = 0; i < lines.size(); ++i) {
    out += lines[i].Render();
    if (i + 1 < lines.size() || final_newline) out += '\n';
  }
  return out;
}

/// The text of `c` as a view ("" when absent): what a format's Parse takes,
/// without the copy `c.value_or("")` makes of the whole file.
inline std::string_view TextOf(const std::optional<std::string>& c) {
  return c ? std::string_view(*c) : std::string_view();
}

/// The content of an edited file, shared without copying between the
/// session, observations and edits: never null; nullopt inside = no file.
/// A 30 MB file is held once however many resources edit it.
using Content = std::shared_ptr<const std::optional<std::string>>;
Content MakeContent(std::optional<std::string> text);
/// The text of `c` as a shared string (aliasing `c`, no copy); `c` must hold one.
std::shared_ptr<const std::string> SharedText(const Content& c);

/// Reads a file that an editing type manages: nullopt when absent. A clear
/// error (ErrorCode::kInvalid) when it is a directory, a binary file (a NUL
/// byte), or unreadable — never edit such a file.
Result<std::optional<std::string>> ReadEditable(Host& host, const HostPath& path);

/// The "content" Change of an edited file: from/to are "{sha256}<hex>" (or
/// absent for a file to create / remove), detail is the unified diff.
/// `sensitive` leaves the detail empty.
Change ContentChange(const HostPath& path, const std::optional<std::string>& before,
                     const std::optional<std::string>& after, bool sensitive = false);

/// What a `file` resource declares for a path it does not create itself
/// (only mode/owner/group): an editing type that creates the file gives it
/// these from the start (issue 11 item 8).
struct DeclaredAttrs {
  FileAttrs attrs;                 // resolved mode/uid/gid (unset: the default)
  std::string mode, owner, group;  // as written, for the plan ("" = not given)
  std::string by;                  // the declaring resource, e.g. file[/etc/app.conf]
};

/// Writes `content` to `path` atomically through the host: an existing file
/// keeps its mode and owner; a new one gets 0644 root:root and its missing
/// parent directories 0755, or what `declared` holds for their paths (the
/// temp file has that mode before any byte is written). nullopt content
/// removes the file.
Result<void> WriteEdited(Host& host, const HostPath& path,
                         const std::optional<std::string>& content,
                         const std::map<HostPath, DeclaredAttrs>* declared = nullptr);
/// The same with shared content: the plan overlay keeps `content` itself
/// (Host::WriteFileShared), not a copy.
Result<void> WriteEdited(Host& host, const HostPath& path, const Content& content,
                         const std::map<HostPath, DeclaredAttrs>* declared = nullptr);

/// The files edited in one run, shared by every editing provider through
/// Session(ctx) (RunContext::Shared<EditSession>("edit")), keyed by HostPath.
/// Several resources editing one file read it once and write it once:
///  - Read: the first call reads the host (ReadEditable); later calls get
///    the content as the earlier resources of the run left it.
///  - Stage (from Apply): records the edited content. In a dry run
///    (host.dry_run()) it is written to the overlay at once (memory).
///  - Flush (from every editing provider's Flush): writes each staged file
///    once with WriteEdited, then forgets every entry so that later reads
///    (after a resource that ran between, e.g. an exec) see the disk again.
/// Rule for files also changed by non-editing resources (exec, package):
/// before writing, Flush re-reads the file and fails with kConflict when it
/// is no longer what the session read — an update is never lost silently.
/// Order such resources with require/before around the editing ones.
/// Thread-safe (one mutex); editing resources on one file never run at once.
class EditSession {
 public:
  /// Current content of `path` in this run: nullopt when absent (or staged
  /// for removal). Errors as ReadEditable.
  Result<std::optional<std::string>> Read(Host& host, const HostPath& path);
  /// The same, shared (no copy of the text).
  Result<Content> ReadShared(Host& host, const HostPath& path);
  /// Records `content` (nullopt = remove) as the new content of `path`.
  /// The path must have been Read first in this run.
  Result<void> Stage(Host& host, const HostPath& path, std::optional<std::string> content);
  Result<void> Stage(Host& host, const HostPath& path, Content content);
  /// Writes every staged file once; the first error is returned (with the
  /// path) after trying the others. No-op when nothing is staged.
  Result<void> Flush(Host& host);
  /// Same, limited to `paths` (the files of the resources being flushed, so
  /// an error is charged to them); staged files outside stay staged.
  Result<void> Flush(Host& host, const std::vector<HostPath>& paths);
  /// Number of writes/removals Flush performed in this run (for tests).
  int writes() const { return writes_; }
  /// Number of host reads of file content (for tests).
  int reads() const { return reads_; }
  /// Mode/owner/group a new file at `path` gets (a `file` resource's
  /// Prefetch declares them); the first declaration of a path wins.
  void Declare(const HostPath& path, DeclaredAttrs attrs);
  /// The declaration for `path`, if any.
  std::optional<DeclaredAttrs> Declared(const HostPath& path);

 private:
  // Only the digest of the content read is kept (for the conflict check in
  // Flush): the text itself is freed as soon as no edit needs it.
  struct Entry {
    std::string base_digest;  // Digest() of the content read from the host
    Content current;          // content after the staged edits
    bool dirty = false;
  };
  static std::string Digest(const std::optional<std::string>& c);
  Result<std::map<HostPath, Entry>::iterator> Load(Host& host, const HostPath& path);
  Result<void> FlushSome(Host& host, const std::vector<HostPath>* only);
  std::mutex mu_;
  std::map<HostPath, Entry> files_;
  // Dry run: the content last written to the overlay for each path. The
  // overlay holds it (shared): a later read of the path gets it back
  // without a copy when the overlay still holds that very text.
  std::map<HostPath, std::weak_ptr<const std::optional<std::string>>> written_;
  std::map<HostPath, DeclaredAttrs> declared_;
  int writes_ = 0;
  int reads_ = 0;
};

/// The run's edit session.
inline EditSession& Session(RunContext& ctx) { return ctx.Shared<EditSession>("edit"); }

}  // namespace keel::edit
