#include "engine/state.h"

#include <doctest/doctest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "engine/host_real.h"
#include "tests/unit/support/temp_root.h"

using namespace keel;
using keel::testing::TempRoot;

namespace {

HostPath P(const char* s) { return *HostPath::Parse(s); }

// sha256sum's answer for `data` (the reference implementation).
std::string Sha256Sum(const std::string& data) {
  auto live = OpenRealHost("/", nullptr);
  REQUIRE(live.ok());
  Command c;
  c.argv = {"sha256sum"};
  c.stdin_data = data;
  auto r = (*live)->Run(c);
  REQUIRE(r.ok());
  return r->out.substr(0, 64);
}

mode_t ModeOf(const std::string& p) {
  struct stat st;
  return ::stat(p.c_str(), &st) == 0 ? (st.st_mode & 07777) : 0;
}

}  // namespace

TEST_CASE("state: sha256 matches known vectors and sha256sum") {
  CHECK(Sha256Hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(Sha256Hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK(Sha256Hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq") ==
        "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  CHECK(Sha256Hex(std::string(1000000, 'a')) ==
        "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
  // Lengths around the padding boundaries, and binary bytes.
  for (size_t n : {1, 55, 56, 57, 63, 64, 65, 119, 120, 128, 1000}) {
    std::string data;
    for (size_t i = 0; i < n; ++i) data += static_cast<char>((i * 131 + 7) & 0xff);
    CAPTURE(n);
    CHECK(Sha256Hex(data) == Sha256Sum(data));
  }
}

TEST_CASE("state: backups are stored once and indexed") {
  TempRoot tmp;
  std::string dir = tmp.path() + "/state";
  StateDir state(dir);
  CHECK_FALSE(std::filesystem::exists(dir));  // lazily created
  REQUIRE(state.Index().ok());
  CHECK(state.Index()->empty());

  REQUIRE(state.Save(P("/etc/hosts"), "old hosts\n").ok());
  REQUIRE(state.Save(P("/etc/motd"), "old hosts\n").ok());  // same content: one blob
  REQUIRE(state.Save(P("/etc/hosts"), "older\n").ok());
  CHECK(ModeOf(dir) == 0700);
  CHECK(ModeOf(dir + "/backup") == 0700);
  std::string sha = Sha256Hex("old hosts\n");
  CHECK(ModeOf(dir + "/backup/" + sha) == 0600);
  auto idx = state.Index();
  REQUIRE(idx.ok());
  REQUIRE(idx->size() == 3);
  CHECK((*idx)[0].path == "/etc/hosts");
  CHECK((*idx)[0].sha256 == sha);
  CHECK((*idx)[1].path == "/etc/motd");
  CHECK((*idx)[2].sha256 == Sha256Hex("older\n"));
  // RFC 3339 UTC with sub-second precision, in order.
  const std::string& t = (*idx)[0].time;
  CHECK(t.size() == 27);
  CHECK(t[10] == 'T');
  CHECK(t[19] == '.');
  CHECK(t.back() == 'Z');
  CHECK((*idx)[0].time <= (*idx)[2].time);
  CHECK(*state.LoadBackup(sha) == "old hosts\n");
  CHECK(state.LoadBackup(Sha256Hex("never")).error().code == ErrorCode::kNotFound);
  CHECK(state.LoadBackup("../../etc/passwd").error().code == ErrorCode::kInvalid);
  // Blobs directory: two blobs + index.
  size_t files = 0;
  for (auto& e : std::filesystem::directory_iterator(dir + "/backup")) {
    (void)e;
    ++files;
  }
  CHECK(files == 3);

  // A torn last line (a kill mid-append) is skipped, not fatal.
  std::ofstream(dir + "/backup/index", std::ios::app) << "2026-01-01T00:00:00Z\t/x\tabc";
  idx = state.Index();
  REQUIRE(idx.ok());
  CHECK(idx->size() == 3);
}

TEST_CASE("state: the real host saves replaced and removed content") {
  TempRoot root;
  TempRoot tmp;
  root.Write("/etc/hosts", "before\n");
  StateDir state(tmp.path() + "/state");
  auto host = OpenRealHost(root.path(), &state);
  REQUIRE(host.ok());
  REQUIRE((*host)->WriteFileAtomic(P("/etc/hosts"), "after\n", {}).ok());
  REQUIRE((*host)->Remove(P("/etc/hosts"), false).ok());
  auto idx = state.Index();
  REQUIRE(idx.ok());
  REQUIRE(idx->size() == 2);
  CHECK(*state.LoadBackup((*idx)[0].sha256) == "before\n");
  CHECK(*state.LoadBackup((*idx)[1].sha256) == "after\n");
}

TEST_CASE("state: lock is exclusive and names the holder") {
  TempRoot tmp;
  std::string dir = tmp.path() + "/st";
  StateDir a(dir), b(dir);
  REQUIRE(a.Lock(0).ok());
  CHECK(ModeOf(dir) == 0700);
  auto held = b.Lock(0);
  REQUIRE_FALSE(held.ok());
  CHECK(held.error().code == ErrorCode::kConflict);
  CHECK(held.error().message == "another keel run holds the lock " + dir + "/lock (pid " +
                                    std::to_string(::getpid()) + ")");
  auto start = std::chrono::steady_clock::now();
  CHECK_FALSE(b.Lock(0.5).ok());
  double waited = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  CHECK(waited >= 0.45);
  CHECK(waited < 1.5);
  a.Unlock();
  REQUIRE(b.Lock(0).ok());
  CHECK_FALSE(a.Lock(0).ok());
  b.Unlock();
}

TEST_CASE("state: owed refreshes and last run are written atomically") {
  TempRoot tmp;
  std::string dir = tmp.path() + "/st";
  StateDir state(dir);
  CHECK(state.OwedRefreshes().value().empty());
  REQUIRE(state.SetOwedRefreshes({}).ok());
  CHECK_FALSE(std::filesystem::exists(dir));
  REQUIRE(state.SetOwedRefreshes({"service[nginx]", "exec[reload]"}).ok());
  CHECK(state.OwedRefreshes().value() ==
        std::vector<std::string>{"service[nginx]", "exec[reload]"});
  REQUIRE(state.SetOwedRefreshes({}).ok());
  CHECK(state.OwedRefreshes().value().empty());
  REQUIRE(state.WriteLastRun("{\"report_version\": 1}\n").ok());
  std::ifstream in(dir + "/last_run.json");
  std::stringstream ss;
  ss << in.rdbuf();
  CHECK(ss.str() == "{\"report_version\": 1}\n");
  // No temp files left.
  size_t files = 0;
  for (auto& e : std::filesystem::directory_iterator(dir)) {
    (void)e;
    ++files;
  }
  CHECK(files == 1);
}

namespace {

// Runs `body` once with openat2 and once with the walk (KEEL_NO_OPENAT2=1).
template <typename F>
void BothResolvers(F body) {
  for (bool walk : {false, true}) {
    CAPTURE(walk);
    if (walk) {
      ::setenv("KEEL_NO_OPENAT2", "1", 1);
    } else {
      ::unsetenv("KEEL_NO_OPENAT2");
    }
    body();
  }
  ::unsetenv("KEEL_NO_OPENAT2");
}

}  // namespace

TEST_CASE("state: the default state dir is created inside the root, 0700 with 0755 parents") {
  BothResolvers([] {
    TempRoot root;
    auto state = StateDir::InRoot(root.path() + "/");
    REQUIRE(state.ok());
    CHECK((*state)->dir() == root.path() + "/var/lib/keel");
    CHECK_FALSE(root.Exists("/var"));  // lazily, never in a dry run
    CHECK((*state)->OwedRefreshes().value().empty());
    CHECK((*state)->Index()->empty());
    CHECK_FALSE(root.Exists("/var"));
    REQUIRE((*state)->Lock(0).ok());
    CHECK(root.Mode("/var") == 0755);
    CHECK(root.Mode("/var/lib") == 0755);
    CHECK(root.Mode("/var/lib/keel") == 0700);
    REQUIRE((*state)->Save(P("/etc/motd"), "old\n").ok());
    REQUIRE((*state)->WriteLastRun("{}\n").ok());
    CHECK(root.Read("/var/lib/keel/backup/" + Sha256Hex("old\n")) == "old\n");
    CHECK(root.Read("/var/lib/keel/last_run.json") == "{}\n");
    CHECK(*(*state)->LoadBackup(Sha256Hex("old\n")) == "old\n");
  });
}

TEST_CASE("state: links out of the root never lead the state dir outside it") {
  // Each link, absolute and "..", pointing at a directory (or for the lock
  // a file) outside the root that holds a planted backup store.
  struct Case {
    const char* link;     // inside the root
    const char* planted;  // where the outside backup store sits, under out/
  };
  const Case cases[] = {{"/var", "/lib/keel/backup"},
                        {"/var/lib", "/keel/backup"},
                        {"/var/lib/keel", "/backup"},
                        {"/var/lib/keel/backup", ""},
                        {"/var/lib/keel/lock", ""}};
  BothResolvers([&] {
    for (const Case& c : cases) {
      for (bool relative : {false, true}) {
        std::string link_name = c.link;
        CAPTURE(link_name);
        CAPTURE(relative);
        TempRoot top;
        TempRoot root;  // a sibling of `top`: both under /tmp
        std::string out = top.path() + "/out";
        std::string sha = Sha256Hex("from outside\n");
        top.Write("/out" + std::string(c.planted) + "/" + sha, "from outside\n");
        top.Write("/out" + std::string(c.planted) + "/index",
                  "2020-01-01T00:00:00.000Z\t/etc/motd\t" + sha + "\n");
        std::string link = c.link;
        if (link != "/var") root.Mkdir(HostPath::Parse(link)->Parent().str());
        std::string target = out + (link == "/var/lib/keel/lock" ? "/lock" : "");
        if (relative) {
          // From the link's directory up to /tmp, then into `top`.
          std::string up;
          size_t depth = std::count(link.begin(), link.end(), '/') - 1;
          for (size_t i = 0; i < depth + 1; ++i) up += "../";
          target = up + target.substr(5);  // strip "/tmp/"
        }
        root.Symlink(link, target);
        auto before = top.Snapshot();

        auto state = StateDir::InRoot(root.path());
        REQUIRE(state.ok());
        auto idx = (*state)->Index();
        if (idx.ok()) CHECK(idx->empty());  // the planted index is never read
        CHECK_FALSE((*state)->LoadBackup(sha).ok());
        auto locked = (*state)->Lock(0);
        auto saved = (*state)->Save(P("/etc/motd"), "old\n");
        auto wrote = (*state)->WriteLastRun("{}\n");
        auto owed = (*state)->SetOwedRefreshes({"exec[x]"});
        // What the link stands in for fails, naming the state dir; a link
        // at the state dir or above it fails everything.
        bool dir_link = link != "/var/lib/keel/backup" && link != "/var/lib/keel/lock";
        CHECK(locked.ok() == (link == "/var/lib/keel/backup"));
        CHECK(saved.ok() == (link == "/var/lib/keel/lock"));
        CHECK(wrote.ok() == !dir_link);
        CHECK(owed.ok() == !dir_link);
        for (const Result<void>* r : {&locked, &saved, &wrote, &owed}) {
          if (!r->ok())
            CHECK(r->error().message.find(root.path() + "/var/lib/keel") != std::string::npos);
        }
        (*state)->Unlock();
        CHECK(top.Snapshot() == before);
        CHECK(std::filesystem::is_symlink(root.Real(link)));
      }
    }
  });
}

TEST_CASE("state: a link inside the root is followed inside it") {
  BothResolvers([] {
    for (const char* target : {"/srv/state", "./srv/state"}) {
      CAPTURE(target);
      TempRoot root;
      root.Mkdir("/srv/state");
      root.Symlink("/var", target);
      auto state = StateDir::InRoot(root.path());
      REQUIRE(state.ok());
      REQUIRE((*state)->Lock(0).ok());
      REQUIRE((*state)->WriteLastRun("{}\n").ok());
      CHECK(root.Read("/srv/state/lib/keel/last_run.json") == "{}\n");
      CHECK(root.Mode("/srv/state/lib/keel") == 0700);
    }
  });
}
