#include "engine/config_repo.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include "engine/atomic_file.h"
#include "engine/digest.h"
#include "engine/git_transport.h"
#include "engine/git_verify.h"
#include "engine/lazy_git.h"  // last: redefines the library calls
#include "engine/subprocess.h"

namespace keel {
namespace {

namespace fs = std::filesystem;

// Errors: kIo = the local repository or a tree is damaged (a rebuild may
// help); kNotFound/kInvalid/kConflict = the remote's content or the user's
// request (a rebuild would not help).
Error GitError(const std::string& what, ErrorCode code = ErrorCode::kIo) {
  const git_error* e = git_error_last();
  return MakeError(code, what + ": " + (e && e->message ? e->message : "unknown git error"));
}

struct GitInit {
  GitInit() { git_libgit2_init(); }
  ~GitInit() { git_libgit2_shutdown(); }
};

template <typename T, void (*Free)(T*)>
struct GitPtr {
  T* p = nullptr;
  GitPtr() = default;
  GitPtr(const GitPtr&) = delete;
  GitPtr& operator=(const GitPtr&) = delete;
  ~GitPtr() { Reset(); }
  void Reset() {
    if (p) Free(p);
    p = nullptr;
  }
  T** out() { return &p; }
  T* get() const { return p; }
};
using RepoPtr = GitPtr<git_repository, git_repository_free>;

// The fetch callbacks' payload.
struct FetchPayload {
  GitTransport* transport = nullptr;  // credentials and certificate checks
  // Progress on a terminal (engine/subprocess.h ReportProgress): once the
  // fetch has taken a second, then at most every 200 ms.
  std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
  std::chrono::steady_clock::time_point shown{};
  // KEEL_PROGRESS_DELAY_MS (tests: 0) overrides the one second.
  std::chrono::milliseconds delay{std::getenv("KEEL_PROGRESS_DELAY_MS")
                                      ? std::atol(std::getenv("KEEL_PROGRESS_DELAY_MS"))
                                      : 1000};
  size_t received_bytes = 0;
};

int TransferCb(const git_indexer_progress* stats, void* payload) {
  auto* p = static_cast<FetchPayload*>(payload);
  p->received_bytes = std::max(p->received_bytes, stats->received_bytes);
  auto now = std::chrono::steady_clock::now();
  if (now - p->started >= p->delay && now - p->shown >= std::chrono::milliseconds(200)) {
    p->shown = now;
    std::string line = "received " + std::to_string(stats->received_objects) + "/" +
                       std::to_string(stats->total_objects) + " objects, " +
                       std::to_string(stats->received_bytes / 1024) + " KiB";
    if (stats->total_objects > 0 && stats->received_objects == stats->total_objects)
      line = "indexed " + std::to_string(stats->indexed_objects) + "/" +
             std::to_string(stats->total_objects) + " objects, " +
             std::to_string(stats->received_bytes / 1024) + " KiB";
    ReportProgress("git fetch", line);
  }
  return 0;
}

long Now() { return static_cast<long>(std::time(nullptr)); }

std::string Short(const std::string& sha) { return sha.substr(0, 12); }

std::string Age(long s) {
  if (s < 120) return std::to_string(s) + " s";
  if (s < 2 * 3600) return std::to_string(s / 60) + " min";
  if (s < 2 * 86400) return std::to_string(s / 3600) + " h";
  return std::to_string(s / 86400) + " d";
}

bool PidAlive(long pid) {
  return pid > 0 && (::kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM);
}

// ---- URLs and keys --------------------------------------------------------

// A URL without a scheme and not scp-like (user@host:path) is a local path.
bool IsLocalPath(const std::string& url) {
  if (url.find("://") != std::string::npos) return false;
  size_t colon = url.find(':'), slash = url.find('/');
  return colon == std::string::npos || (slash != std::string::npos && slash < colon);
}

// Local paths are made absolute, so one repository has one key.
std::string NormaliseUrl(const std::string& url) {
  if (!IsLocalPath(url) || url.empty()) return url;
  std::error_code ec;
  fs::path p = fs::absolute(url, ec);
  std::string s = ec ? url : p.lexically_normal().string();
  while (s.size() > 1 && s.back() == '/') s.pop_back();
  return s;
}

std::string TargetText(const PullOptions& o) {
  return !o.ref.empty() ? "ref:" + o.ref : !o.branch.empty() ? "branch:" + o.branch : "default";
}

std::string UrlKey(const std::string& url) { return Sha256Hex(url).substr(0, 16); }

std::string TargetKey(const PullOptions& o) {
  return Sha256Hex(NormaliseUrl(o.url) + "\n" + TargetText(o)).substr(0, 16);
}

// "URL branch B" / "URL ref R" / "URL (default branch)", for messages.
std::string TargetName(const PullOptions& o) {
  if (!o.ref.empty()) return o.url + " ref " + o.ref;
  if (!o.branch.empty()) return o.url + " branch " + o.branch;
  return o.url + " (default branch)";
}

// ---- per-target records (targets/<key>) ---------------------------------

struct Record {
  std::string url, target;
  long fetched_at = 0;
  std::string good;
  long validated_at = 0;
};

Record ReadRecord(const fs::path& dest, const PullOptions& o) {
  Record r;
  std::ifstream in(dest / "targets" / TargetKey(o));
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream ls(line);
    std::string k;
    ls >> k;
    if (k == "fetched_at") ls >> r.fetched_at;
    if (k == "good") ls >> r.good >> r.validated_at;
  }
  if (r.good.size() != 40 || r.good.find_first_not_of("0123456789abcdef") != std::string::npos)
    r.good.clear();
  return r;
}

Result<void> WriteRecord(const fs::path& dest, const PullOptions& o, const Record& r) {
  std::error_code ec;
  fs::create_directories(dest / "targets", ec);
  std::string text = "url " + NormaliseUrl(o.url) + "\ntarget " + TargetText(o) + "\nfetched_at " +
                     std::to_string(r.fetched_at) + "\n";
  if (!r.good.empty()) text += "good " + r.good + " " + std::to_string(r.validated_at) + "\n";
  return AtomicWriteFile((dest / "targets" / TargetKey(o)).string(), text);
}

// ---- the dest lock ----------------------------------------------------------

Result<Fd> LockDest(const fs::path& dest, double timeout_s) {
  std::string path = (dest / "lock").string();
  Fd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600));
  if (!fd.valid())
    return MakeError(ErrorCode::kIo, "cannot open " + path + ": " + std::strerror(errno));
  auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_s);
  while (::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) {
    if (errno == EINTR) continue;
    if (errno != EWOULDBLOCK || std::chrono::steady_clock::now() >= deadline)
      return MakeError(ErrorCode::kConflict, "another keel pull is working in " + dest.string() +
                                                 " (lock " + path +
                                                 "); try again, or wait with --lock-timeout");
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return fd;
}

