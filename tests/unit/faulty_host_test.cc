#include "tests/unit/support/faulty_host.h"

#include <doctest/doctest.h>

#include <cerrno>
#include <cstring>

#include "engine/host_real.h"
#include "tests/unit/support/temp_root.h"

using namespace keel;
using keel::testing::FaultyHost;
using keel::testing::TempRoot;
using Op = FaultyHost::Op;

namespace {

HostPath P(const char* s) { return *HostPath::Parse(s); }

std::unique_ptr<Host> OpenRoot(const TempRoot& root) {
  auto h = OpenRealHost(root.path(), nullptr);
  REQUIRE(h.ok());
  return std::move(*h);
}

// The message the real host gives for `what` on `p` failing with `err`.
std::string RealStyle(const TempRoot& root, const std::string& what, const char* p, int err) {
  return what + " " + root.path() + p + ": " + std::strerror(err);
}

}  // namespace

TEST_CASE("faulty host: the Nth write fails with the errno named, the others pass through") {
  for (int err : {ENOSPC, EIO, EROFS, EACCES}) {
    CAPTURE(err);
    TempRoot root;
    root.Mkdir("/etc");
    auto base = OpenRoot(root);
    FaultyHost host(*base);
    host.FailNth(Op::kWriteFileAtomic, 2, err);

    CHECK(host.WriteFileAtomic(P("/etc/a"), "a\n", {}).ok());
    auto before = root.Snapshot();
    auto failed = host.WriteFileAtomic(P("/etc/b"), "b\n", {});
    REQUIRE_FALSE(failed.ok());
    CHECK(failed.error().code == ErrorCode::kIo);
    CHECK(failed.error().message == RealStyle(root, "cannot write", "/etc/b", err));
    CHECK(root.Snapshot() == before);  // the failed call wrote nothing
    CHECK_FALSE(root.Exists("/etc/b"));
    CHECK(host.WriteFileAtomic(P("/etc/c"), "c\n", {}).ok());

    CHECK(root.Read("/etc/a") == "a\n");
    CHECK(root.Read("/etc/c") == "c\n");
    CHECK(host.Count(Op::kWriteFileAtomic) == 3);
    CHECK(host.Count(Op::kWrite) == 3);
    CHECK(host.Failures() == 1);
  }
}

TEST_CASE("faulty host: kWrite counts every kind of write, and each fails in turn") {
  TempRoot root;
  root.Write("/etc/old", "old\n");
  // The sequence under test: five writes of five kinds, then a command.
  auto run = [&](Host& h) {
    std::vector<std::string> errors;
    auto note = [&](const Result<void>& r) { errors.push_back(r.ok() ? "" : r.error().message); };
    note(h.MakeDir(P("/srv"), {}));
    note(h.WriteFileAtomic(P("/srv/f"), "f\n", {}));
    note(h.Symlink(P("/srv/l"), "f"));
    note(h.SetAttrs(P("/srv/f"), {.mode = 0600}));
    note(h.Remove(P("/etc/old"), false, false));
    return errors;
  };

  // First count, then fail each write in turn on a fresh tree.
  int writes = 0;
  {
    TempRoot clean;
    clean.Write("/etc/old", "old\n");
    auto base = OpenRoot(clean);
    FaultyHost counting(*base);
    for (const auto& e : run(counting)) CHECK(e.empty());
    writes = counting.Count(Op::kWrite);
    CHECK(counting.Count(Op::kMakeDir) == 1);
    CHECK(counting.Count(Op::kRun) == 0);
  }
  REQUIRE(writes == 5);
  const char* paths[] = {"/srv", "/srv/f", "/srv/l", "/srv/f", "/etc/old"};
  const char* whats[] = {"cannot create directory", "cannot write", "cannot create symlink",
                         "cannot set attributes of", "cannot remove"};
  for (int n = 1; n <= writes; ++n) {
    CAPTURE(n);
    TempRoot tree;
    tree.Write("/etc/old", "old\n");
    auto base = OpenRoot(tree);
    FaultyHost host(*base);
    host.FailNth(Op::kWrite, n, EIO);
    auto errors = run(host);
    for (int i = 0; i < writes; ++i) {
      if (i == n - 1) {
        CHECK(errors[i] == RealStyle(tree, whats[i], paths[i], EIO));
      } else if (!(n == 1 && i > 0 && i < 4) && !(n == 2 && i == 3)) {
        // (Without /srv its entries cannot be made; without /srv/f no mode set.)
        CHECK(errors[i] == "");
      }
    }
    // What the failed call would have done did not happen.
    if (n == 1) CHECK_FALSE(tree.Exists("/srv"));
    if (n == 2) CHECK_FALSE(tree.Exists("/srv/f"));
    if (n == 3) CHECK_FALSE(tree.Exists("/srv/l"));
    if (n == 4) CHECK(tree.Mode("/srv/f") == 0644);
    if (n == 5) CHECK(tree.Read("/etc/old") == "old\n");
    if (n != 5) CHECK_FALSE(tree.Exists("/etc/old"));
    CHECK(host.Failures() == 1);
  }
}

