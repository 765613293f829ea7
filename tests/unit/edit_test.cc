// The shared editing layer: byte-exact line splitting, shell assignment
// parsing and quoting (checked against real bash), the edit session's
// read-once/write-once rule and its refusal of directories and binaries.
#include "resources/common/edit.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "engine/host_real.h"
#include "resources/common/shell_file.h"
#include "resources/common/shell_quote.h"
#include "tests/unit/support/temp_root.h"
#include "tests/unit/support/test_data.h"

using namespace keel;
using keel::testing::TempRoot;

namespace {

std::string RealFile(const std::string& name) {
  return keel::testing::TestData("realfiles/" + name);
}

std::vector<std::string> RealFileNames() {
  std::vector<std::string> out;
  for (const auto& e : std::filesystem::directory_iterator(std::string(KEEL_SOURCE_DIR) +
                                                           "/tests/unit/data/realfiles"))
    out.push_back(e.path().filename().string());
  std::sort(out.begin(), out.end());
  return out;
}

// What bash sees for $key after sourcing `path` (real bash, test only).
std::string EditBashValue(const std::string& path, const std::string& key) {
  std::string cmd = "bash -c 'set -a; source \"$0\" >/dev/null 2>&1; printf \"%s\" \"${" + key +
                    "-<unset>}\"' '" + path + "'";
  FILE* p = popen(cmd.c_str(), "r");
  REQUIRE(p != nullptr);
  std::string out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  pclose(p);
  return out;
}

HostPath P(const char* s) { return *HostPath::Parse(s); }

}  // namespace

TEST_CASE("edit: TextLines round-trips every byte") {
  for (std::string text : {"", "a", "a\n", "a\nb", "a\r\nb\r\n", "\n", "\n\n\n", "x\n\ny  \t\n",
                           "no newline at end"}) {
    auto t = edit::TextLines::Parse(text);
    CHECK(t.Render() == text);
  }
  auto t = edit::TextLines::Parse("a\nb");
  CHECK(t.lines == std::vector<std::string>{"a", "b"});
  CHECK_FALSE(t.final_newline);
  CHECK(edit::TextLines::Parse("").lines.empty());
  t.lines.push_back("c");
  t.final_newline = true;
  CHECK(t.Render() == "a\nb\nc\n");
}

TEST_CASE("edit: real files round-trip byte for byte through TextLines and ShellFile") {
  auto names = RealFileNames();
  CHECK(names.size() >= 10);
  for (const auto& name : names) {
    CAPTURE(name);
    std::string text = RealFile(name);
    REQUIRE(!text.empty());
    CHECK(edit::TextLines::Parse(text).Render() == text);
    CHECK(shell::ShellFile::Parse(text).Render() == text);
  }
}

TEST_CASE("edit: ShellFile reads values as bash does on real files") {
  auto grub = shell::ShellFile::Parse(RealFile("default-grub"));
  REQUIRE(grub.Find("GRUB_CMDLINE_LINUX"));
  CHECK(grub.Find("GRUB_CMDLINE_LINUX")->value ==
        "crashkernel=auto rd.lvm.lv=centos/root rd.lvm.lv=centos/swap rhgb quiet");
  CHECK(grub.Find("GRUB_CMDLINE_LINUX")->style == shell::QuoteStyle::kDouble);
  CHECK(grub.Find("GRUB_DISTRIBUTOR")->dynamic);
  auto os = shell::ShellFile::Parse(RealFile("os-release"));
  CHECK(os.Find("VERSION_ID")->value == "12");
  CHECK(os.Find("ID")->style == shell::QuoteStyle::kNone);
  auto t = shell::ShellFile::Parse(RealFile("tricky.sh"));
  CHECK(t.Find("B")->value == "two words");
  CHECK(t.Find("B")->exported == "export ");
  CHECK(t.Find("B")->trailer == " # trailing comment");
  CHECK(t.Find("C")->value == "multi\nline value");
  CHECK(t.Find("D")->value == "abc d");
  CHECK(t.Find("last")->value == "end");
  CHECK(t.Keys() == std::vector<std::string>{"A", "B", "C", "D", "last"});
  auto crlf = shell::ShellFile::Parse(RealFile("crlf.conf"));
  CHECK(crlf.Find("FOO")->value == "bar");
  CHECK(crlf.Find("PATH_EXTRA")->value == "/opt/x y");
}

