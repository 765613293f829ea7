// file type: the timeline (seed -> plan leaves the tree -> apply -> apply
// again unchanged) for content, mode/owner, directories, links, absent,
// force, purge, backups, source, template; root confinement of symlinks.
#include <doctest/doctest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "engine/atomic_file.h"
#include "engine/host_real.h"
#include "engine/passwd.h"
#include "engine/registry.h"
#include "resources/builtin.h"
#include "resources/file/file_content.h"
#include "resources/file/file_util.h"
#include "tests/unit/support/converge.h"
#include "tests/unit/support/temp_root.h"

using namespace keel;
using namespace keel::testing;

namespace {

class RecordingSink : public BackupSink {
 public:
  Result<void> Save(const HostPath& path, std::string_view content) override {
    saved.emplace_back(path.str(), std::string(content));
    return {};
  }
  std::vector<std::pair<std::string, std::string>> saved;
};

struct FileFixture {
  TempRoot root;
  Registry reg;
  RecordingSink sink;
  std::unique_ptr<Host> host;

  FileFixture() {
    RegisterFile(reg);
    RegisterExec(reg);
    auto h = OpenRealHost(root.path(), &sink);
    REQUIRE_MESSAGE(h.ok(), (h.ok() ? "" : h.error().message));
    host = std::move(*h);
  }
  Resource File(const std::string& path, Attrs attrs = {}) {
    return MakeResource(reg, "file", path, std::move(attrs));
  }
  ConvergeResult Run(const Resource& r, bool noop = false, RunContext* ctx = nullptr) {
    return Converge(reg, r, *host, noop, ctx);
  }
  std::vector<ConvergeResult> RunAll(const std::vector<Resource>& rs, bool noop = false,
                                     RunContext* ctx = nullptr) {
    return ConvergeAll(reg, rs, *host, noop, ctx);
  }
  ConvergeResult Timeline(const Resource& r, RunContext* ctx = nullptr) {
    return testing::Timeline(reg, r, *host, root, ctx);
  }
  struct stat Stat(const std::string& p) {
    struct stat st {};
    ::lstat(root.Real(p).c_str(), &st);
    return st;
  }
};

const Change* FindChange(const std::vector<Change>& cs, const std::string& attr) {
  for (const auto& c : cs)
    if (c.attr == attr) return &c;
  return nullptr;
}

std::vector<std::string> Problems(const Registry& reg, const std::string& path, Attrs attrs) {
  Resource r;
  r.ref = {"file", path};
  r.attrs = std::move(attrs);
  std::vector<std::string> out;
  for (const auto& p : PrepareResource(*reg.Find("file"), r)) out.push_back(p.message);
  return out;
}

}  // namespace

TEST_CASE("file_util: modes, passwd names, line:col") {
  CHECK(file::ParseMode("0644") == 0644u);
  CHECK(file::ParseMode("755") == 0755u);
  CHECK(file::ParseMode("4755") == 04755u);
  CHECK_FALSE(file::ParseMode("0648"));
  CHECK_FALSE(file::ParseMode("12"));
  CHECK(file::FormatMode(0644) == "0644");
  CHECK(file::FormatMode(0100755) == "0755");
  CHECK(file::FormatMode(02750) == "2750");
  std::string passwd =
      "root:x:0:0:root:/root:/bin/sh\n# c\nbroken\nbob:x:1001:100::/home/bob:/bin/sh";
  CHECK(FindNameById(passwd, 0) == "root");
  CHECK(FindNameById(passwd, 1001) == "bob");
  CHECK_FALSE(FindNameById(passwd, 100));
  CHECK(file::LineCol("ab\ncd", 4) == std::pair<int, int>{2, 2});
  CHECK(file::LineCol("ab", 99) == std::pair<int, int>{1, 3});
}

