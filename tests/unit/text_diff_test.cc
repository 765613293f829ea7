#include "engine/text_diff.h"

#include <doctest/doctest.h>
#include <stdlib.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

using namespace keel;

namespace {

// Runs the real GNU diff -u on two temporary files; returns its output
// without the two label lines.
std::string GnuDiffBody(const std::string& before, const std::string& after) {
  char tmpl[] = "/tmp/keel-diff-XXXXXX";
  REQUIRE(mkdtemp(tmpl) != nullptr);
  std::string dir = tmpl;
  {
    std::ofstream(dir + "/a", std::ios::binary) << before;
    std::ofstream(dir + "/b", std::ios::binary) << after;
  }
  std::string cmd = "/usr/bin/diff -u " + dir + "/a " + dir + "/b";
  FILE* p = popen(cmd.c_str(), "r");
  REQUIRE(p != nullptr);
  std::string out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  pclose(p);
  std::filesystem::remove_all(dir);
  return out;
}

std::string DropLabels(const std::string& diff) {
  size_t first = diff.find('\n');
  if (first == std::string::npos) return diff;
  size_t second = diff.find('\n', first + 1);
  return second == std::string::npos ? "" : diff.substr(second + 1);
}

std::string Numbered(int from, int to, const std::string& prefix = "line ") {
  std::string s;
  for (int i = from; i <= to; ++i) s += prefix + std::to_string(i) + "\n";
  return s;
}

void CheckLikeGnu(const std::string& before, const std::string& after) {
  CAPTURE(before);
  CAPTURE(after);
  std::string ours = UnifiedDiff(before, after, "a", "b");
  std::string gnu = GnuDiffBody(before, after);
  REQUIRE(!ours.empty());
  CHECK(ours.substr(0, 12) == "--- a\n+++ b\n");
  CHECK(DropLabels(ours) == DropLabels(gnu));
}

}  // namespace

TEST_CASE("text_diff: equal texts give an empty diff") {
  CHECK(UnifiedDiff("", "", "a", "b") == "");
  CHECK(UnifiedDiff("x\ny\n", "x\ny\n", "a", "b") == "");
}

TEST_CASE("text_diff: labels and exact hunk headers") {
  CHECK(UnifiedDiff("a\nb\nc\n", "a\nb\nX\nc\n", "/etc/x (current)", "/etc/x (wanted)") ==
        "--- /etc/x (current)\n+++ /etc/x (wanted)\n@@ -1,3 +1,4 @@\n a\n b\n+X\n c\n");
  CHECK(UnifiedDiff("", "one\ntwo\n", "a", "b") == "--- a\n+++ b\n@@ -0,0 +1,2 @@\n+one\n+two\n");
  CHECK(UnifiedDiff("one\n", "", "a", "b") == "--- a\n+++ b\n@@ -1 +0,0 @@\n-one\n");
}

TEST_CASE("text_diff: binary content") {
  CHECK(UnifiedDiff(std::string("a\0b", 3), "ab", "a", "b") == "Binary files differ\n");
  CHECK(UnifiedDiff("ab", std::string("a\0b", 3), "a", "b") == "Binary files differ\n");
}