TEST_CASE("edit: ParseAssignment tells assignments from other shell") {
  shell::Assignment a;
  using shell::ParseStatus;
  CHECK(shell::ParseAssignment("# KEY=value", a) == ParseStatus::kOther);
  CHECK(shell::ParseAssignment("", a) == ParseStatus::kOther);
  CHECK(shell::ParseAssignment("if [ x ]; then", a) == ParseStatus::kOther);
  CHECK(shell::ParseAssignment("A=1 command arg", a) == ParseStatus::kOther);
  CHECK(shell::ParseAssignment("ARR=(a b)", a) == ParseStatus::kOther);
  CHECK(shell::ParseAssignment("K+=x", a) == ParseStatus::kOther);
  CHECK(shell::ParseAssignment("K=\"open", a) == ParseStatus::kUnterminated);
  CHECK(shell::ParseAssignment("K='open", a) == ParseStatus::kUnterminated);
  CHECK(shell::ParseAssignment("K=trailing\\", a) == ParseStatus::kUnterminated);
  REQUIRE(shell::ParseAssignment("\texport  K=v#notcomment ; # c", a) == ParseStatus::kAssignment);
  CHECK(a.indent == "\t");
  CHECK(a.exported == "export  ");
  CHECK(a.value == "v#notcomment");
  CHECK(a.trailer == " ; # c");
  CHECK(a.Render() == "\texport  K=v#notcomment ; # c");
  REQUIRE(shell::ParseAssignment("K=\"a\\$b\\\\c\\d\"", a) == ParseStatus::kAssignment);
  CHECK(a.value == "a$b\\c\\d");
  CHECK_FALSE(a.dynamic);
  REQUIRE(shell::ParseAssignment("K=$HOME/x", a) == ParseStatus::kAssignment);
  CHECK(a.dynamic);
  REQUIRE(shell::ParseAssignment("K=", a) == ParseStatus::kAssignment);
  CHECK(a.value.empty());
  REQUIRE(shell::ParseAssignment("export=1", a) == ParseStatus::kAssignment);
  CHECK(a.key == "export");
}

TEST_CASE("edit: quoting gives bash exactly the value in every style") {
  TempRoot root;
  const std::vector<std::string> values = {"plain",
                                           "two words",
                                           "it's",
                                           "say \"hi\"",
                                           "$HOME",
                                           "back\\slash",
                                           "`id`",
                                           "bang!",
                                           "new\nline",
                                           "",
                                           "tab\there",
                                           "semi;colon",
                                           "#hash",
                                           "~tilde",
                                           "*glob?",
                                           "x=y",
                                           "a'b\"c$d`e\\f g!",
                                           "trailing\\",
                                           "'",
                                           "\"",
                                           "  spaces  "};
  int n = 0;
  for (const auto& v : values) {
    for (auto style : {shell::QuoteStyle::kNone, shell::QuoteStyle::kDouble,
                       shell::QuoteStyle::kSingle, shell::AutoStyle(v)}) {
      CAPTURE(v);
      CAPTURE(static_cast<int>(style));
      std::string file = "/f" + std::to_string(n++);
      std::string text = "# header\nVAL=" + shell::Quote(v, style) + "\n";
      root.Write(file, text);
      CHECK(EditBashValue(root.Real(file), "VAL") == v);
      // Our own parser agrees with bash.
      auto parsed = shell::ShellFile::Parse(text);
      REQUIRE(parsed.Find("VAL"));
      CHECK(parsed.Find("VAL")->value == v);
      CHECK_FALSE(parsed.Find("VAL")->dynamic);
    }
  }
  CHECK(shell::Quote("disabled", shell::QuoteStyle::kNone) == "disabled");
  CHECK(shell::AutoStyle("a b") == shell::QuoteStyle::kDouble);
  CHECK(shell::AutoStyle("$6$salt") == shell::QuoteStyle::kSingle);
  CHECK(shell::Quote("$6$salt", shell::AutoStyle("$6$salt")) == "'$6$salt'");
  CHECK(shell::Quote("it's", shell::QuoteStyle::kSingle) == "'it'\\''s'");
}