TEST_CASE("file_content: templates render facts only; repo paths stay in the repo") {
  Value facts(Map{{"hostname", Value("web1")}, {"os", Value(Map{{"family", Value("RedHat")}})}});
  auto r = file::RenderTemplate("h={{ facts.hostname }} f={{ facts.os.family }}\n", facts, "t");
  REQUIRE(r.ok());
  CHECK(*r == "h=web1 f=RedHat\n");
  CHECK(*file::RenderTemplate("no braces\n", Value(), "t") == "no braces\n");
  CHECK(*file::RenderTemplate("{{ \"{{\" }} x", facts, "t") == "{{ x");
  r = file::RenderTemplate("a\nb {{ ipmi_port }}\n", facts, "t.tmpl");
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message.rfind("template t.tmpl:2:", 0) == 0);
  CHECK(r.error().message.find("ipmi_port") != std::string::npos);
  REQUIRE_FALSE(file::RenderTemplate("{{ facts.hostname ", facts, "t").ok());

  using P = std::pair<std::string, std::string>;
  CHECK(*file::SplitRepoPath("/repo/files/a", "/repo/", "source") == P{"/repo", "/files/a"});
  CHECK(*file::SplitRepoPath("files/a", "/repo", "source") == P{"/repo", "/files/a"});
  CHECK(*file::SplitRepoPath("/abs/a", "", "source") == P{"/", "/abs/a"});
  auto out = file::SplitRepoPath("/repository/a", "/repo", "source");
  REQUIRE_FALSE(out.ok());
  CHECK(out.error().message == "source /repository/a is outside the config repo /repo");
  CHECK_FALSE(file::SplitRepoPath("files/a", "", "template").ok());
}

TEST_CASE_FIXTURE(FileFixture, "file: validation errors at load time") {
  auto p = Problems(reg, "/etc/x", {{"content", "a"}, {"source", "b"}});
  REQUIRE(!p.empty());
  CHECK(p[0].find("only one of content, source and template") != std::string::npos);
  p = Problems(reg, "/etc/x", {{"ensure", "file"}, {"target", "/y"}});
  REQUIRE(!p.empty());
  CHECK(p[0].find("target is only valid with ensure: link") != std::string::npos);
  p = Problems(reg, "/etc/x", {{"ensure", "directory"}, {"content", "a"}});
  REQUIRE(!p.empty());
  CHECK(p[0].find("need ensure: file") != std::string::npos);
  p = Problems(reg, "/etc/x", {{"purge", true}});
  REQUIRE(!p.empty());
  CHECK(p[0].find("purge needs ensure: directory") != std::string::npos);
  p = Problems(reg, "/etc/x", {{"ensure", "link"}});
  REQUIRE(!p.empty());
  CHECK(p[0].find("needs a target") != std::string::npos);
  p = Problems(reg, "/etc/x", {{"mode", "0999"}});
  REQUIRE(!p.empty());
  p = Problems(reg, "etc/x", {});
  REQUIRE(!p.empty());
  CHECK(p[0].find("absolute path") != std::string::npos);
  CHECK(Problems(reg, "/etc/x", {{"content", "a"}, {"mode", "644"}}).empty());
  p = Problems(reg, "/", {{"ensure", "absent"}, {"force", true}});
  REQUIRE(!p.empty());
  CHECK(p[0].find("the root / can only be ensure: directory") != std::string::npos);
  p = Problems(reg, "/", {{"ensure", "directory"}, {"purge", true}});
  REQUIRE(!p.empty());
  CHECK(p[0].find("purge of / is refused") != std::string::npos);
  CHECK(Problems(reg, "/", {{"mode", "0755"}}).empty());
}

TEST_CASE_FIXTURE(FileFixture, "file: content timeline with diff, foreign files untouched") {
  root.Write("/etc/motd", "old line\nkeep\n", 0600);
  root.Write("/etc/other", "foreign\n");
  Resource want = File("/etc/motd", {{"content", "new line\nkeep\n"}});
  auto applied = Timeline(want);
  CHECK(root.Read("/etc/motd") == "new line\nkeep\n");
  CHECK(root.Read("/etc/other") == "foreign\n");
  CHECK(root.Mode("/etc/motd") == 0600);  // a replaced file keeps its mode
  const Change* c = FindChange(applied.changes, "content");
  REQUIRE(c);
  CHECK(c->from->as_string() == file::ContentSum("old line\nkeep\n"));
  CHECK(c->to->as_string() == file::ContentSum("new line\nkeep\n"));
  CHECK(c->detail.find("--- /etc/motd") != std::string::npos);
  CHECK(c->detail.find("-old line\n+new line\n") != std::string::npos);
  // The old content went to the backup store.
  REQUIRE(sink.saved.size() == 1);
  CHECK(sink.saved[0].first == "/etc/motd");
  CHECK(sink.saved[0].second == "old line\nkeep\n");
}

