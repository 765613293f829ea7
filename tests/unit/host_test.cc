#include "engine/host.h"

#include <doctest/doctest.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <thread>

#include "engine/host_real.h"
#include "tests/unit/support/temp_root.h"

using namespace keel;
using keel::testing::TempRoot;

namespace {

HostPath P(const char* s) { return *HostPath::Parse(s); }

std::unique_ptr<Host> Open(const TempRoot& root, BackupSink* sink = nullptr) {
  auto h = OpenRealHost(root.path(), sink);
  REQUIRE(h.ok());
  return std::move(*h);
}

struct RecordingSink : BackupSink {
  std::vector<std::pair<std::string, std::string>> saved;
  Result<void> Save(const HostPath& path, std::string_view content) override {
    saved.emplace_back(path.str(), std::string(content));
    return {};
  }
};

// Runs the body once with openat2 and once with the manual component walk.
struct ResolverMode {
  explicit ResolverMode(bool walk) {
    if (walk) {
      setenv("KEEL_NO_OPENAT2", "1", 1);
    } else {
      unsetenv("KEEL_NO_OPENAT2");
    }
  }
  ~ResolverMode() { unsetenv("KEEL_NO_OPENAT2"); }
};

struct Sentinel {
  // A real directory outside every test root, that no test may touch.
  std::string dir;
  Sentinel() {
    char tmpl[] = "/tmp/keel-sentinel-XXXXXX";
    dir = mkdtemp(tmpl);
  }
  ~Sentinel() {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
};

}  // namespace

TEST_CASE("hostio: HostPath normalises") {
  CHECK(HostPath::Parse("/etc//x/../y")->str() == "/etc/y");
  CHECK(HostPath::Parse("/../../etc")->str() == "/etc");
  CHECK(HostPath::Parse("/a/./b/")->str() == "/a/b");
  CHECK(HostPath::Parse("/")->str() == "/");
  CHECK(HostPath::Parse("/..")->str() == "/");
  CHECK_FALSE(HostPath::Parse("etc/hosts").ok());
  CHECK_FALSE(HostPath::Parse("").ok());
  CHECK(HostPath::Parse("relative").error().code == ErrorCode::kInvalid);
  HostPath p = P("/etc/default/grub");
  CHECK(p.Parent().str() == "/etc/default");
  CHECK(p.Basename() == "grub");
  CHECK(P("/etc").Parent().str() == "/");
  CHECK(P("/").Parent().str() == "/");
  CHECK(P("/etc").Join("a/../b//c").str() == "/etc/b/c");
  CHECK(P("/etc").Join("../../..").str() == "/");
  CHECK(P("/etc").IsAncestorOf(P("/etc/hosts")));
  CHECK_FALSE(P("/etc").IsAncestorOf(P("/etc")));
  CHECK_FALSE(P("/etc").IsAncestorOf(P("/etcfoo")));
  CHECK(P("/").IsAncestorOf(P("/etc")));
  CHECK_FALSE(P("/").IsAncestorOf(P("/")));
}

TEST_CASE("hostio: Command::Display quotes") {
  Command c;
  c.argv = {"echo", "a b", "it's"};
  CHECK(c.Display() == "echo 'a b' 'it'\\''s'");
  Command s;
  s.shell = "echo hi";
  CHECK(s.Display() == "/bin/sh -c 'echo hi'");
}

TEST_CASE("hostio: real host reads, writes, lists, removes") {
  for (bool walk : {false, true}) {
    CAPTURE(walk);
    ResolverMode mode(walk);
    TempRoot root;
    root.Write("/etc/hosts", "127.0.0.1 localhost\n");
    root.Mkdir("/etc/sub");
    auto host = Open(root);
    CHECK_FALSE(host->live());
    CHECK_FALSE(host->dry_run());

    auto r = host->ReadFile(P("/etc/hosts"));
    REQUIRE(r.ok());
    REQUIRE(r->has_value());
    CHECK(**r == "127.0.0.1 localhost\n");
    auto absent = host->ReadFile(P("/etc/nope"));
    REQUIRE(absent.ok());
    CHECK_FALSE(absent->has_value());
    auto under_file = host->ReadFile(P("/etc/hosts/x"));
    REQUIRE(under_file.ok());
    CHECK_FALSE(under_file->has_value());
    auto dir = host->ReadFile(P("/etc"));
    REQUIRE_FALSE(dir.ok());
    CHECK(dir.error().message.find("is a directory") != std::string::npos);

    FileAttrs attrs;
    attrs.mode = 0600;
    REQUIRE(host->WriteFileAtomic(P("/etc/new"), "data\n", attrs).ok());
    CHECK(root.Read("/etc/new") == "data\n");
    CHECK(root.Mode("/etc/new") == 0600);
    auto st = host->Stat(P("/etc/new"));
    REQUIRE(st.ok());
    CHECK(st->type == FileType::kFile);
    CHECK(st->mode == 0600);
    CHECK(st->size == 5);

    auto names = host->ListDir(P("/etc"));
    REQUIRE(names.ok());
    CHECK(*names == std::vector<std::string>{"hosts", "new", "sub"});
    CHECK(host->ListDir(P("/nope")).error().code == ErrorCode::kNotFound);

    // No temp files left behind.
    CHECK(root.Snapshot().size() == 4);

    REQUIRE(host->Remove(P("/etc/new"), false).ok());
    CHECK_FALSE(root.Exists("/etc/new"));
    REQUIRE(host->Remove(P("/etc/new"), false).ok());  // absent: ok

    root.Write("/etc/sub/deep/f", "x");
    CHECK_FALSE(host->Remove(P("/etc/sub"), false).ok());
    REQUIRE(host->Remove(P("/etc/sub"), true).ok());
    CHECK_FALSE(root.Exists("/etc/sub"));
    CHECK_FALSE(host->Remove(P("/"), true).ok());

    auto missing_parent = host->WriteFileAtomic(P("/no/such/file"), "x", {});
    REQUIRE_FALSE(missing_parent.ok());
    CHECK(missing_parent.error().code == ErrorCode::kNotFound);
  }
}

TEST_CASE("hostio: atomic write keeps mode and owner of the replaced file") {
  TempRoot root;
  root.Write("/etc/shadow", "old\n", 0640);
  REQUIRE(::chown(root.Real("/etc/shadow").c_str(), 12, 34) == 0);
  RecordingSink sink;
  auto host = Open(root, &sink);
  REQUIRE(host->WriteFileAtomic(P("/etc/shadow"), "new\n", {}).ok());
  struct stat st;
  REQUIRE(::lstat(root.Real("/etc/shadow").c_str(), &st) == 0);
  CHECK((st.st_mode & 07777) == 0640);
  CHECK(st.st_uid == 12);
  CHECK(st.st_gid == 34);
  CHECK(root.Read("/etc/shadow") == "new\n");
  REQUIRE(sink.saved.size() == 1);
  CHECK(sink.saved[0].first == "/etc/shadow");
  CHECK(sink.saved[0].second == "old\n");

  // Same content again: no backup; explicit attrs win.
  FileAttrs attrs;
  attrs.mode = 0600;
  attrs.uid = 0;
  attrs.gid = 0;
  REQUIRE(host->WriteFileAtomic(P("/etc/shadow"), "new\n", attrs).ok());
  CHECK(sink.saved.size() == 1);
  REQUIRE(::lstat(root.Real("/etc/shadow").c_str(), &st) == 0);
  CHECK((st.st_mode & 07777) == 0600);
  CHECK(st.st_uid == 0);

  // A new file: 0644 root:root.
  REQUIRE(host->WriteFileAtomic(P("/etc/fresh"), "", {}).ok());
  CHECK(root.Mode("/etc/fresh") == 0644);

  // backup=false and removal backups.
  FileAttrs nob;
  nob.backup = false;
  REQUIRE(host->WriteFileAtomic(P("/etc/shadow"), "newer\n", nob).ok());
  CHECK(sink.saved.size() == 1);
  REQUIRE(host->Remove(P("/etc/shadow"), false).ok());
  REQUIRE(sink.saved.size() == 2);
  CHECK(sink.saved[1].second == "newer\n");
}

TEST_CASE("hostio: absolute symlinks resolve inside the root, never outside") {
  for (bool walk : {false, true}) {
    CAPTURE(walk);
    ResolverMode mode(walk);
    Sentinel outside;
    std::string sentinel_file = outside.dir + "/hosts";
    ::close(::open(sentinel_file.c_str(), O_CREAT | O_WRONLY, 0644));
    REQUIRE(std::filesystem::exists(sentinel_file));

    TempRoot root;
    RecordingSink sink;
    // <root>/etc/hosts -> <outside>/hosts (absolute): must mean <root><outside>/hosts.
    root.Mkdir(outside.dir);
    root.Write(outside.dir + "/hosts", "inside\n");
    root.Symlink("/etc/hosts", sentinel_file);
    root.Symlink("/etc/up", "../../../../../../" + outside.dir.substr(1) + "/hosts");
    auto host = Open(root, &sink);

    auto r = host->ReadFile(P("/etc/hosts"));
    REQUIRE(r.ok());
    REQUIRE(r->has_value());
    CHECK(**r == "inside\n");
    auto up = host->ReadFile(P("/etc/up"));
    REQUIRE(up.ok());
    REQUIRE(up->has_value());
    CHECK(**up == "inside\n");

    REQUIRE(host->WriteFileAtomic(P("/etc/hosts"), "written\n", {}).ok());
    CHECK(root.Read(outside.dir + "/hosts") == "written\n");
    REQUIRE(sink.saved.size() == 1);
    CHECK(sink.saved[0].first == "/etc/hosts");  // the managed path
    CHECK(sink.saved[0].second == "inside\n");
    // The link is still a link.
    auto l = host->Lstat(P("/etc/hosts"));
    REQUIRE(l.ok());
    CHECK(l->type == FileType::kSymlink);
    CHECK(l->link_target == sentinel_file);
    REQUIRE(host->WriteFileAtomic(P("/etc/up"), "via up\n", {}).ok());
    CHECK(root.Read(outside.dir + "/hosts") == "via up\n");

    // A directory link to "/" of the host stays in the root.
    root.Symlink("/escape", "/");
    auto listed = host->ListDir(P("/escape"));
    REQUIRE(listed.ok());
    CHECK(std::find(listed->begin(), listed->end(), "proc") == listed->end());
    REQUIRE(host->WriteFileAtomic(*HostPath::Parse("/escape" + outside.dir + "/x"), "y", {}).ok());

    // The real outside file is untouched and nothing new appeared there.
    struct stat st;
    REQUIRE(::stat(sentinel_file.c_str(), &st) == 0);
    CHECK(st.st_size == 0);
    CHECK_FALSE(std::filesystem::exists(outside.dir + "/x"));
    CHECK(root.Read(outside.dir + "/x") == "y");
  }
}

TEST_CASE("hostio: symlink, stat, lstat, setattrs") {
  TempRoot root;
  root.Write("/etc/a", "a");
  auto host = Open(root);
  REQUIRE(host->Symlink(P("/etc/link"), "a").ok());
  auto l = host->Lstat(P("/etc/link"));
  REQUIRE(l.ok());
  CHECK(l->type == FileType::kSymlink);
  CHECK(l->link_target == "a");
  auto s = host->Stat(P("/etc/link"));
  REQUIRE(s.ok());
  CHECK(s->type == FileType::kFile);
  // Replace atomically.
  REQUIRE(host->Symlink(P("/etc/link"), "/nowhere").ok());
  CHECK(host->Lstat(P("/etc/link"))->link_target == "/nowhere");
  CHECK(host->Stat(P("/etc/link"))->type == FileType::kNone);  // dangling
  auto dangling = host->ReadFile(P("/etc/link"));
  REQUIRE(dangling.ok());
  CHECK_FALSE(dangling->has_value());
  CHECK(host->Lstat(P("/etc/none"))->type == FileType::kNone);

  FileAttrs attrs;
  attrs.mode = 0700;
  attrs.uid = 5;
  attrs.gid = 6;
  REQUIRE(host->SetAttrs(P("/etc/a"), attrs).ok());
  struct stat st;
  REQUIRE(::lstat(root.Real("/etc/a").c_str(), &st) == 0);
  CHECK((st.st_mode & 07777) == 0700);
  CHECK(st.st_uid == 5);
  CHECK(st.st_gid == 6);
  REQUIRE(host->SetAttrs(P("/etc/link"), attrs).ok());  // lchown, no chmod
  REQUIRE(::lstat(root.Real("/etc/link").c_str(), &st) == 0);
  CHECK(st.st_uid == 5);
  CHECK(host->SetAttrs(P("/etc/none"), attrs).error().code == ErrorCode::kNotFound);

  FileAttrs dmode;
  dmode.mode = 0750;
  REQUIRE(host->MakeDir(P("/srv"), dmode).ok());
  CHECK(root.Mode("/srv") == 0750);
  REQUIRE(host->MakeDir(P("/srv"), {}).ok());
  CHECK_FALSE(host->MakeDir(P("/etc/a"), {}).ok());
}

TEST_CASE("hostio: MakeParents, LookupUid/Gid, HasProgram") {
  TempRoot root;
  root.Write("/etc/passwd",
             "root:x:0:0:root:/root:/bin/bash\nwww-data:x:33:33::/var/www:/bin/false\n");
  root.Write("/etc/group", "root:x:0:\nadm:x:4:syslog\n");
  root.Write("/usr/bin/tool", "#!/bin/sh\n", 0755);
  root.Write("/usr/bin/noexec", "", 0644);
  auto host = Open(root);
  auto made = MakeParents(*host, P("/var/lib/keel/x/file"));
  REQUIRE(made.ok());
  REQUIRE(made->size() == 4);
  CHECK((*made)[0].str() == "/var");
  CHECK((*made)[3].str() == "/var/lib/keel/x");
  CHECK(root.Mode("/var/lib/keel/x") == 0755);
  CHECK(MakeParents(*host, P("/var/lib/keel/x/file"))->empty());
  CHECK_FALSE(MakeParents(*host, P("/etc/passwd/sub/x")).ok());

  CHECK(*LookupUid(*host, "www-data") == 33);
  CHECK(*LookupUid(*host, "1234") == 1234);
  CHECK(*LookupGid(*host, "adm") == 4);
  auto nouser = LookupUid(*host, "nobody");
  REQUIRE_FALSE(nouser.ok());
  CHECK(nouser.error().code == ErrorCode::kNotFound);
  CHECK(nouser.error().message == "no user 'nobody' in /etc/passwd");
  CHECK_FALSE(LookupGid(*host, "www").ok());

  CHECK(HasProgram(*host, "tool"));
  CHECK(HasProgram(*host, "/usr/bin/tool"));
  CHECK_FALSE(HasProgram(*host, "noexec"));
  CHECK_FALSE(HasProgram(*host, "missing"));
}

TEST_CASE("hostio: overlay layers writes in memory") {
  TempRoot root;
  root.Write("/etc/hosts", "base\n");
  root.Write("/etc/gone", "bye\n");
  root.Mkdir("/var");
  auto real = Open(root);
  auto before = root.Snapshot();
  auto overlay = MakeOverlayHost(*real);
  REQUIRE(overlay);
  CHECK(overlay->dry_run());

  REQUIRE(overlay->WriteFileAtomic(P("/etc/hosts"), "planned\n", {}).ok());
  CHECK(**overlay->ReadFile(P("/etc/hosts")) == "planned\n");
  REQUIRE(overlay->MakeDir(P("/var/new"), {}).ok());
  CHECK(overlay->Stat(P("/var/new"))->type == FileType::kDirectory);
  REQUIRE(overlay->WriteFileAtomic(P("/var/new/f"), "f\n", {}).ok());
  CHECK(**overlay->ReadFile(P("/var/new/f")) == "f\n");
  CHECK(*overlay->ListDir(P("/var/new")) == std::vector<std::string>{"f"});
  REQUIRE(overlay->Remove(P("/etc/gone"), false).ok());
  CHECK_FALSE(overlay->ReadFile(P("/etc/gone"))->has_value());
  CHECK(overlay->Lstat(P("/etc/gone"))->type == FileType::kNone);
  CHECK(*overlay->ListDir(P("/etc")) == std::vector<std::string>{"hosts"});
  CHECK(*overlay->ListDir(P("/var")) == std::vector<std::string>{"new"});
  CHECK(overlay->WriteFileAtomic(P("/nodir/x"), "", {}).error().code == ErrorCode::kNotFound);

  // MakeParents records in the overlay.
  auto made = MakeParents(*overlay, P("/opt/a/b/c"));
  REQUIRE(made.ok());
  CHECK(made->size() == 3);
  CHECK(overlay->Stat(P("/opt/a/b"))->type == FileType::kDirectory);

  // Nothing reached the base.
  CHECK(root.Snapshot() == before);
  CHECK(**real->ReadFile(P("/etc/hosts")) == "base\n");
}

namespace {

std::unique_ptr<Host> Live() {
  auto h = OpenRealHost("/", nullptr);
  REQUIRE(h.ok());
  return std::move(*h);
}

void CopyFile(const std::string& from, const std::string& to, mode_t mode) {
  std::filesystem::create_directories(std::filesystem::path(to).parent_path());
  std::filesystem::copy_file(std::filesystem::canonical(from), to,
                             std::filesystem::copy_options::overwrite_existing);
  ::chmod(to.c_str(), mode);
}

// A root with a working /bin/sh and /bin/cat (dash + libc + loader), so the
// chroot of Run can be exercised for real.
bool SeedShellRoot(TempRoot& root) {
  const char* libs[] = {"/lib/x86_64-linux-gnu/libc.so.6", "/lib64/ld-linux-x86-64.so.2"};
  for (const char* l : libs) {
    if (!std::filesystem::exists(l)) return false;
  }
  CopyFile("/bin/sh", root.Real("/bin/sh"), 0755);
  CopyFile("/bin/cat", root.Real("/bin/cat"), 0755);
  for (const char* l : libs) CopyFile(l, root.Real(l), 0755);
  return true;
}

}  // namespace

TEST_CASE("hostio: Run captures output, exit codes, stdin, environment") {
  auto host = Live();
  CHECK(host->live());
  Command c;
  c.argv = {"sh", "-c", "echo out; echo err >&2; exit 3"};
  auto r = host->Run(c);
  REQUIRE(r.ok());
  CHECK(r->exit_code == 3);
  CHECK(r->out == "out\n");
  CHECK(r->err == "err\n");
  CHECK_FALSE(r->timed_out);

  Command s;
  s.shell = "cat; echo \"$LANG:$PATH:$FOO\"; pwd";
  s.stdin_data = "input line\n";
  s.env = {{"FOO", "bar"}};
  s.cwd = "/tmp";
  r = host->Run(s);
  REQUIRE(r.ok());
  CHECK(r->exit_code == 0);
  CHECK(r->out ==
        "input line\nC:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:bar\n/tmp\n");

  // A large stdin and a large stdout at once do not deadlock.
  Command big;
  big.argv = {"cat"};
  big.stdin_data = std::string(3 << 20, 'x');
  r = host->Run(big);
  REQUIRE(r.ok());
  CHECK(r->exit_code == 0);
  CHECK(r->out.size() == (1u << 20));  // capped: the last 1 MiB kept

  // A command that ignores its stdin.
  Command ignore;
  ignore.argv = {"true"};
  ignore.stdin_data = std::string(1 << 20, 'y');
  r = host->Run(ignore);
  REQUIRE(r.ok());
  CHECK(r->exit_code == 0);

  Command killed;
  killed.shell = "kill -9 $$";
  r = host->Run(killed);
  REQUIRE(r.ok());
  CHECK(r->exit_code == -1);
}

TEST_CASE("hostio: Run of a missing program is an error") {
  auto host = Live();
  Command c;
  c.argv = {"keel-no-such-program"};
  auto r = host->Run(c);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message == "cannot run 'keel-no-such-program': No such file or directory");
  c.argv = {"/nonexistent/prog"};
  CHECK_FALSE(host->Run(c).ok());
  Command empty;
  CHECK_FALSE(host->Run(empty).ok());
}