TEST_CASE("text_diff: matches GNU diff -u") {
  SUBCASE("insert") { CheckLikeGnu(Numbered(1, 10), Numbered(1, 5) + "new\n" + Numbered(6, 10)); }
  SUBCASE("insert at start and end") {
    CheckLikeGnu(Numbered(1, 10), "first\n" + Numbered(1, 10) + "last\n");
  }
  SUBCASE("delete") { CheckLikeGnu(Numbered(1, 10), Numbered(1, 4) + Numbered(7, 10)); }
  SUBCASE("change in the middle") {
    CheckLikeGnu(Numbered(1, 12), Numbered(1, 5) + "six\nseven\n" + Numbered(8, 12));
  }
  SUBCASE("no final newline on both sides") {
    CheckLikeGnu("a\nb\nc", "a\nb\nd");
    CheckLikeGnu("a\nb\nc", "a\nB\nc");
  }
  SUBCASE("final newline added and removed") {
    CheckLikeGnu("a\nb\nc", "a\nb\nc\n");
    CheckLikeGnu("a\nb\nc\n", "a\nb\nc");
  }
  SUBCASE("empty to content and back") {
    CheckLikeGnu("", "x\ny\nz\n");
    CheckLikeGnu("x\ny\nz\n", "");
    CheckLikeGnu("", "no newline");
  }
  SUBCASE("large file with distant changes gives two hunks") {
    std::string before = Numbered(1, 2000);
    std::string after = Numbered(1, 99) + "changed 100\n" + Numbered(101, 1499) +
                        Numbered(1501, 2000) + "appended\n";
    CheckLikeGnu(before, after);
    std::string ours = UnifiedDiff(before, after, "a", "b");
    size_t hunks = 0;
    for (size_t p = ours.find("\n@@ "); p != std::string::npos; p = ours.find("\n@@ ", p + 1))
      ++hunks;
    CHECK(hunks == 3);
  }
  SUBCASE("nearby changes merge into one hunk") {
    CheckLikeGnu(Numbered(1, 30),
                 Numbered(1, 9) + "x\n" + Numbered(11, 16) + "y\n" + Numbered(18, 30));
    CheckLikeGnu(Numbered(1, 30),
                 Numbered(1, 9) + "x\n" + Numbered(11, 17) + "y\n" + Numbered(19, 30));
  }
  SUBCASE("mixed edits") {
    CheckLikeGnu("# header\nA=1\nB=2\nC=3\n\n# tail\n",
                 "# header\nA=1\nB=20\nC=3\nD=4\n\n# tail\n");
  }
}

TEST_CASE("text_diff: random edits round-trip through patch(1)") {
  if (std::system("command -v patch >/dev/null 2>&1") != 0) return;
  unsigned seed = 12345;
  auto rnd = [&](unsigned n) {
    seed = seed * 1103515245u + 12345u;
    return (seed >> 16) % n;
  };
  char tmpl[] = "/tmp/keel-patch-XXXXXX";
  REQUIRE(mkdtemp(tmpl) != nullptr);
  std::string dir = tmpl;
  for (int round = 0; round < 25; ++round) {
    CAPTURE(round);
    std::string before, after;
    int n = 1 + static_cast<int>(rnd(60));
    for (int i = 0; i < n; ++i) {
      std::string line = "l" + std::to_string(rnd(8)) + "\n";  // repeats make it ambiguous
      before += line;
      switch (rnd(6)) {
        case 0:
          break;  // deleted
        case 1:
          after += "new" + std::to_string(i) + "\n" + line;
          break;
        case 2:
          after += "changed" + std::to_string(i) + "\n";
          break;
        default:
          after += line;
      }
    }
    if (rnd(3) == 0 && !before.empty()) before.pop_back();  // no final newline
    if (rnd(3) == 0 && !after.empty()) after.pop_back();
    std::string diff = UnifiedDiff(before, after, "a", "b");
    if (before == after) {
      CHECK(diff.empty());
      continue;
    }
    std::ofstream(dir + "/f", std::ios::binary | std::ios::trunc) << before;
    std::ofstream(dir + "/p", std::ios::binary | std::ios::trunc) << diff;
    std::string cmd = "patch -s " + dir + "/f " + dir + "/p >/dev/null 2>&1";
    REQUIRE(std::system(cmd.c_str()) == 0);
    std::ifstream in(dir + "/f", std::ios::binary);
    std::string got((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    CHECK(got == after);
  }
  std::filesystem::remove_all(dir);
}

TEST_CASE("text_diff: two large, entirely different files diff as one block, quickly") {
  // 100,000 changed lines on each side: an O(N·D) alignment would take
  // minutes; past the cap the middle is one replaced block.
  std::string before = "same head\n", after = "same head\n";
  for (int i = 0; i < 100000; ++i) {
    before += "old line " + std::to_string(i) + "\n";
    after += "new line " + std::to_string(i) + "\n";
  }
  before += "same tail\n";
  after += "same tail\n";
  std::string d = keel::UnifiedDiff(before, after, "a", "b");
  CHECK(d.find("@@ -1,100002 +1,100002 @@") != std::string::npos);
  CHECK(d.find("\n-old line 99999\n") != std::string::npos);
  CHECK(d.find("\n+new line 0\n") != std::string::npos);
  CHECK(d.find("\n-old line 99999\n") < d.find("\n+new line 0\n"));
}