TEST_CASE_FIXTURE(FileFixture,
                  "file: creates a new file 0644 root:root; sensitive hides the diff") {
  root.Mkdir("/etc");
  Resource want = File("/etc/secret", {{"content", "pw=hunter2\n"}});
  want.sensitive = true;
  auto applied = Timeline(want);
  CHECK(root.Read("/etc/secret") == "pw=hunter2\n");
  CHECK(root.Mode("/etc/secret") == 0644);
  CHECK(Stat("/etc/secret").st_uid == 0);
  const Change* e = FindChange(applied.changes, "ensure");
  REQUIRE(e);
  CHECK_FALSE(e->from);
  // ensure is the shape of the change, not a secret (issue 11 item 14);
  // the content below shows no value, only a digest.
  CHECK(e->to->as_string() == "file");
  const Change* c = FindChange(applied.changes, "content");
  REQUIRE(c);
  CHECK_FALSE(c->from);
  CHECK(c->detail.empty());
  CHECK(sink.saved.empty());
}

TEST_CASE_FIXTURE(FileFixture, "file: empty file with ensure file only; content unchanged after") {
  root.Mkdir("/etc");
  Timeline(File("/etc/flag", {{"ensure", "file"}}));
  CHECK(root.Exists("/etc/flag"));
  CHECK(root.Read("/etc/flag").empty());
  // ensure file without content does not touch an existing file's content.
  root.Write("/etc/kept", "data\n");
  CHECK(Run(File("/etc/kept", {{"ensure", "file"}})).status == Converged::kUnchanged);
  CHECK(root.Read("/etc/kept") == "data\n");
}

TEST_CASE_FIXTURE(FileFixture, "file: mode, owner and group by name from the root's databases") {
  root.Write("/etc/passwd", "root:x:0:0:root:/root:/bin/sh\nbob:x:1001:1001::/home/bob:/bin/sh\n");
  root.Write("/etc/group", "root:x:0:\nstaff:x:2000:bob\n");
  root.Write("/etc/app.conf", "x=1\n", 0644);
  auto applied =
      Timeline(File("/etc/app.conf", {{"mode", "0640"}, {"owner", "bob"}, {"group", "staff"}}));
  CHECK(root.Mode("/etc/app.conf") == 0640);
  CHECK(Stat("/etc/app.conf").st_uid == 1001);
  CHECK(Stat("/etc/app.conf").st_gid == 2000);
  CHECK(root.Read("/etc/app.conf") == "x=1\n");
  const Change* o = FindChange(applied.changes, "owner");
  REQUIRE(o);
  CHECK(o->from->as_string() == "root");
  CHECK(o->to->as_string() == "bob");
  const Change* m = FindChange(applied.changes, "mode");
  REQUIRE(m);
  CHECK(m->from->as_string() == "0644");
  CHECK(m->to->as_string() == "0640");
  CHECK_FALSE(FindChange(applied.changes, "content"));
  CHECK_FALSE(FindChange(applied.changes, "ensure"));
  // Numbers work too and compare equal to the names.
  CHECK(Run(File("/etc/app.conf", {{"owner", "1001"}, {"group", "2000"}})).status ==
        Converged::kUnchanged);
  // "640" and "0640" are the same mode.
  CHECK(Run(File("/etc/app.conf", {{"mode", "640"}})).status == Converged::kUnchanged);
  // An unknown user is a clear error.
  auto bad = Run(File("/etc/app.conf", {{"owner", "nobody_here"}}));
  CHECK(bad.status == Converged::kFailed);
  CHECK(bad.error.find("nobody_here") != std::string::npos);
}

TEST_CASE_FIXTURE(FileFixture, "file: without ensure only mode is managed, nothing is created") {
  root.Write("/etc/a", "a\n", 0600);
  root.Mkdir("/var/d");
  Timeline(File("/etc/a", {{"mode", "0644"}}));
  CHECK(root.Mode("/etc/a") == 0644);
  CHECK(root.Read("/etc/a") == "a\n");
  ::chmod(root.Real("/var/d").c_str(), 0700);
  Timeline(File("/var/d", {{"mode", "0755"}}));
  CHECK(root.Mode("/var/d") == 0755);
  // Nothing at the path: unchanged, a warning, nothing created.
  RunContext ctx;
  auto before = root.Snapshot();
  auto r = Run(File("/etc/none", {{"mode", "0644"}}), false, &ctx);
  CHECK(r.status == Converged::kUnchanged);
  CHECK(root.Snapshot() == before);
  auto warnings = ctx.TakeWarnings();
  REQUIRE(warnings.size() == 1);
  CHECK(warnings[0].find("nothing at /etc/none") != std::string::npos);
}