TEST_CASE("hostio: Run timeout kills the whole process group") {
  auto host = Live();
  Command c;
  c.shell = "sleep 100 & sleep 100";
  c.timeout_s = 1;
  auto start = std::chrono::steady_clock::now();
  auto r = host->Run(c);
  double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  REQUIRE(r.ok());
  CHECK(r->timed_out);
  CHECK(r->exit_code == -1);
  CHECK(took < 3.5);
  // A background child that survives the main process does not hold Run up.
  Command bg;
  bg.shell = "sleep 5 >/dev/null 2>&1 & echo started";
  start = std::chrono::steady_clock::now();
  r = host->Run(bg);
  took = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  REQUIRE(r.ok());
  CHECK(r->out == "started\n");
  CHECK(took < 2.0);
  // Even when it keeps stdout and stderr open.
  Command holder;
  holder.shell = "sleep 3 & echo started";
  start = std::chrono::steady_clock::now();
  r = host->Run(holder);
  took = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  REQUIRE(r.ok());
  CHECK(r->out == "started\n");
  CHECK(r->exit_code == 0);
  CHECK(took < 2.0);
  // A process ignoring SIGTERM is killed 2 s later.
  Command stubborn;
  stubborn.shell = "trap '' TERM; sleep 100";
  stubborn.timeout_s = 1;
  start = std::chrono::steady_clock::now();
  r = host->Run(stubborn);
  took = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  REQUIRE(r.ok());
  CHECK(r->timed_out);
  CHECK(took < 4.5);
}

