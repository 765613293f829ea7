// Config repos from git (SPEC 7), the only libgit2 user.
//
// Layout under `dest`:  repo.git/ (bare mirror of the remote's branches),
// trees/<sha>/ (one checked-out tree per commit), current -> trees/<sha>
// (a symlink switched atomically with rename), last_good (sha + time of the
// last commit whose manifests validated). A run resolves `current` once, so
// it reads either the old or the new commit, never a mix.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "engine/result.h"

namespace keel {

struct PullOptions {
  std::string url;      // path, file://, git://, http(s)://, ssh://
  std::string branch;   // default: the remote's HEAD branch, else "main"/"master"
  std::string ref;      // a revision (sha, tag); overrides branch
  std::string dest;     // the checkout area (see above)
  std::string ssh_key;  // private key file for ssh:// (else ssh-agent)

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
  std::string tree_dir;  // dest/trees/<sha>
  bool fetched = false;  // false: the fetch failed, the last good commit is used
  std::vector<std::string>
      messages;  // warnings for the report ("fetch failed ...", "discarded local changes ...")
};

/// Fetches `url` into dest/repo.git and checks out the branch tip or ref
/// into dest/trees/<sha>, then points dest/current at it. When the fetch
/// fails and a last good commit exists, that commit is used (fetched=false,
/// a message naming its age); otherwise an error naming the URL.
Result<PullResult> PullConfigRepo(const PullOptions& options);

/// Records `commit` as the last good (validated) commit of dest.
Result<void> MarkGood(const std::string& dest, const std::string& commit);

/// The last good commit and when it was marked (unix seconds); nullopt when none.
std::optional<std::pair<std::string, long>> LastGood(const std::string& dest);

}  // namespace keel