TEST_CASE_FIXTURE(FileFixture, "file: directory created, file replaced by directory") {
  root.Mkdir("/srv");
  auto applied = Timeline(File("/srv/data", {{"ensure", "directory"}, {"mode", "0750"}}));
  CHECK(std::filesystem::is_directory(root.Real("/srv/data")));
  CHECK(root.Mode("/srv/data") == 0750);
  Timeline(File("/srv/plain", {{"ensure", "directory"}}));
  CHECK(root.Mode("/srv/plain") == 0755);
  root.Write("/srv/wasfile", "x\n");
  Timeline(File("/srv/wasfile", {{"ensure", "directory"}}));
  CHECK(std::filesystem::is_directory(root.Real("/srv/wasfile")));
}

TEST_CASE_FIXTURE(FileFixture, "file: missing parent directory fails unless declared first") {
  auto r = Run(File("/nodir/sub/f", {{"content", "x"}}));
  CHECK(r.status == Converged::kFailed);
  CHECK(r.error.find("parent directory /nodir/sub does not exist") != std::string::npos);
  CHECK_FALSE(root.Exists("/nodir"));
  std::vector<Resource> rs = {File("/nodir", {{"ensure", "directory"}}),
                              File("/nodir/sub", {{"ensure", "directory"}}),
                              File("/nodir/sub/f", {{"content", "x"}})};
  // The plan sees the directories the earlier resources would create.
  auto before = root.Snapshot();
  for (const auto& res : RunAll(rs, true))
    CHECK_MESSAGE(res.status == Converged::kChanged, res.error);
  CHECK(root.Snapshot() == before);
  for (const auto& res : RunAll(rs)) CHECK_MESSAGE(res.status == Converged::kChanged, res.error);
  CHECK(root.Read("/nodir/sub/f") == "x");
  for (const auto& res : RunAll(rs)) CHECK(res.status == Converged::kUnchanged);
}

TEST_CASE_FIXTURE(FileFixture, "file: links created, retargeted, replacing a file") {
  root.Mkdir("/etc");
  auto applied = Timeline(File("/etc/localtime", {{"target", "/usr/share/zoneinfo/UTC"}}));
  CHECK(std::filesystem::read_symlink(root.Real("/etc/localtime")) == "/usr/share/zoneinfo/UTC");
  const Change* t = FindChange(applied.changes, "target");
  REQUIRE(t);
  CHECK_FALSE(t->from);
  applied = Timeline(File("/etc/localtime", {{"target", "../usr/share/zoneinfo/CET"}}));
  CHECK(std::filesystem::read_symlink(root.Real("/etc/localtime")) == "../usr/share/zoneinfo/CET");
  t = FindChange(applied.changes, "target");
  REQUIRE(t);
  CHECK(t->from->as_string() == "/usr/share/zoneinfo/UTC");
  CHECK_FALSE(FindChange(applied.changes, "ensure"));
  root.Write("/etc/resolv.conf", "nameserver 1.1.1.1\n");
  Timeline(File("/etc/resolv.conf", {{"ensure", "link"}, {"target", "/run/resolv.conf"}}));
  CHECK(std::filesystem::is_symlink(root.Real("/etc/resolv.conf")));
  REQUIRE(sink.saved.size() == 1);
  CHECK(sink.saved[0].second == "nameserver 1.1.1.1\n");
}

TEST_CASE_FIXTURE(FileFixture, "file: absent removes files and links; a directory needs force") {
  root.Write("/etc/old", "x\n");
  root.Symlink("/etc/lnk", "/etc/old");
  root.Write("/opt/dir/f", "x\n");
  auto applied = Timeline(File("/etc/lnk", {{"ensure", "absent"}}));
  CHECK_FALSE(root.Exists("/etc/lnk"));
  CHECK(root.Exists("/etc/old"));  // the link's target stays
  Timeline(File("/etc/old", {{"ensure", "absent"}}));
  CHECK_FALSE(root.Exists("/etc/old"));
  CHECK(Run(File("/etc/never", {{"ensure", "absent"}})).status == Converged::kUnchanged);

  auto r = Run(File("/opt/dir", {{"ensure", "absent"}}));
  CHECK(r.status == Converged::kFailed);
  CHECK(r.error.find("/opt/dir is a directory; use force") != std::string::npos);
  CHECK(root.Read("/opt/dir/f") == "x\n");
  Timeline(File("/opt/dir", {{"ensure", "absent"}, {"force", true}}));
  CHECK_FALSE(root.Exists("/opt/dir"));
}