TEST_CASE("hostio: Run under a root: chrooted, or KEEL_ROOT without chroot") {
  TempRoot root;
  root.Write("/etc/marker", "inside the root\n");
  root.Mkdir("/work");
  if (!SeedShellRoot(root)) return;
  auto host = Open(root);
  Command c;
  c.shell = "cat /etc/marker; pwd; echo \"[$KEEL_ROOT]\"";
  c.cwd = "/work";
  auto r = host->Run(c);
  REQUIRE(r.ok());
  CHECK(r->exit_code == 0);
  CHECK(r->out == "inside the root\n/work\n[]\n");

  Command missing;
  missing.argv = {"ls"};  // exists on the host, not in the root
  auto m = host->Run(missing);
  REQUIRE_FALSE(m.ok());
  CHECK(m.error().message.find("cannot run 'ls'") != std::string::npos);

  Command nochroot;
  nochroot.shell = "cat \"$KEEL_ROOT/etc/marker\"; pwd";
  nochroot.chroot = false;
  nochroot.cwd = "/work";
  r = host->Run(nochroot);
  REQUIRE(r.ok());
  CHECK(r->out == "inside the root\n" + host->root() + "/work\n");

  // Without chroot the working directory is still resolved inside the root:
  // an absolute link /wlink -> /work means <root>/work, not the host's /work.
  root.Symlink("/wlink", "/work");
  nochroot.shell = "pwd -P";
  nochroot.cwd = "/wlink";
  r = host->Run(nochroot);
  REQUIRE(r.ok());
  CHECK(r->out == host->root() + "/work\n");
  nochroot.cwd = "/missing";
  CHECK_FALSE(host->Run(nochroot).ok());
  Command rel;
  rel.shell = "pwd";
  rel.cwd = "work";
  auto bad = host->Run(rel);
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().message.find("not absolute") != std::string::npos);
  rel.cwd = "/missing";
  bad = host->Run(rel);
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().message.find("/missing") != std::string::npos);
}