// ---- the bare repository ----------------------------------------------------

std::string OidHex(const git_oid* oid) {
  char hex[GIT_OID_HEXSZ + 1];
  git_oid_tostr(hex, sizeof hex, oid);
  return hex;
}

// Opens dest/repo.git, creating it; one that cannot be opened is moved
// aside and made again (said in `messages`).
Result<void> OpenRepo(const fs::path& bare, RepoPtr& repo, std::vector<std::string>& messages) {
  repo.Reset();
  if (git_repository_open_bare(repo.out(), bare.c_str()) == 0) return {};
  std::error_code ec;
  if (fs::exists(fs::symlink_status(bare, ec))) {
    const git_error* e = git_error_last();
    messages.push_back("repaired " + bare.string() + " (" +
                       (e && e->message ? e->message : "cannot be opened") +
                       "): made again, fetching everything");
    fs::path aside = bare.string() + ".broken." + std::to_string(::getpid());
    fs::rename(bare, aside, ec);
    fs::remove_all(aside, ec);
    if (fs::exists(fs::symlink_status(bare, ec))) fs::remove_all(bare, ec);
  }
  repo.Reset();
  if (git_repository_init(repo.out(), bare.c_str(), /*is_bare=*/1) != 0)
    return GitError("initialising " + bare.string());
  return {};
}

struct FetchStats {
  size_t bytes = 0;
};

// A ref whose commit is missing: objects were deleted under the repository
// (a fetch would then download nothing and the checkout fail forever).
std::string MissingObject(git_repository* repo) {
  GitPtr<git_reference_iterator, git_reference_iterator_free> it;
  if (git_reference_iterator_glob_new(it.out(), repo, "refs/keel/*") != 0) return "";
  GitPtr<git_odb, git_odb_free> odb;
  if (git_repository_odb(odb.out(), repo) != 0) return "no object database";
  git_reference* ref = nullptr;
  std::string missing;
  while (missing.empty() && git_reference_next(&ref, it.get()) == 0) {
    const git_oid* oid = git_reference_target(ref);
    if (oid && !git_odb_exists(odb.get(), oid))
      missing = "object " + OidHex(oid) + " of " + git_reference_name(ref) + " is missing";
    git_reference_free(ref);
  }
  return missing;
}

// Moves a damaged repository aside, removes it and makes it again.
Result<void> RebuildRepo(const fs::path& bare, RepoPtr& repo, const std::string& why,
                         std::vector<std::string>& messages) {
  messages.push_back("repaired " + bare.string() + " (" + why +
                     "): made again, fetched everything");
  repo.Reset();
  std::error_code ec;
  fs::path aside = bare.string() + ".broken." + std::to_string(::getpid());
  fs::rename(bare, aside, ec);
  fs::remove_all(aside, ec);
  return OpenRepo(bare, repo, messages);
}

