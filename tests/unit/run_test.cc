// RunPipeline (engine/run.h) end to end on a temp --root: the same call the
// CLI makes for apply and plan.
#include "engine/run.h"

#include <doctest/doctest.h>

#include <string>

#include "tests/unit/support/temp_root.h"

using namespace keel;
using keel::testing::TempRoot;

TEST_CASE("run: apply converges, a second apply changes nothing, a plan writes nothing") {
  TempRoot root, repo;
  root.Write("/etc/motd", "old\n");
  repo.Write("/site.yaml",
             "resources:\n"
             "  - file: /etc/motd\n"
             "    content: \"hello\\n\"\n"
             "  - file: /etc/keel-test.conf\n"
             "    content: \"{{ greeting }}\\n\"\n");
  RunRequest req{.path = repo.Real("/site.yaml"),
                 .root = root.path(),
                 .vars = {"greeting=hi"},
                 .detailed = true};

  RunOutcome first = RunPipeline(req);
  REQUIRE(first.converged);
  CHECK(first.report.Count(Status::kChanged) == 2);
  CHECK(first.report.Count(Status::kFailed) == 0);
  CHECK(first.exit_code == 2);
  CHECK(root.Read("/etc/motd") == "hello\n");
  CHECK(root.Read("/etc/keel-test.conf") == "hi\n");
  // The state dir defaults to <root>/var/lib/keel: last run and a backup.
  CHECK(root.Read("/var/lib/keel/last_run.json") == first.json + "\n");
  CHECK(first.report.root == root.path());

  RunOutcome again = RunPipeline(req);
  REQUIRE(again.converged);
  CHECK(again.report.Count(Status::kChanged) == 0);
  CHECK(again.report.Count(Status::kUnchanged) == 2);
  CHECK(again.exit_code == 0);

  // A plan over a drifted tree reports the change and writes nothing: not
  // the file, not the lock, not last_run.json, not a backup.
  root.Write("/etc/motd", "drifted\n");
  auto before = root.Snapshot();
  RunRequest plan = req;
  plan.dry = true;
  RunOutcome planned = RunPipeline(plan);
  REQUIRE(planned.converged);
  CHECK(planned.report.noop);
  CHECK(planned.report.Count(Status::kChanged) == 1);
  CHECK(planned.exit_code == 2);
  CHECK(root.Snapshot() == before);
}

TEST_CASE("run: manifests that do not validate change nothing and exit 1") {
  TempRoot root, repo;
  repo.Write("/site.yaml", "resources:\n  - file: /etc/motd\n    contnt: x\n");
  auto before = root.Snapshot();
  RunOutcome out = RunPipeline(RunRequest{.path = repo.Real("/site.yaml"), .root = root.path()});
  CHECK_FALSE(out.converged);
  CHECK(out.exit_code == 1);
  CHECK(root.Snapshot() == before);
}