namespace {

void SeedTree(TempRoot& r) {
  r.Write("/srv/hosts", "srv hosts\n");
  r.Symlink("/etc/hosts", "/srv/hosts");
  r.Write("/etc/motd", "motd\n", 0644);
  r.Write("/etc/motd2", "motd2\n");
  r.Write("/var/old/a", "a");
  r.Write("/var/old/deep/b", "b");
  r.Symlink("/etc/rel", "../srv/hosts");
  r.Mkdir("/usr/share");
}

// Applies one sequence of changes; every call must succeed.
void ApplyOps(Host& h) {
  FileAttrs keep;
  REQUIRE(h.WriteFileAtomic(P("/etc/hosts"), "via link\n", keep).ok());
  REQUIRE(h.MakeDir(P("/opt"), {}).ok());
  FileAttrs m750;
  m750.mode = 0750;
  REQUIRE(h.MakeDir(P("/opt/sub"), m750).ok());
  FileAttrs own;
  own.mode = 0640;
  own.uid = 7;
  own.gid = 8;
  REQUIRE(h.WriteFileAtomic(P("/opt/sub/f"), "f\n", own).ok());
  REQUIRE(h.Remove(P("/var/old"), true).ok());
  REQUIRE(h.MakeDir(P("/var/old"), {}).ok());
  REQUIRE(h.WriteFileAtomic(P("/var/old/new"), "new\n", {}).ok());
  REQUIRE(h.Symlink(P("/etc/alt"), "../srv").ok());
  REQUIRE(h.WriteFileAtomic(P("/etc/alt/x"), "x via dir link\n", {}).ok());
  FileAttrs m600;
  m600.mode = 0600;
  m600.uid = 3;
  REQUIRE(h.SetAttrs(P("/etc/motd"), m600).ok());
  REQUIRE(h.Remove(P("/etc/motd2"), false).ok());
  REQUIRE(h.WriteFileAtomic(P("/etc/rel"), "via relative link\n", {}).ok());
  REQUIRE(h.Symlink(P("/etc/hosts"), "/etc/motd").ok());
  REQUIRE(MakeParents(h, P("/a/b/c/file")).ok());
  REQUIRE(h.WriteFileAtomic(P("/a/b/c/file"), "deep\n", {}).ok());
}

std::string Describe(Host& h, const HostPath& p) {
  std::string out = p.str() + ":";
  auto l = h.Lstat(p);
  if (!l.ok()) return out + " lstat error " + l.error().message;
  out += " type=" + std::to_string(static_cast<int>(l->type));
  if (!l->exists()) return out;
  if (l->type != FileType::kSymlink) {
    out += " mode=" + std::to_string(l->mode) + " uid=" + std::to_string(l->uid) +
           " gid=" + std::to_string(l->gid);
  }
  if (l->type == FileType::kSymlink) out += " ->" + l->link_target;
  auto s = h.Stat(p);
  out += " stat=" + (s.ok() ? std::to_string(static_cast<int>(s->type)) : "error");
  if (s.ok() && s->type == FileType::kFile) {
    auto c = h.ReadFile(p);
    out += " content=" + (c.ok() && c->has_value() ? **c : std::string("?"));
  }
  if (s.ok() && s->type == FileType::kDirectory) {
    auto names = h.ListDir(p);
    out += " entries=";
    if (names.ok()) {
      for (auto& n : *names) out += n + ",";
    }
  }
  return out;
}

}  // namespace

