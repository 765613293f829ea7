// The one atomic write (engine/atomic_file): content, mode, no temp left
// behind; with a fault injected at each step, the old file is intact, no temp
// file is left and the error names the path and the errno.
#include "engine/atomic_file.h"

#include <doctest/doctest.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "engine/fd.h"
#include "engine/host_real.h"
#include "engine/state.h"
#include "tests/unit/support/temp_root.h"

using namespace keel;
using keel::testing::TempRoot;

namespace {

// Fails the `nth` call for `step` with `err` (one installed at a time).
struct Injector {
  static inline FaultStep step;
  static inline int nth = 0;
  static inline int err = 0;
  static inline int seen = 0;
  static inline std::vector<std::string> paths;

  Injector(FaultStep s, int n, int e) {
    step = s;
    nth = n;
    err = e;
    seen = 0;
    paths.clear();
    SetAtomicFaultHook([](FaultStep st, const std::string& path) {
      if (st != step) return 0;
      paths.push_back(path);
      return ++seen == nth ? err : 0;
    });
  }
  ~Injector() { SetAtomicFaultHook(nullptr); }
};

std::vector<std::string> Names(const std::string& dir) {
  std::vector<std::string> out;
  for (auto& e : std::filesystem::directory_iterator(dir)) out.push_back(e.path().filename());
  std::sort(out.begin(), out.end());
  return out;
}

std::string Message(FaultStep s) {
  switch (s) {
    case FaultStep::kWrite:
      return "write";
    case FaultStep::kFsync:
      return "fsync";
    case FaultStep::kRename:
      return "rename";
    case FaultStep::kDirFsync:
      return "fsync of the directory";
    case FaultStep::kMkdir:
      return "mkdir";
  }
  return "";
}

}  // namespace