// Fetches the URL's branches and tags under refs/keel/<url-key>/.
Result<void> FetchRemote(git_repository* repo, const PullOptions& o, FetchStats& stats) {
  std::string url = NormaliseUrl(o.url);
  if (IsLocalPath(url) || url.rfind("file://", 0) == 0) {
    std::string path = IsLocalPath(url) ? url : url.substr(7);
    std::error_code ec;
    if (!fs::exists(path, ec))
      return MakeError(ErrorCode::kNotFound,
                       "fetching " + o.url + ": no repository there (" + path + " does not exist)");
  }
  GitPtr<git_remote, git_remote_free> remote;
  if (git_remote_create_anonymous(remote.out(), repo, url.c_str()) != 0)
    return GitError("remote " + o.url, ErrorCode::kInvalid);
  git_fetch_options fopts;
  git_fetch_options_init(&fopts, GIT_FETCH_OPTIONS_VERSION);
  GitTransport transport({o.url, o.ssh_key, o.known_hosts, o.ca_file});
  if (auto t = transport.Prepare(); !t.ok()) return t.error();
  FetchPayload payload{.transport = &transport};
  fopts.callbacks.credentials = [](git_credential** out, const char*, const char* user,
                                   unsigned int allowed, void* p) {
    return static_cast<FetchPayload*>(p)->transport->OnCredentials(out, user, allowed);
  };
  fopts.callbacks.certificate_check = [](git_cert* cert, int valid, const char* host, void* p) {
    return static_cast<FetchPayload*>(p)->transport->OnCertificate(cert, valid, host);
  };
  fopts.callbacks.transfer_progress = TransferCb;
  fopts.callbacks.payload = &payload;
  fopts.prune = GIT_FETCH_PRUNE;
  fopts.download_tags = GIT_REMOTE_DOWNLOAD_TAGS_NONE;
  std::string ns = "refs/keel/" + UrlKey(url);
  std::string heads = "+refs/heads/*:" + ns + "/heads/*";
  std::string tags = "+refs/tags/*:" + ns + "/tags/*";
  std::string head = "+HEAD:" + ns + "/HEAD";
  const char* specs[] = {heads.c_str(), tags.c_str(), head.c_str()};
  git_strarray refspecs = {const_cast<char**>(specs), 3};
  int rc = git_remote_fetch(remote.get(), &refspecs, &fopts, "keel pull");
  if (rc != 0) {
    // HEAD may be absent on an empty/odd remote: retry with branches and tags.
    git_strarray no_head = {const_cast<char**>(specs), 2};
    rc = git_remote_fetch(remote.get(), &no_head, &fopts, "keel pull");
  }
  if (rc != 0) return GitError("fetching " + o.url, ErrorCode::kCommand);
  stats.bytes = std::max(payload.received_bytes, git_remote_stats(remote.get())->received_bytes);
  return {};
}

// Is `oid` reachable from one of the URL's refs?
bool Reachable(git_repository* repo, const git_oid& oid, const std::string& ns) {
  GitPtr<git_reference_iterator, git_reference_iterator_free> it;
  if (git_reference_iterator_glob_new(it.out(), repo, (ns + "/*").c_str()) != 0) return false;
  git_reference* ref = nullptr;
  bool found = false;
  while (!found && git_reference_next(&ref, it.get()) == 0) {
    GitPtr<git_object, git_object_free> obj;
    if (git_reference_peel(obj.out(), ref, GIT_OBJECT_COMMIT) == 0) {
      const git_oid* tip = git_object_id(obj.get());
      found = git_oid_equal(tip, &oid) || git_graph_descendant_of(repo, tip, &oid) == 1;
    }
    git_reference_free(ref);
  }
  return found;
}

