// `line`: the pure EnsureLine edit on strings, then the provider timeline on
// a real tree (plan leaves it, apply converges, again changes nothing).
#include <doctest/doctest.h>

#include <chrono>

#include "engine/host_real.h"
#include "resources/builtin.h"
#include "resources/common/edit.h"
#include "resources/line/line_edit.h"
#include "tests/unit/support/converge.h"
#include "tests/unit/support/temp_root.h"

using namespace keel;
using namespace keel::testing;

namespace {

line::LineSpec Spec(std::string l, const char* match = nullptr, const char* after = nullptr,
                    bool present = true) {
  line::LineSpec s;
  s.line = std::move(l);
  if (match) s.match = *line::CompileRegex(match);
  if (after) s.after = *line::CompileRegex(after);
  s.present = present;
  return s;
}

std::optional<std::string> Ensure(std::optional<std::string> before, const line::LineSpec& s) {
  auto r = line::EnsureLine(before, s);
  REQUIRE(r.ok());
  return *r;
}

struct LineFixture {
  TempRoot root;
  Registry reg;
  std::unique_ptr<Host> host;
  LineFixture() {
    RegisterLine(reg);
    RegisterShellvar(reg);
    auto h = OpenRealHost(root.path(), nullptr);
    REQUIRE(h.ok());
    host = std::move(*h);
  }
  Resource Make(const std::string& title, Attrs attrs) {
    return MakeResource(reg, "line", title, std::move(attrs));
  }
  ConvergeResult Run(const Resource& r, bool noop = false) { return Converge(reg, r, *host, noop); }
};

}  // namespace

TEST_CASE("line: EnsureLine present appends, replaces the first match, or inserts after") {
  CHECK(Ensure("a\nb\n", Spec("c")) == "a\nb\nc\n");
  CHECK(Ensure("a\nb", Spec("c")) == "a\nb\nc\n");
  CHECK(Ensure("", Spec("c")) == "c\n");
  CHECK(Ensure(std::nullopt, Spec("c")) == "c\n");
  CHECK(Ensure("a\nc\nb\n", Spec("c")) == "a\nc\nb\n");  // present anywhere: unchanged
  CHECK(Ensure("x=1\ny=2\nx=3\n", Spec("x=9", "^x=")) == "x=9\ny=2\nx=3\n");
  CHECK(Ensure("x=1\nx=9\n", Spec("x=9", "^x=")) == "x=1\nx=9\n");  // already there
  CHECK(Ensure("a\nb\n", Spec("c", "^zzz")) == "a\nb\nc\n");        // no match: append
  CHECK(Ensure("[main]\nk=v\n[other]\n", Spec("new=1", nullptr, "^\\[main\\]")) ==
        "[main]\nnew=1\nk=v\n[other]\n");
  CHECK(Ensure("a\nb\n", Spec("c", nullptr, "^nomatch")) == "a\nb\nc\n");
  // CRLF files: compared without CR, CR kept/added.
  CHECK(Ensure("a\r\nb\r\n", Spec("b")) == "a\r\nb\r\n");
  CHECK(Ensure("a\r\nb\r\n", Spec("c")) == "a\r\nb\r\nc\r\n");
  CHECK(Ensure("k=1\r\n", Spec("k=2", "^k=")) == "k=2\r\n");
}

TEST_CASE("line: EnsureLine absent removes equal lines or every match") {
  CHECK(Ensure("a\nb\na\n", Spec("a", nullptr, nullptr, false)) == "b\n");
  CHECK(Ensure("a\nb\n", Spec("z", nullptr, nullptr, false)) == "a\nb\n");
  CHECK(Ensure("x=1\ny\nx=2\n", Spec("x=0", "^x=", nullptr, false)) == "y\n");
  CHECK(Ensure("a\nb", Spec("b", nullptr, nullptr, false)) == "a\n");
  CHECK(Ensure("a\nb", Spec("a", nullptr, nullptr, false)) == "b");
  CHECK(Ensure(std::nullopt, Spec("a", nullptr, nullptr, false)) == std::nullopt);
  CHECK(Ensure("a\n", Spec("a", nullptr, nullptr, false)) == "");
}