TEST_CASE_FIXTURE(FileFixture, "file: a directory is replaced by a file only with force") {
  root.Write("/etc/conf.d/inner", "x\n");
  auto before = root.Snapshot();
  auto r = Run(File("/etc/conf.d", {{"content", "flat\n"}}));
  CHECK(r.status == Converged::kFailed);
  CHECK(r.error.find("is a directory; use force") != std::string::npos);
  CHECK(root.Snapshot() == before);
  // The plan reports the same failure, and changes nothing.
  auto plan = Run(File("/etc/conf.d", {{"content", "flat\n"}}), true);
  CHECK(plan.status == Converged::kFailed);
  CHECK(root.Snapshot() == before);
  Timeline(File("/etc/conf.d", {{"content", "flat\n"}, {"force", true}}));
  CHECK(root.Read("/etc/conf.d") == "flat\n");
  // And a link likewise.
  root.Write("/etc/ld.d/x", "x\n");
  CHECK(Run(File("/etc/ld.d", {{"target", "/x"}})).status == Converged::kFailed);
  Timeline(File("/etc/ld.d", {{"target", "/x"}, {"force", true}}));
  CHECK(std::filesystem::is_symlink(root.Real("/etc/ld.d")));
}

TEST_CASE_FIXTURE(FileFixture, "file: purge removes unmanaged entries, keeps managed ones") {
  root.Write("/etc/app.d/a.conf", "a\n");
  root.Write("/etc/app.d/b.conf", "stray\n");
  root.Write("/etc/app.d/sub/c.conf", "stray\n");
  root.Write("/etc/app.d/keep/d.conf", "old\n");
  root.Write("/etc/app.d/keep/e.conf", "stray\n");
  root.Write("/etc/other/f", "foreign\n");
  std::vector<Resource> rs = {
      File("/etc/app.d", {{"ensure", "directory"}, {"purge", true}}),
      File("/etc/app.d/a.conf", {{"content", "a\n"}}),
      File("/etc/app.d/keep/d.conf", {{"content", "new\n"}}),
  };
  auto before = root.Snapshot();
  auto plan = RunAll(rs, true);
  CHECK(plan[0].status == Converged::kChanged);
  CHECK(plan[1].status == Converged::kUnchanged);
  CHECK(root.Snapshot() == before);
  std::vector<std::string> purged;
  for (const auto& c : plan[0].changes) {
    CHECK(c.attr == "purge");
    purged.push_back(c.from->as_string());
    CHECK_FALSE(c.to);
  }
  CHECK(purged ==
        std::vector<std::string>{"/etc/app.d/b.conf", "/etc/app.d/keep/e.conf", "/etc/app.d/sub"});
  auto applied = RunAll(rs);
  CHECK_MESSAGE(applied[0].status == Converged::kChanged, applied[0].error);
  CHECK_FALSE(root.Exists("/etc/app.d/b.conf"));
  CHECK_FALSE(root.Exists("/etc/app.d/sub"));
  CHECK_FALSE(root.Exists("/etc/app.d/keep/e.conf"));
  CHECK(root.Read("/etc/app.d/a.conf") == "a\n");
  CHECK(root.Read("/etc/app.d/keep/d.conf") == "new\n");
  CHECK(root.Read("/etc/other/f") == "foreign\n");
  for (const auto& r : RunAll(rs)) CHECK(r.status == Converged::kUnchanged);
}

TEST_CASE_FIXTURE(FileFixture, "file: backup false keeps nothing in the backup store") {
  root.Write("/etc/a", "one\n");
  root.Write("/etc/b", "one\n");
  Timeline(File("/etc/a", {{"content", "two\n"}, {"backup", false}}));
  Timeline(File("/etc/b", {{"ensure", "absent"}, {"backup", false}}));
  CHECK(sink.saved.empty());
  CHECK(root.Read("/etc/a") == "two\n");
  root.Write("/etc/c", "one\n");
  Timeline(File("/etc/c", {{"ensure", "absent"}}));
  REQUIRE(sink.saved.size() == 1);
  CHECK(sink.saved[0].first == "/etc/c");
}