// What to check out: ref > branch > the remote's HEAD > main/master.
Result<std::string> ResolveTarget(git_repository* repo, const PullOptions& o) {
  std::string ns = "refs/keel/" + UrlKey(NormaliseUrl(o.url));
  std::vector<std::string> candidates;
  if (!o.ref.empty()) {
    candidates = {ns + "/heads/" + o.ref, ns + "/tags/" + o.ref};
  } else if (!o.branch.empty()) {
    candidates = {ns + "/heads/" + o.branch};
  } else {
    candidates = {ns + "/HEAD", ns + "/heads/main", ns + "/heads/master"};
  }
  for (const auto& c : candidates) {
    GitPtr<git_object, git_object_free> obj;
    if (git_revparse_single(obj.out(), repo, c.c_str()) != 0) continue;
    GitPtr<git_object, git_object_free> commit;
    if (git_object_peel(commit.out(), obj.get(), GIT_OBJECT_COMMIT) != 0) continue;
    return OidHex(git_object_id(commit.get()));
  }
  if (!o.ref.empty() && o.ref.size() >= 4 && o.ref.size() <= 40 &&
      o.ref.find_first_not_of("0123456789abcdefABCDEF") == std::string::npos) {
    // A commit id: only one in this URL's history (another URL's objects
    // live in the same repository).
    git_oid oid;
    GitPtr<git_object, git_object_free> obj;
    if (git_oid_fromstrn(&oid, o.ref.c_str(), o.ref.size()) == 0 &&
        git_object_lookup_prefix(obj.out(), repo, &oid, o.ref.size(), GIT_OBJECT_COMMIT) == 0 &&
        Reachable(repo, *git_object_id(obj.get()), ns))
      return OidHex(git_object_id(obj.get()));
  }
  if (!o.ref.empty())
    return MakeError(ErrorCode::kNotFound, "no revision '" + o.ref + "' in " + o.url +
                                               " (not a branch, a tag or a commit of its history)");
  if (!o.branch.empty())
    return MakeError(ErrorCode::kNotFound, "no branch '" + o.branch + "' in " + o.url);
  return MakeError(ErrorCode::kNotFound, "no default branch in " + o.url +
                                             " (no HEAD, main or master); name one with --branch");
}

// ---- trees ------------------------------------------------------------------

// How a directory differs from a commit's tree.
struct TreeDiff {
  std::vector<std::string> modified, deleted, added;
  std::string submodule;  // the first gitlink's path
  bool empty() const { return modified.empty() && deleted.empty() && added.empty(); }
  size_t count() const { return modified.size() + deleted.size() + added.size(); }
};

struct WalkState {
  git_repository* repo;
  fs::path dir;
  bool compare;
  TreeDiff diff;
  std::set<std::string> tracked;
};

int WalkCb(const char* root, const git_tree_entry* entry, void* payload) {
  auto* w = static_cast<WalkState*>(payload);
  std::string rel = std::string(root) + git_tree_entry_name(entry);
  git_filemode_t mode = git_tree_entry_filemode(entry);
  if (mode == GIT_FILEMODE_COMMIT) {
    if (w->diff.submodule.empty()) w->diff.submodule = rel;
    return 1;
  }
  w->tracked.insert(rel);
  if (!w->compare) return 0;
  struct stat st;
  std::string path = (w->dir / rel).string();
  if (::lstat(path.c_str(), &st) != 0) {
    w->diff.deleted.push_back(rel);
    return mode == GIT_FILEMODE_TREE ? 1 : 0;
  }
  if (mode == GIT_FILEMODE_TREE) {
    if (!S_ISDIR(st.st_mode)) {
      w->diff.modified.push_back(rel);
      return 1;
    }
    return 0;
  }
  std::string data;
  if (mode == GIT_FILEMODE_LINK) {
    if (!S_ISLNK(st.st_mode)) {
      w->diff.modified.push_back(rel);
      return 0;
    }
    data.resize(4096);
    ssize_t n = ::readlink(path.c_str(), data.data(), data.size());
    data.resize(n > 0 ? static_cast<size_t>(n) : 0);
  } else {
    bool exec = mode == GIT_FILEMODE_BLOB_EXECUTABLE;
    if (!S_ISREG(st.st_mode) || ((st.st_mode & S_IXUSR) != 0) != exec) {
      w->diff.modified.push_back(rel);
      return 0;
    }
    std::ifstream in(path, std::ios::binary);
    std::ostringstream ss;
    ss << in.rdbuf();
    data = ss.str();
  }
  git_oid oid;
  if (git_odb_hash(&oid, data.data(), data.size(), GIT_OBJECT_BLOB) != 0 ||
      !git_oid_equal(&oid, git_tree_entry_id(entry)))
    w->diff.modified.push_back(rel);
  return 0;
}

// Walks `tree` (and, with `compare`, compares `dir` with it). kIo when an
// object is missing: the repository is damaged.
Result<TreeDiff> WalkTree(git_repository* repo, git_tree* tree, const fs::path& dir, bool compare) {
  WalkState w{repo, dir, compare, {}, {}};
  if (git_tree_walk(tree, GIT_TREEWALK_PRE, WalkCb, &w) != 0)
    return GitError("reading the tree of the commit");
  if (compare) {
    std::error_code ec;
    for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::end(it);
         it.increment(ec)) {
      std::string rel = it->path().lexically_relative(dir).string();
      if (w.tracked.count(rel)) continue;
      w.diff.added.push_back(rel);
      if (it->is_directory(ec) && !it->is_symlink(ec)) it.disable_recursion_pending();
    }
  }
  return w.diff;
}