TEST_CASE("hostio: overlay ends in the same state as the real host") {
  for (bool walk : {false, true}) {
    CAPTURE(walk);
    ResolverMode mode(walk);
    TempRoot a, b;
    SeedTree(a);
    SeedTree(b);
    auto real_a = Open(a);
    auto real_b = Open(b);
    auto before = a.Snapshot();
    auto overlay = MakeOverlayHost(*real_a);
    ApplyOps(*overlay);
    ApplyOps(*real_b);
    CHECK(a.Snapshot() == before);  // the plan wrote nothing

    std::vector<std::string> probes = {"/",     "/etc/motd2",     "/var/old/a",  "/var/old/deep/b",
                                       "/nope", "/etc/alt/hosts", "/etc/hosts/x"};
    for (const auto& [path, desc] : b.Snapshot()) {
      if (path.find("/.keel-") == std::string::npos) probes.push_back(path);
    }
    for (const auto& p : probes) {
      CAPTURE(p);
      HostPath hp = P(p.c_str());
      CHECK(Describe(*overlay, hp) == Describe(*real_b, hp));
    }
    CHECK(**overlay->ReadFile(P("/etc/alt/x")) == "x via dir link\n");
    CHECK(**overlay->ReadFile(P("/srv/hosts")) == "via relative link\n");
  }
}