TEST_CASE("edit: ShellFile.Set changes the last assignment in place, keeps the rest") {
  std::string text = "# c\nK=1\nOTHER=x\n  export K=\"2\" # why\n";
  auto f = shell::ShellFile::Parse(text);
  CHECK(f.Find("K")->value == "2");
  f.Set("K", "2", std::nullopt);
  CHECK(f.Render() == text);
  f.Set("K", "three 3", std::nullopt);
  CHECK(f.Render() == "# c\nK=1\nOTHER=x\n  export K=\"three 3\" # why\n");
  f.Set("NEW", "v", std::nullopt);
  CHECK(f.Render() == "# c\nK=1\nOTHER=x\n  export K=\"three 3\" # why\nNEW=v\n");
  CHECK(f.Remove("K") == 2);
  CHECK(f.Render() == "# c\nOTHER=x\nNEW=v\n");
  // A file without final newline: the old last line gets its '\n'.
  auto g = shell::ShellFile::Parse("A=1");
  g.Set("B", "2", std::nullopt);
  CHECK(g.Render() == "A=1\nB=2\n");
  // Single-quoted stays single-quoted; a bare word that needs quotes gets them.
  auto h = shell::ShellFile::Parse("S='x'\nN=x\n");
  h.Set("S", "y z", std::nullopt);
  h.Set("N", "y z", std::nullopt);
  CHECK(h.Render() == "S='y z'\nN=\"y z\"\n");
  // A requested style rewrites an equal value written otherwise.
  auto q = shell::ShellFile::Parse("S=x\n");
  q.Set("S", "x", shell::QuoteStyle::kDouble);
  CHECK(q.Render() == "S=\"x\"\n");
  // A multi-line value is replaced as a whole.
  auto m = shell::ShellFile::Parse("C=\"a\nb\"\nD=1\n");
  m.Set("C", "one", std::nullopt);
  CHECK(m.Render() == "C=\"one\"\nD=1\n");
  // CRLF: the CR stays at the end of the edited line.
  auto c = shell::ShellFile::Parse("FOO=bar\r\nX=1\r\n");
  c.Set("FOO", "baz", std::nullopt);
  CHECK(c.Render() == "FOO=baz\r\nX=1\r\n");
}

TEST_CASE("edit: ReadEditable refuses directories and binaries, absent is nullopt") {
  TempRoot root;
  root.Mkdir("/etc/dir");
  root.Write("/etc/bin", std::string("ab\0cd", 5));
  root.Write("/etc/ok", "x\n");
  auto host = OpenRealHost(root.path(), nullptr);
  REQUIRE(host.ok());
  auto d = edit::ReadEditable(**host, P("/etc/dir"));
  REQUIRE_FALSE(d.ok());
  CHECK(d.error().message == "/etc/dir is a directory, expected a file");
  auto b = edit::ReadEditable(**host, P("/etc/bin"));
  REQUIRE_FALSE(b.ok());
  CHECK(b.error().message == "/etc/bin looks binary; refusing to edit");
  auto none = edit::ReadEditable(**host, P("/etc/missing"));
  REQUIRE(none.ok());
  CHECK_FALSE(none->has_value());
  auto ok = edit::ReadEditable(**host, P("/etc/ok"));
  REQUIRE(ok.ok());
  CHECK(**ok == "x\n");
}