TEST_CASE_FIXTURE(FileFixture, "file: source is read from the config repo, never outside it") {
  TempRoot repo;
  repo.Write("/files/motd", "from the repo\n");
  root.Mkdir("/etc");
  RunContext ctx;  // the source root is the run's (the entry manifest's directory)
  ctx.repo_dir = repo.path();
  Resource abs = File("/etc/motd", {{"source", repo.path() + "/files/motd"}});
  Timeline(abs, &ctx);
  CHECK(root.Read("/etc/motd") == "from the repo\n");
  Resource rel = File("/etc/motd2", {{"source", "files/motd"}});
  Timeline(rel, &ctx);
  CHECK(root.Read("/etc/motd2") == "from the repo\n");

  Resource missing = File("/etc/m3", {{"source", "files/nope"}});
  auto r = Run(missing, false, &ctx);
  CHECK(r.status == Converged::kFailed);
  CHECK(r.error.find("files/nope does not exist") != std::string::npos);
  Resource outside = File("/etc/m4", {{"source", "/etc/hostname"}});
  r = Run(outside, false, &ctx);
  CHECK(r.status == Converged::kFailed);
  CHECK(r.error.find("outside the config repo") != std::string::npos);
  // A symlink in the repo pointing at the build machine's /etc stays in the repo.
  repo.Symlink("/files/evil", "/etc/passwd");
  Resource evil = File("/etc/m5", {{"source", "files/evil"}});
  r = Run(evil, false, &ctx);
  CHECK(r.status == Converged::kFailed);
  CHECK_FALSE(root.Exists("/etc/m5"));
}

TEST_CASE_FIXTURE(FileFixture, "file: template is rendered with facts; undefined is an error") {
  TempRoot repo;
  repo.Write("/tmpl/hosts.tmpl", "127.0.0.1 localhost\n127.0.1.1 {{ facts.hostname }}\n");
  repo.Write("/tmpl/bad.tmpl", "line one\nx={{ nope }}\n");
  root.Mkdir("/etc");
  RunContext ctx;
  ctx.facts = Value(Map{{"hostname", Value("web1")}});
  ctx.repo_dir = repo.path();
  Resource want = File("/etc/hosts", {{"template", "tmpl/hosts.tmpl"}});
  auto before = root.Snapshot();
  CHECK(Run(want, true, &ctx).status == Converged::kChanged);
  CHECK(root.Snapshot() == before);
  CHECK(Run(want, false, &ctx).status == Converged::kChanged);
  CHECK(root.Read("/etc/hosts") == "127.0.0.1 localhost\n127.0.1.1 web1\n");
  CHECK(Run(want, false, &ctx).status == Converged::kUnchanged);

  Resource bad = File("/etc/bad", {{"template", "tmpl/bad.tmpl"}});
  auto r = Run(bad, false, &ctx);
  CHECK(r.status == Converged::kFailed);
  CHECK(r.error.find("template tmpl/bad.tmpl:2:") != std::string::npos);
  CHECK(r.error.find("nope") != std::string::npos);
  CHECK_FALSE(root.Exists("/etc/bad"));
}

TEST_CASE_FIXTURE(FileFixture, "file: an absolute symlink in the root never escapes it") {
  // /etc/x -> /keel-escape-<pid>/x : the write must land in ROOT/keel-escape-<pid>/x.
  std::string outside = "/keel-escape-" + std::to_string(::getpid());
  REQUIRE_FALSE(std::filesystem::exists(outside));
  root.Mkdir(outside);
  root.Symlink("/etc/x", outside + "/x");
  auto applied = Timeline(File("/etc/x", {{"content", "inside\n"}, {"mode", "0600"}}));
  CHECK(root.Read(outside + "/x") == "inside\n");
  CHECK(root.Mode(outside + "/x") == 0600);
  CHECK(std::filesystem::is_symlink(root.Real("/etc/x")));  // the link itself is kept
  CHECK_FALSE(std::filesystem::exists(outside));
  // A relative link climbing with .. is clamped at the root.
  root.Symlink("/etc/y", "../../../../y-target");
  Timeline(File("/etc/y", {{"content", "clamped\n"}}));
  CHECK(root.Read("/y-target") == "clamped\n");
  CHECK_FALSE(std::filesystem::exists("/y-target"));
}