TEST_CASE("line: a huge line is matched (RE2, no length cap), not a crash") {
  std::string big = "x=" + std::string(200000, 'a') + "\n";
  CHECK(Ensure(big + "y\n", Spec("x=1", "^x=.*$")) == "x=1\ny\n");
  // Without a regex the long line is just kept.
  CHECK(Ensure(big, Spec("z")) == big + "z\n");
}

TEST_CASE("line: a catastrophic pattern matches in linear time") {
  // ^(a+)+$ backtracks exponentially in ECMAScript engines; RE2 does not.
  std::string text = std::string(5000, 'a') + "b\n" + std::string(40, 'a') + "b\n";
  auto start = std::chrono::steady_clock::now();
  CHECK(Ensure(text, Spec("fixed", "^(a+)+$")) == text + "fixed\n");
  CHECK(Ensure(text, Spec("fixed", "^(a+)+$", nullptr, false)) == text);
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(2));
}

TEST_CASE("line: patterns RE2 cannot run are load errors naming the syntax") {
  auto r = line::CompileRegex("(a)\\1");
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message.find("RE2 syntax") != std::string::npos);
  CHECK_FALSE(line::CompileRegex("(?=x)").ok());
}

TEST_CASE("line: bad regex and multi-line line are load errors") {
  Registry reg;
  RegisterLine(reg);
  CHECK_THROWS_WITH_AS(
      MakeResource(reg, "line", "x", {{"path", "/etc/x"}, {"line", "a"}, {"match", "(unclosed"}}),
      doctest::Contains("invalid regex '(unclosed'"), std::runtime_error);
  CHECK_THROWS_AS(MakeResource(reg, "line", "x", {{"path", "/etc/x"}, {"line", "a\nb"}}),
                  std::runtime_error);
  CHECK_THROWS_AS(MakeResource(reg, "line", "x", {{"path", "etc/x"}, {"line", "a"}}),
                  std::runtime_error);
  CHECK_THROWS_AS(
      MakeResource(reg, "line", "x", {{"path", "/etc/x"}, {"line", "a"}, {"ensure", "gone"}}),
      std::runtime_error);
  // Identity: path + line.
  auto a = MakeResource(reg, "line", "one", {{"path", "/etc/x"}, {"line", "a"}});
  auto b = MakeResource(reg, "line", "two", {{"path", "/etc/x"}, {"line", "a"}});
  CHECK(ResourceIdentity(*reg.Find("line"), a) == ResourceIdentity(*reg.Find("line"), b));
}

TEST_CASE_FIXTURE(LineFixture, "line: timeline on a real tree keeps foreign bytes, idempotent") {
  const std::string before = "# sudoers-ish\n\nDefaults env_reset\r\n  odd spacing  \nlast";
  root.Write("/etc/conf", before, 0640);
  auto r = Make(
      "allow",
      {{"path", "/etc/conf"}, {"line", "Defaults !requiretty"}, {"after", "^Defaults env_reset"}});
  auto snap = root.Snapshot();
  auto plan = Run(r, true);
  CHECK(plan.status == Converged::kChanged);
  CHECK(root.Snapshot() == snap);
  REQUIRE(!plan.changes.empty());
  CHECK(plan.changes.back().attr == "content");
  CHECK(plan.changes.back().detail.find("+Defaults !requiretty") != std::string::npos);
  auto ap = Run(r);
  CHECK(ap.status == Converged::kChanged);
  CHECK(root.Read("/etc/conf") ==
        "# sudoers-ish\n\nDefaults env_reset\r\nDefaults !requiretty\r\n  odd spacing  \nlast");
  CHECK(root.Mode("/etc/conf") == 0640);
  CHECK(Run(r).status == Converged::kUnchanged);

  auto gone = Make(
      "rm", {{"path", "/etc/conf"}, {"line", "x"}, {"match", "requiretty"}, {"ensure", "absent"}});
  CHECK(Run(gone).status == Converged::kChanged);
  CHECK(root.Read("/etc/conf") == before);
  CHECK(Run(gone).status == Converged::kUnchanged);
}

