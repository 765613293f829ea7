// Config repos from git (SPEC 7), the only libgit2 user.
//
// Layout under `dest`:
//   repo.git/          bare repository; each URL's branches and tags under
//                      refs/keel/<url-key>/{heads,tags}/, the commits other
//                      keys rely on under refs/keel/good/<key>
//   trees/<sha>[.<n>]  checked-out trees, never modified once in place: a
//                      checkout is built in trees/.new.<sha>.<pid>.<n> and
//                      renamed; a tree with local changes is replaced by a
//                      fresh one, not rewritten
//   current            -> trees/<...>, switched with rename (keel pull; an
//                      apply switches it only once the commit validated)
//   targets/<key>      per (URL, branch or ref): last successful fetch, last
//                      good (validated) commit
//   lock               flock: one pull at a time in dest
// A reader (an apply) holds a shared flock on its tree's directory while it
// reads it; old trees are removed only when nobody holds one.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/fd.h"
#include "engine/result.h"

namespace keel {

struct PullOptions {
  std::string url;             // path, file://, git://, http(s)://, ssh://
  std::string branch;          // default: the remote's HEAD branch, else "main"/"master"
  std::string ref;             // a revision (sha, tag, branch); excludes branch
  std::string dest;            // the checkout area (see above); made absolute
  std::string ssh_key;         // private key file for ssh:// (else ssh-agent)
  bool no_rewind = false;      // refuse a commit not descending from the last good one
  bool switch_current = true;  // keel pull: yes; apply: MarkGood switches it
  double lock_timeout = 0;     // seconds to wait for another pull in dest

  // Trust (engine/git_transport.h, engine/git_verify.h, docs/git-signatures.md):
  // ssh host keys ("" = ~/.ssh/known_hosts, /etc/ssh/ssh_known_hosts), the
  // CAs of https:// ("" = $SSL_CERT_FILE, else the system's), and when
  // non-empty the keys one of which must have signed the commit checked
  // out (the last good one too).
  std::string known_hosts;
  std::string ca_file;
  std::string verify_keys;
};

struct PullResult {
  std::string commit;    // full 40-hex sha checked out
  std::string tree_dir;  // dest/trees/<sha>[.<n>], absolute
  bool fetched = false;  // false: the fetch failed, the last good commit is used
  /// Seconds since the last successful fetch of this URL and branch/ref
  /// (0 when this pull fetched).
  long fetch_age_s = 0;
  size_t received_bytes = 0;          // bytes this fetch downloaded
  std::vector<std::string> messages;  // warnings for the report
  /// A shared flock on tree_dir: the tree is not removed while held.
  std::shared_ptr<Fd> tree_lock;
};

/// Fetches `url` into dest/repo.git and makes sure a clean checkout of the
/// branch tip or ref exists under dest/trees (an existing one is verified
/// file by file; local changes are reported and the tree replaced by a new
/// one, never rewritten in place). When the fetch fails and this URL and
/// branch/ref has a last good commit, that commit is used (fetched=false, a
/// message naming the age of the last successful fetch); a different URL,
/// branch or ref never falls back. Corrupt states (objects missing, a tree
/// or `current` of the wrong kind) are repaired, with a message. Errors
/// name the URL and, where it helps, how to fix it.
Result<PullResult> PullConfigRepo(const PullOptions& options);

/// Records `commit` as the last good (validated) commit of options' URL and
/// branch/ref and points dest/current at `tree_dir`.
Result<void> MarkGood(const PullOptions& options, const std::string& commit,
                      const std::string& tree_dir);

struct GoodCommit {
  std::string commit;
  long validated_at = 0;  // unix seconds
  long fetched_at = 0;    // unix seconds of the last successful fetch (0: never)
};
/// The last good commit of options' URL and branch/ref; nullopt when none.
std::optional<GoodCommit> LastGood(const PullOptions& options);

/// "90", "90s", "30m", "2h", "1d", "1w", "1h30m" -> seconds; error otherwise.
Result<long> ParseDuration(const std::string& text);

}  // namespace keel