std::string DescribeDiff(const TreeDiff& d) {
  std::vector<std::string> items;
  for (const auto& p : d.modified) items.push_back("modified " + p);
  for (const auto& p : d.deleted) items.push_back("deleted " + p);
  for (const auto& p : d.added) items.push_back("new " + p);
  std::string s;
  for (size_t i = 0; i < items.size() && i < 20; ++i) s += (i ? ", " : "") + items[i];
  if (items.size() > 20) s += ", and " + std::to_string(items.size() - 20) + " more";
  return s;
}

// Checks `sha` out into a new directory under trees/ and renames it into
// place (trees/<sha>, or trees/<sha>.<n> when that name is taken).
Result<std::string> CheckoutTree(git_repository* repo, git_commit* commit, const fs::path& trees,
                                 const std::string& sha) {
  static int counter = 0;
  fs::path work =
      trees / (".new." + sha + "." + std::to_string(::getpid()) + "." + std::to_string(++counter));
  std::error_code ec;
  fs::remove_all(work, ec);
  struct Cleanup {
    fs::path p;
    ~Cleanup() {
      std::error_code e;
      if (!p.empty()) fs::remove_all(p, e);
    }
  } cleanup{work};
  if (!fs::create_directories(work, ec))
    return MakeError(ErrorCode::kIo, "creating " + work.string() + ": " + ec.message());
  git_checkout_options opts;
  git_checkout_options_init(&opts, GIT_CHECKOUT_OPTIONS_VERSION);
  opts.checkout_strategy = GIT_CHECKOUT_FORCE | GIT_CHECKOUT_DONT_UPDATE_INDEX;
  std::string work_s = work.string();
  opts.target_directory = work_s.c_str();
  if (git_checkout_tree(repo, reinterpret_cast<git_object*>(commit), &opts) != 0)
    return GitError("checkout of " + sha);
  fs::path final_dir = trees / sha;
  for (int n = 1; fs::exists(fs::symlink_status(final_dir, ec)); ++n)
    final_dir = trees / (sha + "." + std::to_string(n));
  fs::rename(work, final_dir, ec);
  if (ec) return MakeError(ErrorCode::kIo, "renaming checkout: " + ec.message());
  cleanup.p.clear();
  return final_dir.string();
}

// The name `current` points at ("" when none).
std::string CurrentName(const fs::path& dest) {
  std::error_code ec;
  fs::path t = fs::read_symlink(dest / "current", ec);
  return ec ? std::string() : t.filename().string();
}

// A clean checkout of `sha`: an existing one verified file by file (the
// one `current` names first), else a new one. Local changes found are
// reported; the changed tree is left for GcTrees, never rewritten.
Result<std::string> EnsureTree(git_repository* repo, const fs::path& dest, const std::string& sha,
                               std::vector<std::string>& messages) {
  fs::path trees = dest / "trees";
  std::error_code ec;
  fs::create_directories(trees, ec);
  git_oid oid;
  if (git_oid_fromstr(&oid, sha.c_str()) != 0) return GitError("bad commit id " + sha);
  GitPtr<git_commit, git_commit_free> commit;
  if (git_commit_lookup(commit.out(), repo, &oid) != 0) return GitError("commit " + sha);
  GitPtr<git_tree, git_tree_free> tree;
  if (git_commit_tree(tree.out(), commit.get()) != 0) return GitError("tree of " + sha);
  auto shape = WalkTree(repo, tree.get(), {}, false);
  if (!shape.ok()) return shape.error();
  if (!shape->submodule.empty())
    return MakeError(ErrorCode::kInvalid,
                     "commit " + Short(sha) + " has a submodule at " + shape->submodule +
                         ": keel does not check out submodules; put those files in the repo");

  std::vector<std::string> names;
  std::string cur = CurrentName(dest);
  if (cur == sha || cur.rfind(sha + ".", 0) == 0) names.push_back(cur);
  for (const auto& e : fs::directory_iterator(trees, ec)) {
    std::string n = e.path().filename().string();
    if ((n == sha || n.rfind(sha + ".", 0) == 0) && n.find(".new.") == std::string::npos &&
        n != cur)
      names.push_back(n);
  }
  std::sort(names.begin() + (names.empty() || names[0] != cur ? 0 : 1), names.end());
  for (const auto& n : names) {
    fs::path p = trees / n;
    struct stat st;
    if (::lstat(p.c_str(), &st) != 0) continue;
    if (!S_ISDIR(st.st_mode)) {
      fs::remove(p, ec);
      messages.push_back("repaired " + p.string() + ": it was not a directory; checked out again");
      continue;
    }
    auto diff = WalkTree(repo, tree.get(), p, true);
    if (!diff.ok()) return diff.error();
    if (diff->empty()) return p.string();
    messages.push_back("discarded " + std::to_string(diff->count()) +
                       " local change(s) in the checkout of " + Short(sha) + " (" +
                       DescribeDiff(*diff) + "): checked out afresh");
  }
  return CheckoutTree(repo, commit.get(), trees, sha);
}