TEST_CASE_FIXTURE(FileFixture, "file: Read shows the state of the declared path") {
  root.Write("/etc/passwd", "root:x:0:0:root:/root:/bin/sh\n");
  root.Write("/etc/group", "root:x:0:\n");
  root.Write("/etc/real.conf", "a=1\n", 0640);
  root.Symlink("/etc/alias.conf", "real.conf");
  auto p = reg.Find("file")->make_provider();
  RunContext ctx;
  auto have = p->Read(File("/etc/real.conf"), *host, ctx);
  REQUIRE(have.ok());
  CHECK(have->Find("ensure")->as_string() == "file");
  CHECK(have->Find("content")->as_string() == "a=1\n");
  CHECK(have->Find("mode")->as_string() == "0640");
  CHECK(have->Find("owner")->as_string() == "root");
  CHECK(have->Find("group")->as_string() == "root");
  have = p->Read(File("/etc/alias.conf"), *host, ctx);
  REQUIRE(have.ok());
  CHECK(have->Find("ensure")->as_string() == "link");
  CHECK(have->Find("target")->as_string() == "real.conf");
  CHECK_FALSE(have->Find("content"));
  have = p->Read(File("/etc/none"), *host, ctx);
  REQUIRE(have.ok());
  CHECK(have->Find("ensure")->as_string() == "absent");
  CHECK(have->size() == 1);
}

TEST_CASE_FIXTURE(FileFixture, "file: a symlink loop is a clear error, not a hang") {
  root.Symlink("/etc/a", "/etc/b");
  root.Symlink("/etc/b", "a");
  auto before = root.Snapshot();
  auto r = Run(File("/etc/a", {{"content", "x\n"}}));
  CHECK(r.status == Converged::kFailed);
  CHECK(r.error.find("too many levels of symbolic links") != std::string::npos);
  CHECK(root.Snapshot() == before);
  // ensure link and absent act on the link itself and do not care.
  Timeline(File("/etc/a", {{"target", "/etc/real"}}));
  CHECK(std::filesystem::read_symlink(root.Real("/etc/a")) == "/etc/real");
}

TEST_CASE_FIXTURE(FileFixture, "file: a run of file writes lands together, before the next type") {
  root.Mkdir("/etc");
  root.Write("/etc/f2", "old 2\n");
  // An exec after the files in manifest order (no require) sees them
  // written: the batched writes are flushed before another type starts.
  auto exec = MakeResource(
      reg, "exec", "copy",
      {{"command", Value("cat \"$KEEL_ROOT/etc/f1\" \"$KEEL_ROOT/etc/f2\" > \"$KEEL_ROOT/seen\"")},
       {"chroot", Value(false)}});
  auto rs = RunAll({File("/etc/f1", {{"content", Value("one\n")}}),
                    File("/etc/f2", {{"content", Value("two\n")}, {"mode", Value("0600")}}), exec,
                    File("/etc/f3", {{"content", Value("three\n")}})});
  REQUIRE(rs.size() == 4);
  for (const auto& r : rs) CHECK_MESSAGE(r.status == Converged::kChanged, r.error);
  CHECK(root.Read("/seen") == "one\ntwo\n");
  CHECK(root.Read("/etc/f3") == "three\n");  // the last batch: at the end of the run
  CHECK((Stat("/etc/f2").st_mode & 07777) == 0600);
  // The replaced content went to the backup store, as with a single write.
  REQUIRE(sink.saved.size() == 1);
  CHECK(sink.saved[0] == std::pair<std::string, std::string>{"/etc/f2", "old 2\n"});
  auto again = RunAll({File("/etc/f1", {{"content", Value("one\n")}}),
                       File("/etc/f3", {{"content", Value("three\n")}})});
  for (const auto& r : again) CHECK(r.status == Converged::kUnchanged);
}

TEST_CASE_FIXTURE(FileFixture, "file: a failed write of a batch fails its own resource only") {
  root.Mkdir("/etc");
  root.Write("/etc/f2", "old 2\n");
  static int fsyncs = 0;
  fsyncs = 0;
  SetAtomicFaultHook([](FaultStep s, const std::string&) {
    return s == FaultStep::kFsync && ++fsyncs == 2 ? EIO : 0;
  });
  auto rs = RunAll({File("/etc/f1", {{"content", Value("one\n")}}),
                    File("/etc/f2", {{"content", Value("two\n")}}),
                    File("/etc/f3", {{"content", Value("three\n")}})});
  SetAtomicFaultHook(nullptr);
  REQUIRE(rs.size() == 3);
  CHECK(rs[0].status == Converged::kChanged);
  CHECK(rs[1].status == Converged::kFailed);
  CHECK(rs[1].error == "flush: cannot write /etc/f2: fsync: Input/output error");
  CHECK(rs[2].status == Converged::kChanged);
  CHECK(root.Read("/etc/f1") == "one\n");
  CHECK(root.Read("/etc/f2") == "old 2\n");
  CHECK(root.Read("/etc/f3") == "three\n");
  CHECK(sink.saved.empty());  // the failed write took no backup
}