TEST_CASE_FIXTURE(LineFixture, "line: creates a missing file 0644 with its parents") {
  auto r = Make("new", {{"path", "/etc/new.d/sub/f.conf"}, {"line", "hello"}});
  auto snap = root.Snapshot();
  auto plan = Run(r, true);
  CHECK(plan.status == Converged::kChanged);
  CHECK(root.Snapshot() == snap);
  bool parent_reported = false;
  for (const auto& c : plan.changes)
    if (c.attr == "parent" && c.to && c.to->as_string() == "/etc/new.d") parent_reported = true;
  CHECK(parent_reported);
  CHECK(Run(r).status == Converged::kChanged);
  CHECK(root.Read("/etc/new.d/sub/f.conf") == "hello\n");
  CHECK(root.Mode("/etc/new.d/sub/f.conf") == 0644);
  CHECK(root.Mode("/etc/new.d/sub") == 0755);
  CHECK(Run(r).status == Converged::kUnchanged);
  // absent on a missing file: nothing to do, nothing created.
  auto none = Make("none", {{"path", "/etc/none"}, {"line", "x"}, {"ensure", "absent"}});
  CHECK(Run(none).status == Converged::kUnchanged);
  CHECK_FALSE(root.Exists("/etc/none"));
}

TEST_CASE_FIXTURE(LineFixture, "line: two resources on one file: one write, exact plan") {
  root.Write("/etc/f", "keep\n");
  std::vector<Resource> rs = {Make("a", {{"path", "/etc/f"}, {"line", "one"}}),
                              Make("b", {{"path", "/etc/f"}, {"line", "two"}}),
                              MakeResource(reg, "shellvar", "/etc/f:K", {{"value", "v w"}})};
  auto snap = root.Snapshot();
  auto plan = ConvergeAll(reg, rs, *host, true);
  CHECK(root.Snapshot() == snap);
  REQUIRE(plan.size() == 3);
  for (auto& p : plan) CHECK(p.status == Converged::kChanged);
  // The second diff starts from the first's result.
  CHECK(plan[1].changes.back().detail.find(" keep\n one\n+two\n") != std::string::npos);
  CHECK(plan[2].changes.back().detail.find(" one\n two\n+K=\"v w\"\n") != std::string::npos);

  RunContext ctx;
  auto ap = ConvergeAll(reg, rs, *host, false, &ctx);
  for (auto& p : ap) CHECK(p.status == Converged::kChanged);
  CHECK(root.Read("/etc/f") == "keep\none\ntwo\nK=\"v w\"\n");
  // One read serves all three resources; their verification re-reads see
  // the session's staged content, and the single write comes at the end.
  CHECK(edit::Session(ctx).reads() == 1);
  CHECK(edit::Session(ctx).writes() == 1);
  // The plan's "to" hashes are what apply produced.
  CHECK(plan[2].changes.back().to == ap[2].changes.back().to);
  for (auto& p : ConvergeAll(reg, rs, *host)) CHECK(p.status == Converged::kUnchanged);
}

TEST_CASE_FIXTURE(LineFixture, "line: a directory or binary target fails clearly, untouched") {
  root.Mkdir("/etc/dir");
  root.Write("/etc/bin", std::string("\x7f"
                                     "ELF\0\0",
                                     6));
  auto snap = root.Snapshot();
  auto d = Run(Make("d", {{"path", "/etc/dir"}, {"line", "x"}}));
  CHECK(d.status == Converged::kFailed);
  CHECK(d.error.find("/etc/dir is a directory, expected a file") != std::string::npos);
  auto b = Run(Make("b", {{"path", "/etc/bin"}, {"line", "x"}}));
  CHECK(b.status == Converged::kFailed);
  CHECK(b.error.find("/etc/bin looks binary; refusing to edit") != std::string::npos);
  CHECK(root.Snapshot() == snap);
}

TEST_CASE_FIXTURE(LineFixture, "line: edits through a symlink stay inside the root") {
  root.Write("/srv/real.conf", "a\n");
  root.Symlink("/etc/link.conf", "/srv/real.conf");
  auto r = Make("l", {{"path", "/etc/link.conf"}, {"line", "b"}});
  CHECK(Run(r).status == Converged::kChanged);
  CHECK(root.Read("/srv/real.conf") == "a\nb\n");
  CHECK(Run(r).status == Converged::kUnchanged);
}
