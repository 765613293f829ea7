// RunProcess: what a child inherits from keel.
#include "engine/subprocess.h"

#include <doctest/doctest.h>
#include <sys/resource.h>

#include <string>

using namespace keel;

TEST_CASE("a child gets the descriptor limit keel started with, not the one of the moment") {
  // keel raises its soft limit for a large batch of writes (host_real.cc,
  // DescriptorsForBatch) and puts it back after; a command run meanwhile
  // must see the limit keel was started with. Changed here the other way
  // (lowered), which needs no hard limit above the soft one; nothing in
  // this test binary changes it before.
  struct rlimit start {};
  REQUIRE(::getrlimit(RLIMIT_NOFILE, &start) == 0);
  if (start.rlim_cur == RLIM_INFINITY || start.rlim_cur < 128) return;
  struct rlimit changed = start;
  changed.rlim_cur = start.rlim_cur - 37;
  REQUIRE(::setrlimit(RLIMIT_NOFILE, &changed) == 0);
  auto r = RunProcess(ProcessSpec{.argv = {"sh", "-c", "ulimit -Sn"}});
  ::setrlimit(RLIMIT_NOFILE, &start);
  REQUIRE(r.ok());
  CHECK(r->exit_code == 0);
  CHECK(r->out == std::to_string(start.rlim_cur) + "\n");
}