TEST_CASE("edit: ReadEditable tells a symlink loop from a dangling symlink") {
  TempRoot root;
  root.Mkdir("/etc");
  std::filesystem::create_symlink("loop-b", root.path() + "/etc/loop-a");
  std::filesystem::create_symlink("/etc/loop-a", root.path() + "/etc/loop-b");
  std::filesystem::create_symlink("self", root.path() + "/etc/self");
  std::filesystem::create_symlink("../nowhere/x", root.path() + "/etc/dangling");
  auto host = OpenRealHost(root.path(), nullptr);
  REQUIRE(host.ok());
  auto a = edit::ReadEditable(**host, P("/etc/loop-a"));
  REQUIRE_FALSE(a.ok());
  CHECK(a.error().message == "/etc/loop-a is a symlink loop (-> loop-b); refusing to edit");
  auto s = edit::ReadEditable(**host, P("/etc/self"));
  REQUIRE_FALSE(s.ok());
  CHECK(s.error().message == "/etc/self is a symlink loop (-> self); refusing to edit");
  auto d = edit::ReadEditable(**host, P("/etc/dangling"));
  REQUIRE_FALSE(d.ok());
  CHECK(d.error().message ==
        "/etc/dangling is a dangling symlink (-> ../nowhere/x); refusing to edit");
}

TEST_CASE("edit: WriteEdited creates 0644 with parents, keeps mode of an existing file") {
  TempRoot root;
  root.Write("/etc/keep", "old\n", 0600);
  auto host = OpenRealHost(root.path(), nullptr);
  REQUIRE(host.ok());
  REQUIRE(edit::WriteEdited(**host, P("/etc/new/dir/file"), std::string("n\n")).ok());
  CHECK(root.Read("/etc/new/dir/file") == "n\n");
  CHECK(root.Mode("/etc/new/dir/file") == 0644);
  CHECK(root.Mode("/etc/new/dir") == 0755);
  REQUIRE(edit::WriteEdited(**host, P("/etc/keep"), std::string("new\n")).ok());
  CHECK(root.Read("/etc/keep") == "new\n");
  CHECK(root.Mode("/etc/keep") == 0600);
  REQUIRE(edit::WriteEdited(**host, P("/etc/keep"), std::nullopt).ok());
  CHECK_FALSE(root.Exists("/etc/keep"));
}

TEST_CASE("edit: ContentChange carries hashes and a unified diff") {
  auto c = edit::ContentChange(P("/etc/x"), std::string("a\n"), std::string("b\n"));
  CHECK(c.attr == "content");
  REQUIRE(c.from);
  CHECK(c.from->as_string().rfind("{sha256}", 0) == 0);
  CHECK(c.detail.find("-a\n+b\n") != std::string::npos);
  auto created = edit::ContentChange(P("/etc/x"), std::nullopt, std::string("b\n"));
  CHECK_FALSE(created.from);
  auto hidden = edit::ContentChange(P("/etc/x"), std::string("a\n"), std::string("b\n"), true);
  CHECK(hidden.detail.empty());
}

TEST_CASE("edit: session reads once, writes once, and refuses a lost update") {
  TempRoot root;
  root.Write("/etc/f", "a\n");
  auto host = OpenRealHost(root.path(), nullptr);
  REQUIRE(host.ok());
  edit::EditSession s;
  auto r1 = s.Read(**host, P("/etc/f"));
  REQUIRE(r1.ok());
  REQUIRE(s.Stage(**host, P("/etc/f"), std::string("a\nb\n")).ok());
  auto r2 = s.Read(**host, P("/etc/f"));
  REQUIRE(r2.ok());
  CHECK(**r2 == "a\nb\n");
  REQUIRE(s.Stage(**host, P("/etc/f"), std::string("a\nb\nc\n")).ok());
  CHECK(root.Read("/etc/f") == "a\n");  // nothing written before Flush
  CHECK(s.reads() == 1);
  REQUIRE(s.Flush(**host).ok());
  CHECK(s.writes() == 1);
  CHECK(root.Read("/etc/f") == "a\nb\nc\n");
  // After a flush the disk is read again; something else changing the
  // file between read and flush is a conflict, not a silent overwrite.
  REQUIRE(s.Read(**host, P("/etc/f")).ok());
  REQUIRE(s.Stage(**host, P("/etc/f"), std::string("mine\n")).ok());
  root.Write("/etc/f", "theirs\n");
  auto fl = s.Flush(**host);
  REQUIRE_FALSE(fl.ok());
  CHECK(fl.error().code == ErrorCode::kConflict);
  CHECK(root.Read("/etc/f") == "theirs\n");
}