TEST_CASE("faulty host: FailFrom keeps failing; Reset disarms and zeroes the counts") {
  TempRoot root;
  root.Mkdir("/etc");
  auto base = OpenRoot(root);
  FaultyHost host(*base);
  host.FailFrom(Op::kWrite, 2, ENOSPC);
  CHECK(host.WriteFileAtomic(P("/etc/a"), "a", {}).ok());
  CHECK_FALSE(host.MakeDir(P("/etc/d"), {}).ok());
  CHECK_FALSE(host.WriteFileAtomic(P("/etc/b"), "b", {}).ok());
  CHECK_FALSE(root.Exists("/etc/d"));
  CHECK_FALSE(root.Exists("/etc/b"));
  CHECK(host.Failures() == 2);
  // Reads are never failed nor counted.
  auto read = host.ReadFile(P("/etc/a"));
  REQUIRE(read.ok());
  CHECK(**read == "a");

  host.Reset();
  CHECK(host.Count(Op::kWrite) == 0);
  CHECK(host.Failures() == 0);
  CHECK(host.WriteFileAtomic(P("/etc/b"), "b", {}).ok());
  CHECK(root.Read("/etc/b") == "b");
}

TEST_CASE("faulty host: the Nth command fails without running, naming the program") {
  TempRoot root;
  root.Mkdir("/tmp");
  auto base = OpenRoot(root);
  FaultyHost host(*base);
  host.FailNth(Op::kRun, 1, EACCES);
  Command touch;
  touch.shell = "touch \"$KEEL_ROOT/tmp/marker\"";
  touch.chroot = false;
  auto r = host.Run(touch);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == ErrorCode::kIo);
  CHECK(r.error().message == std::string("cannot run '/bin/sh': ") + std::strerror(EACCES));
  CHECK_FALSE(root.Exists("/tmp/marker"));
  // A command is not a write.
  CHECK(host.Count(Op::kWrite) == 0);

  auto again = host.Run(touch);
  REQUIRE(again.ok());
  CHECK(again->exit_code == 0);
  CHECK(root.Exists("/tmp/marker"));
  CHECK(host.Count(Op::kRun) == 2);
}

TEST_CASE("faulty host: a live host's errors name the host path") {
  auto live = OpenRealHost("/", nullptr);
  REQUIRE(live.ok());
  FaultyHost host(**live);
  host.FailNth(Op::kRemove, 1, EROFS);
  // Fails before reaching the base: nothing on this machine is touched.
  auto r = host.Remove(P("/nonexistent/keel-faulty-host"), false);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message ==
        std::string("cannot remove /nonexistent/keel-faulty-host: ") + std::strerror(EROFS));
}
