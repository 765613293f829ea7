// A dry run that cannot run anything by mistake: the plan overlay runs only
// Command::query commands; a provider that forgets to check dry_run() and
// runs a command in Apply changes nothing in a plan.
#include <doctest/doctest.h>

#include <mutex>
#include <string>
#include <vector>

#include "engine/host_real.h"
#include "engine/transaction.h"
#include "tests/unit/support/temp_root.h"

using namespace keel;
using keel::testing::TempRoot;

namespace {

// What the careless provider saw.
struct Seen {
  std::mutex mu;
  std::vector<CommandResult> apply_results;
  std::vector<std::string> query_out;
};
Seen g_seen;

Command Shell(const std::string& script, bool query) {
  Command c;
  c.shell = script;
  c.chroot = false;  // the temp root has no /bin/sh; KEEL_ROOT names it
  c.query = query;
  return c;
}

// careless: ensures /<name> exists by running `touch` through host.Run in
// Apply, never asking host.dry_run(). Read runs a query (it must run in a
// plan too) and looks at the file.
class CarelessProvider : public Provider {
 public:
  Result<Observation> Read(const Resource& want, Host& host, RunContext&) override {
    auto q = host.Run(Shell("printf 'observed %s' \"$KEEL_ROOT\"", true));
    if (!q.ok()) return q.error();
    {
      std::lock_guard<std::mutex> lock(g_seen.mu);
      g_seen.query_out.push_back(q->out);
    }
    auto info = host.Lstat(*HostPath::Parse("/" + want.title()));
    if (!info.ok()) return info.error();
    Observation have;
    have.Set("ensure", Value(info->exists() ? "present" : "absent"));
    return have;
  }
  Result<void> Apply(const Resource& want, const Observation&, std::span<const Change>, Host& host,
                     RunContext&, Outcome&) override {
    auto r = host.Run(Shell("touch \"$KEEL_ROOT/" + want.title() + "\"", false));
    if (!r.ok()) return r.error();
    std::lock_guard<std::mutex> lock(g_seen.mu);
    g_seen.apply_results.push_back(*r);
    return {};
  }
  bool VerifyAfterApply() const override { return false; }
};

Registry CarelessRegistry() {
  Registry reg;
  reg.Add(TypeInfo{.schema = {.name = "careless",
                              .doc = "runs a command in Apply without checking dry_run()",
                              .attrs = {{.name = "name", .role = AttrRole::kNamevar},
                                        {.name = "ensure", .allowed = {"present", "absent"}}}},
                   .make_provider = [] { return std::make_unique<CarelessProvider>(); }});
  return reg;
}

Report RunCareless(const TempRoot& root, bool noop) {
  Registry reg = CarelessRegistry();
  Catalog cat;
  Resource r;
  r.ref = {"careless", "marker"};
  r.attrs.Set("ensure", Value("present"));
  r.loc = {"site.yaml", 1, 3};
  REQUIRE(PrepareResource(*reg.Find("careless"), r).empty());
  cat.Add(std::move(r));
  auto graph = Graph::Build(cat, reg);
  REQUIRE(graph.ok());
  auto host = OpenRealHost(root.path(), nullptr);
  REQUIRE(host.ok());
  RunContext ctx;
  ctx.noop = noop;
  Report rep;
  RunTransaction(cat, *graph, reg, **host, ctx, nullptr, RunOptions{.noop = noop}, rep);
  return rep;
}

}  // namespace

TEST_CASE("dry run: a provider that forgets dry_run() runs nothing in a plan") {
  TempRoot root;
  g_seen.apply_results.clear();
  g_seen.query_out.clear();
  Report plan = RunCareless(root, true);
  REQUIRE(plan.resources.size() == 1);
  CHECK(plan.resources[0].status == Status::kChanged);  // "would change"
  CHECK_FALSE(root.Exists("/marker"));
  REQUIRE(g_seen.apply_results.size() == 1);
  const CommandResult& res = g_seen.apply_results[0];
  CHECK(res.not_run);
  CHECK(res.exit_code == 0);
  CHECK(res.err == "not run: dry run");
  CHECK(res.out.empty());
  // The query in Read did run, on the real system.
  REQUIRE_FALSE(g_seen.query_out.empty());
  CHECK(g_seen.query_out[0] == "observed " + root.path());

  // The same catalog applied for real runs the command.
  g_seen.apply_results.clear();
  Report apply = RunCareless(root, false);
  REQUIRE(apply.resources.size() == 1);
  CHECK(apply.resources[0].status == Status::kChanged);
  CHECK(root.Exists("/marker"));
  REQUIRE(g_seen.apply_results.size() == 1);
  CHECK_FALSE(g_seen.apply_results[0].not_run);
  CHECK(g_seen.apply_results[0].exit_code == 0);
}

TEST_CASE("dry run: the overlay runs queries and answers other commands not run") {
  TempRoot root;
  auto real = OpenRealHost(root.path(), nullptr);
  REQUIRE(real.ok());
  auto overlay = MakeOverlayHost(**real);
  auto q = overlay->Run(Shell("touch \"$KEEL_ROOT/q\"; echo ran", true));
  REQUIRE(q.ok());
  CHECK(q->out == "ran\n");
  CHECK_FALSE(q->not_run);
  CHECK(root.Exists("/q"));
  auto c = overlay->Run(Shell("touch \"$KEEL_ROOT/c\"; echo ran; exit 3", false));
  REQUIRE(c.ok());
  CHECK(c->not_run);
  CHECK(c->exit_code == 0);
  CHECK(c->out.empty());
  CHECK(c->err == "not run: dry run");
  CHECK_FALSE(root.Exists("/c"));
}