namespace {
int g_chain_fsyncs = 0, g_chain_dirsyncs = 0;
bool g_chain_fail_f1 = false;
int ChainHook(FaultStep s, const std::string& path) {
  if (s == FaultStep::kFsync) {
    ++g_chain_fsyncs;
    if (g_chain_fail_f1 && path.find("/etc/f1") != std::string::npos) return EIO;
  }
  if (s == FaultStep::kDirFsync) ++g_chain_dirsyncs;
  return 0;
}
Resource Requiring(Resource r, const std::string& id) {
  r.require.push_back(RefAt{*Ref::Parse(id)});
  return r;
}
}  // namespace

TEST_CASE_FIXTURE(FileFixture,
                  "file: a chain of files is one batch; a failed write skips its "
                  "dependents, unwritten") {
  root.Mkdir("/etc");
  root.Write("/etc/f5", "five\n");
  auto chain = [&] {
    return std::vector<Resource>{
        File("/etc/f1", {{"content", Value("one\n")}}),
        Requiring(File("/etc/f2", {{"content", Value("two\n")}}), "file[/etc/f1]"),
        Requiring(File("/etc/f3", {{"content", Value("three\n")}}), "file[/etc/f2]"),
        File("/etc/f4", {{"content", Value("four\n")}}),
        // attributes alone are changed at once: f1 is flushed before it
        Requiring(File("/etc/f5", {{"mode", Value("0600")}}), "file[/etc/f1]")};
  };
  SUBCASE("no failure: f1-f4 in one batch, one directory fsync; f5 after they landed") {
    g_chain_fsyncs = g_chain_dirsyncs = 0;
    g_chain_fail_f1 = false;
    SetAtomicFaultHook(ChainHook);
    auto rs = RunAll(chain());
    SetAtomicFaultHook(nullptr);
    for (const auto& r : rs) CHECK_MESSAGE(r.status == Converged::kChanged, r.error);
    CHECK(root.Read("/etc/f3") == "three\n");
    CHECK((Stat("/etc/f5").st_mode & 07777) == 0600);
    CHECK(g_chain_fsyncs == 4);
    // f1-f4 in one batch, flushed before f5's chmod (graph order f1..f5);
    // one flush per link of the chain made three
    CHECK(g_chain_dirsyncs == 1);
  }
  SUBCASE("f1's write fails: f2 and f3 skipped and not written, f4 written, f5 skipped") {
    g_chain_fsyncs = g_chain_dirsyncs = 0;
    g_chain_fail_f1 = true;
    SetAtomicFaultHook(ChainHook);
    auto rs = RunAll(chain());
    SetAtomicFaultHook(nullptr);
    REQUIRE(rs.size() == 5);
    CHECK(rs[0].status == Converged::kFailed);
    CHECK(rs[1].status == Converged::kSkipped);
    CHECK(rs[1].error == "skipped: requires file[/etc/f1] which failed");
    CHECK(rs[2].status == Converged::kSkipped);
    CHECK(rs[2].error == "skipped: requires file[/etc/f1] which failed");
    CHECK(rs[3].status == Converged::kChanged);
    CHECK(rs[4].status == Converged::kSkipped);
    CHECK_FALSE(std::filesystem::exists(root.Real("/etc/f1")));
    CHECK_FALSE(std::filesystem::exists(root.Real("/etc/f2")));
    CHECK_FALSE(std::filesystem::exists(root.Real("/etc/f3")));
    CHECK(root.Read("/etc/f4") == "four\n");
    CHECK((Stat("/etc/f5").st_mode & 07777) != 0600);
    // no temp file left behind
    for (const auto& e : std::filesystem::directory_iterator(root.Real("/etc")))
      CHECK_MESSAGE(e.path().filename().string().rfind(".keel-", 0) != 0, e.path().string());
  }
}