// `current` that is not a symlink (not made by keel) is moved aside and
// removed, said so.
void RepairCurrent(const fs::path& dest, std::vector<std::string>& messages) {
  std::error_code ec;
  fs::path current = dest / "current";
  auto st = fs::symlink_status(current, ec);
  if (!fs::exists(st) || fs::is_symlink(st)) return;
  fs::create_directories(dest / "trees", ec);
  fs::path aside = dest / "trees" / (".broken.current." + std::to_string(::getpid()));
  fs::rename(current, aside, ec);
  fs::remove_all(aside, ec);
  messages.push_back("repaired " + current.string() +
                     ": it was not a symlink; it points at the checkout again");
}

Result<void> SwitchCurrent(const fs::path& dest, const std::string& tree_dir,
                           std::vector<std::string>& messages) {
  std::string name = fs::path(tree_dir).filename().string();
  std::error_code ec;
  fs::path current = dest / "current";
  if (fs::is_symlink(fs::symlink_status(current, ec)) && CurrentName(dest) == name) return {};
  RepairCurrent(dest, messages);
  fs::path tmp = dest / (".current." + std::to_string(::getpid()));
  fs::remove(tmp, ec);
  fs::create_symlink(fs::path("trees") / name, tmp, ec);
  if (ec) return MakeError(ErrorCode::kIo, "creating current link: " + ec.message());
  fs::rename(tmp, current, ec);
  if (ec) return MakeError(ErrorCode::kIo, "switching " + current.string() + ": " + ec.message());
  return {};
}

// Removes the trees nobody uses: not in `keep`, not `current`, not locked
// by a reader; temp dirs of dead processes. Runs under the dest lock.
void GcTrees(const fs::path& dest, const std::set<std::string>& keep) {
  std::error_code ec;
  std::string cur = CurrentName(dest);
  std::vector<fs::path> entries;
  for (const auto& e : fs::directory_iterator(dest / "trees", ec)) entries.push_back(e.path());
  for (const auto& p : entries) {
    std::string n = p.filename().string();
    if (keep.count(n) || n == cur) continue;
    size_t at = n.find(".new.");
    if (at != std::string::npos) {
      // .new.<sha>.<pid>.<n> (and <sha>.new.<pid> of older keels).
      std::string rest = n.substr(at + 5);
      if (n[0] == '.') rest = rest.substr(std::min(rest.size(), rest.find('.') + 1));
      if (PidAlive(std::atol(rest.c_str())) && std::atol(rest.c_str()) != ::getpid()) continue;
      fs::remove_all(p, ec);
      continue;
    }
    struct stat st;
    if (::lstat(p.c_str(), &st) != 0) continue;
    if (!S_ISDIR(st.st_mode)) {
      fs::remove(p, ec);
      continue;
    }
    Fd fd(::open(p.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!fd.valid() || ::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) continue;  // in use
    fs::remove_all(p, ec);
  }
}

size_t PackCount(const fs::path& bare) {
  size_t n = 0;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(bare / "objects" / "pack", ec))
    n += e.path().extension() == ".pack";
  return n;
}

// git gc for repo.git (libgit2 has none): a new bare repository fetches
// only what refs/keel/* reach from the old one, then replaces it. Objects
// a force push left behind go away. Runs under the dest lock, with no
// handle on the old repository open.
void CompactRepo(const fs::path& bare, std::vector<std::string>& messages) {
  std::error_code ec;
  fs::path fresh = bare.string() + ".new." + std::to_string(::getpid());
  fs::path old = bare.string() + ".old." + std::to_string(::getpid());
  fs::remove_all(fresh, ec);
  bool ok = false;
  {
    RepoPtr repo;
    GitPtr<git_remote, git_remote_free> remote;
    if (git_repository_init(repo.out(), fresh.c_str(), 1) == 0 &&
        git_remote_create_anonymous(remote.out(), repo.get(), bare.c_str()) == 0) {
      git_fetch_options fopts;
      git_fetch_options_init(&fopts, GIT_FETCH_OPTIONS_VERSION);
      fopts.download_tags = GIT_REMOTE_DOWNLOAD_TAGS_NONE;
      const char* specs[] = {"+refs/keel/*:refs/keel/*"};
      git_strarray refspecs = {const_cast<char**>(specs), 1};
      ok = git_remote_fetch(remote.get(), &refspecs, &fopts, "keel gc") == 0;
    }
  }
  if (ok) {
    fs::rename(bare, old, ec);
    if (!ec) fs::rename(fresh, bare, ec);
    if (ec) {
      fs::rename(old, bare, ec);
      ok = false;
    }
    fs::remove_all(old, ec);
  }
  if (!ok) {
    fs::remove_all(fresh, ec);
    messages.push_back("could not compact " + bare.string() + " (it keeps working)");
  }
}