TEST_CASE("hostio: overlay errors match the real host") {
  TempRoot root;
  root.Write("/etc/file", "x");
  root.Mkdir("/etc/dir/sub");
  auto real = Open(root);
  auto overlay = MakeOverlayHost(*real);
  REQUIRE(overlay->WriteFileAtomic(P("/etc/new"), "n", {}).ok());  // non-empty layer
  CHECK_FALSE(overlay->WriteFileAtomic(P("/etc/dir"), "x", {}).ok());
  CHECK_FALSE(overlay->ReadFile(P("/etc/dir")).ok());
  CHECK_FALSE(overlay->Remove(P("/etc/dir"), false).ok());
  CHECK_FALSE(overlay->MakeDir(P("/etc/file"), {}).ok());
  CHECK_FALSE(overlay->ListDir(P("/etc/file")).ok());
  CHECK(overlay->ListDir(P("/etc/none")).error().code == ErrorCode::kNotFound);
  CHECK(overlay->SetAttrs(P("/etc/none"), FileAttrs{.mode = 0600}).error().code ==
        ErrorCode::kNotFound);
  CHECK_FALSE(overlay->Symlink(P("/etc/dir"), "x").ok());
  CHECK_FALSE(overlay->ReadFile(P("/etc/file/x"))->has_value());
  // Symlink loops are errors, not hangs.
  REQUIRE(overlay->Symlink(P("/loop1"), "/loop2").ok());
  REQUIRE(overlay->Symlink(P("/loop2"), "/loop1").ok());
  CHECK_FALSE(overlay->ReadFile(P("/loop1")).ok());
  CHECK(overlay->Stat(P("/loop1"))->type == FileType::kNone);
  root.Symlink("/rloop1", "/rloop2");
  root.Symlink("/rloop2", "/rloop1");
  CHECK_FALSE(real->ReadFile(P("/rloop1")).ok());
  CHECK(real->Stat(P("/rloop1"))->type == FileType::kNone);
  CHECK(real->Lstat(P("/rloop1"))->type == FileType::kSymlink);
  CHECK_FALSE(real->WriteFileAtomic(P("/rloop1"), "x", {}).ok());
}