TEST_CASE("edit: ShellFile.Set never puts a new line where bash has stopped reading") {
  // A new key goes before the first top-level command that may stop the
  // sourcing, not at the end (issue 11 item 18).
  auto r = shell::ShellFile::Parse("A=1\n[ -n \"$X\" ] || return 0\nB=2\n");
  r.Set("NEW", "v", std::nullopt);
  CHECK(r.Render() == "A=1\nNEW=v\n[ -n \"$X\" ] || return 0\nB=2\n");
  r.Set("NEW", "v", std::nullopt);  // a fixed point
  CHECK(r.Render() == "A=1\nNEW=v\n[ -n \"$X\" ] || return 0\nB=2\n");
  // A key assigned after the stop: set before it, and after it too.
  r.Set("B", "3", std::nullopt);
  CHECK(r.Render() == "A=1\nNEW=v\nB=3\n[ -n \"$X\" ] || return 0\nB=3\n");
  r.Set("B", "3", std::nullopt);
  CHECK(r.Render() == "A=1\nNEW=v\nB=3\n[ -n \"$X\" ] || return 0\nB=3\n");
  // Before the stop: changed in place only.
  r.Set("A", "2", std::nullopt);
  CHECK(r.Render() == "A=2\nNEW=v\nB=3\n[ -n \"$X\" ] || return 0\nB=3\n");
  // `exit` inside an if block: before the block.
  auto e = shell::ShellFile::Parse("A=1\nif [ -z \"$Y\" ]; then\n  exit 1\nfi\n");
  e.Set("N", "x", std::nullopt);
  CHECK(e.Render() == "A=1\nN=x\nif [ -z \"$Y\" ]; then\n  exit 1\nfi\n");
  // `return` in a function body returns from the function only; `exit` in
  // one may be called: before the definition.
  auto f = shell::ShellFile::Parse("f() {\n  return 1\n}\nA=1\n");
  f.Set("N", "x", std::nullopt);
  CHECK(f.Render() == "f() {\n  return 1\n}\nA=1\nN=x\n");
  auto g = shell::ShellFile::Parse("A=1\nfunction die { echo; exit 1; }\nB=2\n");
  g.Set("N", "x", std::nullopt);
  CHECK(g.Render() == "A=1\nN=x\nfunction die { echo; exit 1; }\nB=2\n");
  // `exec` with only redirections goes on; `exec prog` replaces the shell.
  auto x = shell::ShellFile::Parse("exec 3>/dev/null 2>&1\nA=1\n");
  x.Set("N", "x", std::nullopt);
  CHECK(x.Render() == "exec 3>/dev/null 2>&1\nA=1\nN=x\n");
  auto y = shell::ShellFile::Parse("A=1\nexec /bin/prog\n");
  y.Set("N", "x", std::nullopt);
  CHECK(y.Render() == "A=1\nN=x\nexec /bin/prog\n");
  // `exit` in $( ) or quoted is not a stop.
  auto q = shell::ShellFile::Parse("A=$(exit 1)\necho 'exit'\n");
  q.Set("N", "x", std::nullopt);
  CHECK(q.Render() == "A=$(exit 1)\necho 'exit'\nN=x\n");
  // The key used after the stop: keel cannot place it; Set is refused.
  auto u = shell::ShellFile::Parse("if true; then A=1; fi\n[ -n \"$X\" ] && return\nB=$A\n");
  auto why = u.Problem("A", false);
  REQUIRE(why);
  CHECK(why->find("line 3: A is used there, after line 2 (`return`)") != std::string::npos);
  CHECK_FALSE(u.Problem("B", false));
  CHECK_FALSE(shell::ShellFile::Parse("A=1\nexit\n").Problem("A", false));
  // CRLF: the inserted line ends as the stop's line does.
  auto c = shell::ShellFile::Parse("A=1\r\nexit 0\r\n");
  c.Set("N", "x", std::nullopt);
  CHECK(c.Render() == "A=1\r\nN=x\r\nexit 0\r\n");
}