// Leftovers of killed runs next to repo.git.
void SweepDest(const fs::path& dest) {
  std::error_code ec;
  std::vector<fs::path> stale;
  for (const auto& e : fs::directory_iterator(dest, ec)) {
    std::string n = e.path().filename().string();
    if (n.rfind("repo.git.", 0) == 0 || n.rfind(".current.", 0) == 0) stale.push_back(e.path());
  }
  for (const auto& p : stale) fs::remove_all(p, ec);
}

Result<std::shared_ptr<Fd>> LockTree(const std::string& dir) {
  auto fd = std::make_shared<Fd>(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd->valid() || ::flock(fd->get(), LOCK_SH) != 0)
    return MakeError(ErrorCode::kIo, "cannot open " + dir + ": " + std::strerror(errno));
  return fd;
}

// Fetch, resolve, check for a rewind, make sure the tree is clean. `rewound`
// is set when the new commit does not descend from the last good one.
Result<std::string> FetchAndCheckout(git_repository* repo, const fs::path& dest,
                                     const PullOptions& o, const Record& rec, PullResult& result,
                                     bool& rewound) {
  auto sha = ResolveTarget(repo, o);
  if (!sha.ok()) return sha.error();
  if (!o.verify_keys.empty())
    if (auto v = VerifyCommitSignature(repo, *sha, o.verify_keys); !v.ok())
      return v.error().Context(o.url);
  if (!rec.good.empty() && rec.good != *sha) {
    git_oid now_oid, good_oid;
    git_oid_fromstr(&now_oid, sha->c_str());
    git_oid_fromstr(&good_oid, rec.good.c_str());
    int d = git_graph_descendant_of(repo, &now_oid, &good_oid);
    if (d != 1) {
      rewound = true;
      std::string what = "commit " + Short(*sha) + " of " + TargetName(o) +
                         " does not descend from the last applied commit " + Short(rec.good) +
                         (d < 0 ? " (that commit is no longer known)" : "") +
                         " (a force push or a rollback)";
      if (o.no_rewind)
        return MakeError(ErrorCode::kConflict,
                         "refusing " + what + "; --no-rewind is set, nothing applied");
      result.messages.push_back(what);
    }
  }
  auto dir = EnsureTree(repo, dest, *sha, result.messages);
  if (!dir.ok()) return dir.error();
  result.commit = *sha;
  return dir;
}

}  // namespace

Result<PullResult> PullConfigRepo(const PullOptions& in) {
  GitInit init;
  PullOptions o = in;
  std::error_code ec;
  fs::path dest = fs::absolute(o.dest, ec).lexically_normal();
  if (dest.has_filename() == false) dest = dest.parent_path();
  o.dest = dest.string();
  fs::create_directories(dest, ec);
  if (ec) return MakeError(ErrorCode::kIo, "creating " + dest.string() + ": " + ec.message());
  ::chmod(dest.c_str(), 0700);
  auto lock = LockDest(dest, o.lock_timeout);
  if (!lock.ok()) return lock.error();
  SweepDest(dest);
  fs::path bare = dest / "repo.git";

  PullResult result;
  RepairCurrent(dest, result.messages);
  Record rec = ReadRecord(dest, o);
  bool rewound = false;
  {
    RepoPtr repo;
    KEEL_TRY(OpenRepo(bare, repo, result.messages));
    if (std::string missing = MissingObject(repo.get()); !missing.empty())
      KEEL_TRY(RebuildRepo(bare, repo, missing, result.messages));
    FetchStats stats;
    auto fetched = FetchRemote(repo.get(), o, stats);
    if (fetched.ok()) {
      rec.fetched_at = Now();
      if (auto w = WriteRecord(dest, o, rec); !w.ok()) return w.error();
      result.fetched = true;
      auto dir = FetchAndCheckout(repo.get(), dest, o, rec, result, rewound);
      if (!dir.ok() && dir.error().code == ErrorCode::kIo) {
        // Objects missing although the refs are there (a fetch then
        // downloads nothing): make the repository again and fetch it all.
        KEEL_TRY(RebuildRepo(bare, repo, dir.error().message, result.messages));
        FetchStats again;
        KEEL_TRY(FetchRemote(repo.get(), o, again));
        stats.bytes += again.bytes;
        dir = FetchAndCheckout(repo.get(), dest, o, rec, result, rewound);
        if (!dir.ok())
          return MakeError(dir.error().code, dir.error().message + " (after re-fetching; remove " +
                                                 dest.string() + " to start afresh)");
      }
      if (!dir.ok()) return dir.error();
      result.tree_dir = *dir;
      result.received_bytes = stats.bytes;
    } else {
      if (rec.good.empty())
        return MakeError(fetched.error().code, fetched.error().message +
                                                   "; no last good commit of " + TargetName(o) +
                                                   " to fall back to");
      long since = rec.fetched_at > 0 ? rec.fetched_at : rec.validated_at;
      result.fetch_age_s = std::max(0L, Now() - since);
      // The fallback never bypasses --verify-signature (the keys may have changed).
      if (!o.verify_keys.empty())
        if (auto v = VerifyCommitSignature(repo.get(), rec.good, o.verify_keys); !v.ok())
          return v.error().Context(o.url);
      auto dir = EnsureTree(repo.get(), dest, rec.good, result.messages);
      if (!dir.ok())
        return MakeError(ErrorCode::kIo,
                         fetched.error().message + "; the last good commit " + Short(rec.good) +
                             " cannot be checked out (" + dir.error().message +
                             "); it will be fetched again once " + o.url +
                             " is reachable, or remove " + dest.string() + " to start afresh");
      result.messages.push_back(fetched.error().message + "; applying the last good commit " +
                                Short(rec.good) + " of " + TargetName(o) +
                                " (last successful fetch " + Age(result.fetch_age_s) + " ago)");
      result.commit = rec.good;
      result.tree_dir = *dir;
    }
  }
  auto tree_lock = LockTree(result.tree_dir);
  if (!tree_lock.ok()) return tree_lock.error();
  result.tree_lock = *tree_lock;
  if (o.switch_current) KEEL_TRY(SwitchCurrent(dest, result.tree_dir, result.messages));
  GcTrees(dest, {fs::path(result.tree_dir).filename().string()});
  // A rewind's left-behind objects go once the new commit validated and
  // the last good ref moved (MarkGood); here only the pack count counts.
  (void)rewound;
  if (PackCount(bare) > 40) CompactRepo(bare, result.messages);
  return result;
}

