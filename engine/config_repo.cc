#include "engine/config_repo.h"

#include <git2.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>

#include "engine/atomic_file.h"
#include "engine/git_transport.h"
#include "engine/git_verify.h"

namespace keel {
namespace {

namespace fs = std::filesystem;

Error GitError(const std::string& what) {
  const git_error* e = git_error_last();
  return MakeError(ErrorCode::kIo,
                   what + ": " + (e && e->message ? e->message : "unknown git error"));
}

struct GitInit {
  GitInit() { git_libgit2_init(); }
  ~GitInit() { git_libgit2_shutdown(); }
};

template <typename T, void (*Free)(T*)>
struct GitPtr {
  T* p = nullptr;
  ~GitPtr() {
    if (p) Free(p);
  }
  T** out() { return &p; }
  T* get() const { return p; }
};

std::string ReadSmall(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Resolves what to check out: ref > branch > remote HEAD > main/master.
Result<std::string> ResolveTarget(git_repository* repo, const PullOptions& o) {
  std::vector<std::string> candidates;
  if (!o.ref.empty()) {
    candidates = {o.ref, "refs/remotes/origin/" + o.ref, "refs/tags/" + o.ref};
  } else if (!o.branch.empty()) {
    candidates = {"refs/remotes/origin/" + o.branch};
  } else {
    candidates = {"refs/remotes/origin/HEAD", "refs/remotes/origin/main",
                  "refs/remotes/origin/master"};
  }
  for (const auto& c : candidates) {
    GitPtr<git_object, git_object_free> obj;
    if (git_revparse_single(obj.out(), repo, c.c_str()) != 0) continue;
    GitPtr<git_object, git_object_free> commit;
    if (git_object_peel(commit.out(), obj.get(), GIT_OBJECT_COMMIT) != 0) continue;
    char hex[GIT_OID_HEXSZ + 1];
    git_oid_tostr(hex, sizeof hex, git_object_id(commit.get()));
    return std::string(hex);
  }
  std::string what = !o.ref.empty()      ? "revision '" + o.ref + "'"
                     : !o.branch.empty() ? "branch '" + o.branch + "'"
                                         : "a default branch";
  return MakeError(ErrorCode::kNotFound, "no " + what + " in " + o.url);
}

// Checks out `sha` into dest/trees/<sha> (once) and switches dest/current.
Result<std::string> CheckoutTree(git_repository* repo, const fs::path& dest, const std::string& sha,
                                 std::vector<std::string>& messages) {
  fs::path trees = dest / "trees";
  fs::path tree_dir = trees / sha;
  std::error_code ec;
  fs::create_directories(trees, ec);
  git_oid oid;
  if (git_oid_fromstr(&oid, sha.c_str()) != 0) return GitError("bad commit id " + sha);
  GitPtr<git_commit, git_commit_free> commit;
  if (git_commit_lookup(commit.out(), repo, &oid) != 0) return GitError("commit " + sha);

  // A tree that exists already is checked again with FORCE: local edits in
  // the checkout are discarded (the remote is the truth), and said so.
  bool existed = fs::exists(tree_dir);
  fs::path work = existed ? tree_dir : trees / (sha + ".new." + std::to_string(getpid()));
  fs::create_directories(work, ec);
  git_checkout_options opts;
  git_checkout_options_init(&opts, GIT_CHECKOUT_OPTIONS_VERSION);
  opts.checkout_strategy =
      GIT_CHECKOUT_FORCE | GIT_CHECKOUT_REMOVE_UNTRACKED | GIT_CHECKOUT_DONT_UPDATE_INDEX;
  std::string work_s = work.string();
  opts.target_directory = work_s.c_str();
  struct Notes {
    int modified = 0;
  } notes;
  if (existed) {
    opts.notify_flags = GIT_CHECKOUT_NOTIFY_DIRTY | GIT_CHECKOUT_NOTIFY_UNTRACKED;
    opts.notify_cb = [](git_checkout_notify_t, const char*, const git_diff_file*,
                        const git_diff_file*, const git_diff_file*, void* payload) -> int {
      static_cast<Notes*>(payload)->modified++;
      return 0;
    };
    opts.notify_payload = &notes;
  }
  if (git_checkout_tree(repo, reinterpret_cast<git_object*>(commit.get()), &opts) != 0)
    return GitError("checkout of " + sha);
  if (notes.modified > 0)
    messages.push_back("discarded " + std::to_string(notes.modified) +
                       " local change(s) in the checkout of " + sha.substr(0, 12));
  if (!existed) {
    fs::rename(work, tree_dir, ec);
    if (ec) return MakeError(ErrorCode::kIo, "renaming checkout: " + ec.message());
  }
  fs::path link_tmp = dest / (".current." + std::to_string(getpid()));
  fs::remove(link_tmp, ec);
  fs::create_symlink(fs::path("trees") / sha, link_tmp, ec);
  if (ec) return MakeError(ErrorCode::kIo, "creating current link: " + ec.message());
  fs::rename(link_tmp, dest / "current", ec);
  if (ec) return MakeError(ErrorCode::kIo, "switching current: " + ec.message());
  return tree_dir.string();
}

}  // namespace

Result<PullResult> PullConfigRepo(const PullOptions& o) {
  GitInit init;
  fs::path dest = o.dest;
  std::error_code ec;
  fs::create_directories(dest, ec);
  if (ec) return MakeError(ErrorCode::kIo, "creating " + dest.string() + ": " + ec.message());
  ::chmod(dest.c_str(), 0700);
  fs::path bare = dest / "repo.git";

  GitPtr<git_repository, git_repository_free> repo;
  if (git_repository_open_bare(repo.out(), bare.c_str()) != 0 &&
      git_repository_init(repo.out(), bare.c_str(), /*is_bare=*/1) != 0)
    return GitError("initialising " + bare.string());

  PullResult result;
  GitPtr<git_remote, git_remote_free> remote;
  if (git_remote_create_anonymous(remote.out(), repo.get(), o.url.c_str()) != 0)
    return GitError("remote " + o.url);
  git_fetch_options fopts;
  git_fetch_options_init(&fopts, GIT_FETCH_OPTIONS_VERSION);
  GitTransport transport({o.url, o.ssh_key, o.known_hosts, o.ca_file});
  if (auto t = transport.Prepare(); !t.ok()) return t.error();
  transport.Install(&fopts.callbacks);
  fopts.prune = GIT_FETCH_PRUNE;
  fopts.download_tags = GIT_REMOTE_DOWNLOAD_TAGS_ALL;
  const char* specs[] = {"+refs/heads/*:refs/remotes/origin/*", "+HEAD:refs/remotes/origin/HEAD"};
  git_strarray refspecs = {const_cast<char**>(specs), 2};
  int rc = git_remote_fetch(remote.get(), &refspecs, &fopts, "keel pull");
  if (rc != 0) {
    // HEAD may be absent on an empty/odd remote: retry with branches only.
    git_strarray only_heads = {const_cast<char**>(specs), 1};
    rc = git_remote_fetch(remote.get(), &only_heads, &fopts, "keel pull");
  }
  if (rc != 0) {
    Error fetch_err = GitError("fetching " + o.url);
    auto good = LastGood(o.dest);
    if (!good) return fetch_err;
    long age = static_cast<long>(std::time(nullptr)) - good->second;
    result.messages.push_back(fetch_err.message + "; applying the last good commit " +
                              good->first.substr(0, 12) + " (validated " +
                              std::to_string(age / 60) + " min ago)");
    // The fallback never bypasses --verify-signature (the keys may have changed).
    if (!o.verify_keys.empty())
      if (auto v = VerifyCommitSignature(repo.get(), good->first, o.verify_keys); !v.ok())
        return v.error().Context(o.url);
    auto dir = CheckoutTree(repo.get(), dest, good->first, result.messages);
    if (!dir.ok()) return dir.error();
    result.commit = good->first;
    result.tree_dir = *dir;
    result.fetched = false;
    return result;
  }
  auto sha = ResolveTarget(repo.get(), o);
  if (!sha.ok()) return sha.error();
  if (!o.verify_keys.empty())
    if (auto v = VerifyCommitSignature(repo.get(), *sha, o.verify_keys); !v.ok())
      return v.error().Context(o.url);
  auto dir = CheckoutTree(repo.get(), dest, *sha, result.messages);
  if (!dir.ok()) return dir.error();
  result.commit = *sha;
  result.tree_dir = *dir;
  result.fetched = true;
  // Keep only the current tree and the last good one.
  auto good = LastGood(o.dest);
  for (const auto& e : fs::directory_iterator(dest / "trees", ec)) {
    std::string name = e.path().filename().string();
    if (name == *sha || (good && name == good->first)) continue;
    fs::remove_all(e.path(), ec);
  }
  return result;
}

Result<void> MarkGood(const std::string& dest, const std::string& commit) {
  std::string line = commit + " " + std::to_string(static_cast<long>(std::time(nullptr))) + "\n";
  return AtomicWriteFile((fs::path(dest) / "last_good").string(), line);
}

std::optional<std::pair<std::string, long>> LastGood(const std::string& dest) {
  std::istringstream in(ReadSmall(fs::path(dest) / "last_good"));
  std::string sha;
  long t = 0;
  if (!(in >> sha >> t) || sha.size() != 40) return std::nullopt;
  return std::make_pair(sha, t);
}

}  // namespace keel
