// Config repo pulls against real git repositories made with the git CLI.
#include "engine/config_repo.h"

#include <doctest/doctest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "tests/unit/support/temp_root.h"

using keel::testing::TempRoot;
namespace fs = std::filesystem;

namespace {

std::string Sh(const std::string& cmd) {
  std::string out;
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return out;
  char buf[256];
  while (fgets(buf, sizeof buf, p)) out += buf;
  pclose(p);
  while (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

std::string Slurp(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// A source repo with one commit of site.yaml; returns its HEAD sha.
std::string Commit(const std::string& dir, const std::string& content) {
  std::ofstream(dir + "/site.yaml") << content;
  Sh("cd " + dir + " && git add -A && git -c user.name=t -c user.email=t@t commit -qm c");
  return Sh("cd " + dir + " && git rev-parse HEAD");
}

}  // namespace

TEST_CASE("config_repo: pull checks out the branch tip and switches current atomically") {
  if (Sh("command -v git").empty()) return;
  TempRoot t;
  std::string src = t.path() + "/src";
  fs::create_directories(src);
  Sh("git init -q -b production " + src);
  std::string c1 = Commit(src, "resources: []\n");
  std::string dest = t.path() + "/dest";

  auto r1 = keel::PullConfigRepo({.url = src, .branch = "production", .dest = dest});
  REQUIRE_MESSAGE(r1.ok(), (r1.ok() ? "" : r1.error().message));
  CHECK(r1->commit == c1);
  CHECK(r1->fetched);
  CHECK(Slurp(dest + "/current/site.yaml") == "resources: []\n");
  CHECK(fs::read_symlink(dest + "/current") == fs::path("trees") / c1);

  // A new commit: pulled, current moves; a local edit in the checkout is discarded.
  std::string c2 = Commit(src, "resources: [{file: /x, content: y}]\n");
  std::ofstream(dest + "/trees/" + c1 + "/site.yaml") << "local edit\n";
  auto r2 = keel::PullConfigRepo({.url = "file://" + src, .branch = "production", .dest = dest});
  REQUIRE(r2.ok());
  CHECK(r2->commit == c2);
  CHECK(Slurp(dest + "/current/site.yaml") == "resources: [{file: /x, content: y}]\n");

  // --ref pins an older commit.
  auto r3 = keel::PullConfigRepo({.url = src, .ref = c1, .dest = dest});
  REQUIRE(r3.ok());
  CHECK(r3->commit == c1);
  CHECK(Slurp(dest + "/current/site.yaml") == "resources: []\n");
}

TEST_CASE("config_repo: a failed fetch falls back to the same URL and branch's last good commit") {
  if (Sh("command -v git").empty()) return;
  TempRoot t;
  std::string src = t.path() + "/src";
  fs::create_directories(src);
  Sh("git init -q -b main " + src);
  std::string c1 = Commit(src, "resources: []\n");
  std::string dest = t.path() + "/dest";
  keel::PullOptions main_opts{.url = src, .branch = "main", .dest = dest};
  auto first = keel::PullConfigRepo(main_opts);
  REQUIRE(first.ok());

  // Without a last good commit a failed fetch is an error naming the URL.
  fs::rename(src, t.path() + "/moved");
  auto bad = keel::PullConfigRepo(main_opts);
  REQUIRE(!bad.ok());
  CHECK(bad.error().message.find(src) != std::string::npos);
  CHECK(bad.error().message.find("does not exist") != std::string::npos);

  REQUIRE(keel::MarkGood(main_opts, c1, first->tree_dir).ok());
  auto fb = keel::PullConfigRepo(main_opts);
  REQUIRE(fb.ok());
  CHECK(!fb->fetched);
  CHECK(fb->commit == c1);
  REQUIRE(!fb->messages.empty());
  CHECK(fb->messages.back().find("last good commit") != std::string::npos);

  // Another URL, another branch, a pinned ref: never another's commit.
  for (keel::PullOptions other : {keel::PullOptions{.url = t.path() + "/gone", .branch = "main"},
                                  keel::PullOptions{.url = src, .branch = "staging"},
                                  keel::PullOptions{.url = src, .ref = c1}}) {
    other.dest = dest;
    auto r = keel::PullConfigRepo(other);
    CHECK_MESSAGE(!r.ok(), std::string(other.url + " " + other.branch + other.ref));
  }

  fs::rename(t.path() + "/moved", src);
  auto missing = keel::PullConfigRepo({.url = src, .branch = "nope", .dest = dest});
  REQUIRE(!missing.ok());
  CHECK(missing.error().message.find("branch 'nope'") != std::string::npos);
}

TEST_CASE("config_repo: durations") {
  CHECK(*keel::ParseDuration("90") == 90);
  CHECK(*keel::ParseDuration("30m") == 1800);
  CHECK(*keel::ParseDuration("1h30m") == 5400);
  CHECK(*keel::ParseDuration("2d") == 172800);
  CHECK(!keel::ParseDuration("").ok());
  CHECK(!keel::ParseDuration("1h30").ok());
  CHECK(!keel::ParseDuration("soon").ok());
  CHECK(!keel::ParseDuration("-5m").ok());
}