TEST_CASE("atomic write: replaces content with the final mode, leaves no temp file") {
  TempRoot tmp;
  Fd dir(::open(tmp.path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  REQUIRE(dir.valid());
  REQUIRE(AtomicWriteAt(dir.get(), "f", "one\n", {.mode = 0640}, "F").ok());
  CHECK(tmp.Read("/f") == "one\n");
  CHECK(tmp.Mode("/f") == 0640);
  REQUIRE(AtomicWriteFile(tmp.path() + "/f", "two\n", {.mode = 0600}).ok());
  CHECK(tmp.Read("/f") == "two\n");
  CHECK(tmp.Mode("/f") == 0600);
  CHECK(Names(tmp.path()) == std::vector<std::string>{"f"});
  // A symlink in place of the target is replaced, never followed.
  tmp.Write("/outside", "keep\n");
  tmp.Symlink("/link", tmp.path() + "/outside");
  REQUIRE(AtomicWriteAt(dir.get(), "link", "new\n", {}, "L").ok());
  CHECK(tmp.Read("/outside") == "keep\n");
  CHECK_FALSE(std::filesystem::is_symlink(tmp.Real("/link")));
  auto bad = AtomicWriteFile(tmp.path() + "/missing/f", "x");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().message == "cannot write " + tmp.path() + "/missing/f: opening " + tmp.path() +
                                   "/missing: No such file or directory");
}

TEST_CASE("atomic write: a failed write, fsync or rename leaves the old file and no temp") {
  for (FaultStep step : {FaultStep::kWrite, FaultStep::kFsync, FaultStep::kRename}) {
    for (int err : {EIO, ENOSPC, EROFS, EACCES}) {
      CAPTURE(Message(step));
      CAPTURE(err);
      TempRoot tmp;
      tmp.Write("/f", "old\n", 0644);
      Fd dir(::open(tmp.path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
      REQUIRE(dir.valid());
      {
        // The 2nd write of `step` fails: the first goes through.
        Injector inject(step, 2, err);
        REQUIRE(AtomicWriteAt(dir.get(), "g", "first\n", {}, tmp.path() + "/g").ok());
        auto r = AtomicWriteAt(dir.get(), "f", "new\n", {.mode = 0600}, tmp.path() + "/f");
        REQUIRE_FALSE(r.ok());
        CHECK(r.error().code == ErrorCode::kIo);
        CHECK(r.error().message ==
              "cannot write " + tmp.path() + "/f: " + Message(step) + ": " + std::strerror(err));
        CHECK(Injector::paths.back() == tmp.path() + "/f");
      }
      CHECK(tmp.Read("/f") == "old\n");
      CHECK(tmp.Mode("/f") == 0644);
      CHECK(tmp.Read("/g") == "first\n");
      CHECK(Names(tmp.path()) == std::vector<std::string>{"f", "g"});
    }
  }
}

TEST_CASE("atomic write: a failed directory fsync is reported; the new file is in place") {
  TempRoot tmp;
  tmp.Write("/f", "old\n");
  Injector inject(FaultStep::kDirFsync, 1, EIO);
  auto r = AtomicWriteFile(tmp.path() + "/f", "new\n");
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message ==
        "cannot write " + tmp.path() + "/f: fsync of the directory: Input/output error");
  CHECK(tmp.Read("/f") == "new\n");
  CHECK(Names(tmp.path()) == std::vector<std::string>{"f"});
}

TEST_CASE("atomic write: MakeDirAt creates with the mode, fails with the injected errno") {
  TempRoot tmp;
  Fd dir(::open(tmp.path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  REQUIRE(MakeDirAt(dir.get(), "d", 0700, "D").ok());
  CHECK(tmp.Mode("/d") == 0700);
  REQUIRE(MakeDirAt(dir.get(), "d", 0700, "D").ok());  // already a directory
  tmp.Write("/file", "x");
  auto not_dir = MakeDirAt(dir.get(), "file", 0700, "FILE");
  REQUIRE_FALSE(not_dir.ok());
  CHECK(not_dir.error().message ==
        "cannot create directory FILE: something other than a directory is there");
  Injector inject(FaultStep::kMkdir, 1, EROFS);
  auto r = MakeDirAt(dir.get(), "e", 0700, tmp.path() + "/e");
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message == "cannot create directory " + tmp.path() + "/e: Read-only file system");
  CHECK_FALSE(tmp.Exists("/e"));
}

TEST_CASE("atomic write: the real host and the state dir go through it") {
  TempRoot root;
  TempRoot st;
  root.Write("/etc/motd", "old\n");
  StateDir state(st.path() + "/state");
  REQUIRE(state.WriteLastRun("{\"n\": 1}\n").ok());
  auto host = OpenRealHost(root.path(), &state);
  REQUIRE(host.ok());
  {
    // 1st rename: the backup blob; 2nd: /etc/motd itself.
    Injector inject(FaultStep::kRename, 2, ENOSPC);
    auto w = (*host)->WriteFileAtomic(*HostPath::Parse("/etc/motd"), "new\n", {});
    REQUIRE_FALSE(w.ok());
    // The path inside the root (issue 11 item 10), not the build machine's.
    CHECK(w.error().message == "cannot write /etc/motd: rename: No space left on device");
    auto last = state.WriteLastRun("{\"n\": 2}\n");
    REQUIRE(last.ok());  // the 3rd rename
  }
  CHECK(root.Read("/etc/motd") == "old\n");
  CHECK(Names(root.path() + "/etc") == std::vector<std::string>{"motd"});
  {
    Injector inject(FaultStep::kFsync, 1, EIO);
    auto last = state.WriteLastRun("{\"n\": 3}\n");
    REQUIRE_FALSE(last.ok());
    CHECK(last.error().message ==
          "cannot write " + st.path() + "/state/last_run.json: fsync: Input/output error");
  }
  CHECK(st.Read("/state/last_run.json") == "{\"n\": 2}\n");
  CHECK(Names(st.path() + "/state") == std::vector<std::string>{"backup", "last_run.json"});
}

TEST_CASE("atomic write: a batch (WriteFilesAtomic) writes each file; a failure is its own") {
  TempRoot root;
  root.Write("/etc/a", "old a\n", 0600);
  root.Write("/etc/c", "old c\n");
  root.Mkdir("/srv");
  auto host = OpenRealHost(root.path(), nullptr);
  REQUIRE(host.ok());
  auto p = [](const char* s) { return *HostPath::Parse(s); };
  // Read by keel, then changed by someone else: its write must fail alone.
  REQUIRE((*host)->ReadFile(p("/etc/c")).ok());
  root.Write("/etc/c", "admin's c\n");
  std::vector<Host::Write> writes = {
      {p("/etc/a"), "new a\n", {}}, {p("/etc/b"), "new b\n", {.mode = 0640}},
      {p("/etc/c"), "new c\n", {}}, {p("/nodir/x"), "x\n", {}},
      {p("/srv/y"), "y\n", {}},
  };
  auto r = (*host)->WriteFilesAtomic(writes);
  REQUIRE(r.size() == 5);
  CHECK(r[0].ok());
  CHECK(r[1].ok());
  REQUIRE_FALSE(r[2].ok());
  CHECK(r[2].error().code == ErrorCode::kConflict);
  REQUIRE_FALSE(r[3].ok());
  CHECK(r[3].error().message.find("parent directory /nodir does not exist") != std::string::npos);
  CHECK(r[4].ok());
  CHECK(root.Read("/etc/a") == "new a\n");
  CHECK(root.Mode("/etc/a") == 0600);  // kept: no mode given
  CHECK(root.Read("/etc/b") == "new b\n");
  CHECK(root.Mode("/etc/b") == 0640);
  CHECK(root.Read("/etc/c") == "admin's c\n");
  CHECK(root.Read("/srv/y") == "y\n");
  CHECK(Names(root.path() + "/etc") == std::vector<std::string>{"a", "b", "c"});
  CHECK(Names(root.path() + "/srv") == std::vector<std::string>{"y"});
}

TEST_CASE("atomic write: a batch with a failed fsync or rename keeps that file old, no temp") {
  for (FaultStep step : {FaultStep::kWrite, FaultStep::kFsync, FaultStep::kRename}) {
    CAPTURE(Message(step));
    TempRoot root;
    for (const char* f : {"/etc/f1", "/etc/f2", "/etc/f3"}) root.Write(f, "old\n");
    auto host = OpenRealHost(root.path(), nullptr);
    REQUIRE(host.ok());
    std::vector<Host::Write> writes;
    for (const char* f : {"/etc/f1", "/etc/f2", "/etc/f3"})
      writes.push_back({*HostPath::Parse(f), "new\n", {}});
    std::vector<Result<void>> r;
    {
      Injector inject(step, 2, EIO);  // the 2nd file's step fails
      r = (*host)->WriteFilesAtomic(writes);
    }
    REQUIRE(r.size() == 3);
    CHECK(r[0].ok());
    REQUIRE_FALSE(r[1].ok());
    CHECK(r[1].error().message ==
          std::string("cannot write /etc/f2: ") + Message(step) + ": Input/output error");
    CHECK(r[2].ok());
    CHECK(root.Read("/etc/f1") == "new\n");
    CHECK(root.Read("/etc/f2") == "old\n");
    CHECK(root.Read("/etc/f3") == "new\n");
    CHECK(Names(root.path() + "/etc") == std::vector<std::string>{"f1", "f2", "f3"});
  }
}

TEST_CASE("atomic write: a batch syncs its directory once; a failed fsync of it is reported") {
  TempRoot root;
  root.Mkdir("/etc");
  auto host = OpenRealHost(root.path(), nullptr);
  REQUIRE(host.ok());
  std::vector<Host::Write> writes;
  for (int i = 0; i < 300; ++i)  // more than the old fixed chunk of 256
    writes.push_back({*HostPath::Parse("/etc/f" + std::to_string(i)), std::to_string(i), {}});
  {
    Injector count(FaultStep::kDirFsync, 0, 0);  // counts, fails nothing
    auto r = (*host)->WriteFilesAtomic(writes);
    CHECK(std::all_of(r.begin(), r.end(), [](const Result<void>& x) { return x.ok(); }));
    // One per directory and chunk: one chunk wherever the hard descriptor
    // limit allows two descriptors a write (the soft one is raised for the
    // batch); tests/cli/perf_syscalls.sh runs under low limits.
    struct rlimit lim {};
    REQUIRE(::getrlimit(RLIMIT_NOFILE, &lim) == 0);
    if (lim.rlim_max == RLIM_INFINITY || lim.rlim_max >= 2 * 300 + 256)
      CHECK(Injector::seen == 1);
    else
      CHECK(Injector::seen >= 2);
  }
  CHECK(root.Read("/etc/f299") == "299");
  CHECK(Names(root.path() + "/etc").size() == 300);
  Injector inject(FaultStep::kDirFsync, 1, EIO);
  auto r = (*host)->WriteFilesAtomic(std::span(writes).first(2));
  REQUIRE_FALSE(r[0].ok());
  CHECK(r[0].error().message == "cannot write /etc/f0: fsync of the directory: Input/output error");
}