Result<void> MarkGood(const PullOptions& in, const std::string& commit,
                      const std::string& tree_dir) {
  GitInit init;
  PullOptions o = in;
  std::error_code ec;
  fs::path dest = fs::absolute(o.dest, ec).lexically_normal();
  auto lock = LockDest(dest, std::max(o.lock_timeout, 30.0));
  if (!lock.ok()) return lock.error();
  Record rec = ReadRecord(dest, o);
  std::string before = rec.good;
  rec.good = commit;
  rec.validated_at = Now();
  KEEL_TRY(WriteRecord(dest, o, rec));
  bool rewound = false;
  {
    // A ref keeps the commit's objects through CompactRepo.
    RepoPtr repo;
    git_oid oid, old_oid;
    GitPtr<git_reference, git_reference_free> ref;
    if (git_repository_open_bare(repo.out(), (dest / "repo.git").c_str()) == 0 &&
        git_oid_fromstr(&oid, commit.c_str()) == 0) {
      git_reference_create(ref.out(), repo.get(), ("refs/keel/good/" + TargetKey(o)).c_str(), &oid,
                           1, "keel: validated");
      rewound = !before.empty() && before != commit &&
                git_oid_fromstr(&old_oid, before.c_str()) == 0 &&
                git_graph_descendant_of(repo.get(), &oid, &old_oid) != 1;
    }
  }
  std::vector<std::string> ignored;
  if (!tree_dir.empty()) {
    KEEL_TRY(SwitchCurrent(dest, tree_dir, ignored));
    GcTrees(dest, {fs::path(tree_dir).filename().string()});
  }
  // The objects a force push left behind: nothing refers to them now.
  if (rewound) CompactRepo(dest / "repo.git", ignored);
  return {};
}

std::optional<GoodCommit> LastGood(const PullOptions& o) {
  std::error_code ec;
  Record rec = ReadRecord(fs::absolute(o.dest, ec).lexically_normal(), o);
  if (rec.good.empty()) return std::nullopt;
  return GoodCommit{rec.good, rec.validated_at, rec.fetched_at};
}

Result<long> ParseDuration(const std::string& text) {
  static const std::map<char, long> kUnits = {
      {'s', 1}, {'m', 60}, {'h', 3600}, {'d', 86400}, {'w', 7 * 86400}};
  long total = 0;
  size_t i = 0;
  bool any = false;
  while (i < text.size()) {
    size_t j = i;
    while (j < text.size() && text[j] >= '0' && text[j] <= '9') ++j;
    if (j == i || j - i > 9) break;
    long n = std::stol(text.substr(i, j - i));
    long unit = 1;
    if (j < text.size()) {
      auto u = kUnits.find(text[j]);
      if (u == kUnits.end()) break;
      unit = u->second;
      ++j;
    } else if (any) {
      break;  // "1h30": a unit is needed after the first part
    }
    total += n * unit;
    any = true;
    i = j;
  }
  if (!any || i != text.size())
    return MakeError(ErrorCode::kInvalid,
                     "not a duration: '" + text + "' (expected e.g. 90s, 30m, 2h, 1d, 1h30m)");
  return total;
}

}  // namespace keel