TEST_CASE("hostio: large files read and write quickly and intact") {
  TempRoot root;
  root.Mkdir("/data");
  auto host = Open(root);
  std::string big;
  big.reserve(20 << 20);
  for (int i = 0; big.size() < (20u << 20); ++i) big += "line " + std::to_string(i) + "\n";
  auto start = std::chrono::steady_clock::now();
  REQUIRE(host->WriteFileAtomic(P("/data/big"), big, {}).ok());
  auto r = host->ReadFile(P("/data/big"));
  double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  REQUIRE(r.ok());
  REQUIRE(r->has_value());
  CHECK(**r == big);
  CHECK(took < 5.0);
  MESSAGE("20 MiB write+read: " << took << " s");
}

TEST_CASE("hostio: the first write in a directory sweeps temp files a killed run left there") {
  TempRoot root;
  root.Write("/etc/hosts", "old\n");
  root.Write("/etc/.keel-hosts.0123456789ab", "half written");
  root.Write("/etc/.keel-hosts.backup", "not ours");
  root.Write("/etc/.keel-other.0123456789ab", "another file's temp");
  auto host = Open(root);
  REQUIRE(host->WriteFileAtomic(P("/etc/hosts"), "new\n", {}).ok());
  CHECK(root.Read("/etc/hosts") == "new\n");
  CHECK_FALSE(root.Exists("/etc/.keel-hosts.0123456789ab"));
  CHECK_FALSE(root.Exists("/etc/.keel-other.0123456789ab"));
  CHECK(root.Exists("/etc/.keel-hosts.backup"));
  CHECK(root.Snapshot().size() == 3);
  // Once per directory per run: later writes there do not rescan it (a
  // rescan per write made N files in one directory O(N^2)).
  root.Write("/etc/.keel-late.0123456789ab", "appeared during the run");
  REQUIRE(host->WriteFileAtomic(P("/etc/hosts"), "newer\n", {}).ok());
  CHECK(root.Exists("/etc/.keel-late.0123456789ab"));
}

TEST_CASE("hostio: overlay is safe to use from several threads (--jobs)") {
  TempRoot root;
  root.Mkdir("/etc");
  auto real = Open(root);
  auto overlay = MakeOverlayHost(*real);
  std::vector<std::thread> threads;
  std::atomic<int> bad{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 200; ++i) {
        std::string p = "/etc/f" + std::to_string(t) + "_" + std::to_string(i);
        HostPath hp = *HostPath::Parse(p);
        if (!overlay->WriteFileAtomic(hp, p, {}).ok()) ++bad;
        auto r = overlay->ReadFile(hp);
        if (!r.ok() || !r->has_value() || **r != p) ++bad;
      }
    });
  }
  for (auto& th : threads) th.join();
  CHECK(bad == 0);
  CHECK(overlay->ListDir(P("/etc"))->size() == 800);
  CHECK(real->ListDir(P("/etc"))->empty());
}
