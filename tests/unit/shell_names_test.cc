// ShellFile's name index (built on a version's 64th lookup, so that N resources
// on one file cost O(N), not O(N^2)) must answer exactly as the scan it
// replaces: every lookup on a file that has its index is compared with the
// same lookup on a fresh parse of the same text (which has none), over
// random files mixing assignments, nested ones, code that reads, sets,
// exports or unsets the names, comments and names inside other words.
#include <doctest/doctest.h>

#include <random>
#include <string>
#include <vector>

#include "resources/common/shell_file.h"

using namespace keel;

namespace {

const char* const kNames[] = {"A", "B", "AB", "B_2", "LONG_NAME", "X"};

std::string RandomShell(std::mt19937& rng) {
  auto pick = [&](size_t n) { return static_cast<size_t>(rng() % n); };
  auto name = [&] { return std::string(kNames[pick(std::size(kNames))]); };
  std::string out;
  const size_t lines = 1 + pick(40);
  for (size_t i = 0; i < lines; ++i) {
    switch (pick(14)) {
      case 0:
        out += name() + "=v" + std::to_string(i) + "\n";
        break;
      case 1:
        out += "export " + name() + "=\"q " + std::to_string(i) + "\"\n";
        break;
      case 2:
        out += "if true; then\n  " + name() + "=nested\nfi\n";
        break;
      case 3:
        out += "echo $" + name() + "\n";
        break;
      case 4:
        out += ": ${" + name() + ":=dflt}\n";
        break;
      case 5:
        out += "export " + name() + "\n";
        break;
      case 6:
        out += "unset " + name() + "\n";
        break;
      case 7:
        out += "read " + name() + " < /dev/null\n";
        break;
      case 8:
        out += "# " + name() + "=commented\n";
        break;
      case 9:
        out += name() + "X=other\n";
        break;  // a longer name, not this one
      case 10:
        out += "Y=\"$" + name() + "/x\"\n";
        break;
      case 11:
        out += name() + "='single " + std::to_string(i) + "'  # trailer\n";
        break;
      case 12:
        out += "\n";
        break;
      default:
        out += name() + "=" + name() + "_" + std::to_string(i) + "\n";
        break;
    }
  }
  return out;
}

std::string Show(const shell::Assignment* a) {
  return a ? a->key + "=" + a->raw_value : std::string("(none)");
}

}  // namespace

TEST_CASE("shell names: the index answers as the scan does") {
  std::mt19937 rng(20261202);
  for (int round = 0; round < 2000; ++round) {
    const std::string text = RandomShell(rng);
    shell::ShellFile indexed = shell::ShellFile::Parse(text);
    // Enough lookups to build the index before the compared ones.
    for (int i = 0; i < 70; ++i) (void)indexed.Find("WARM_UP");
    std::vector<std::string> names(std::begin(kNames), std::end(kNames));
    names.push_back("ABSENT");
    names.push_back("Y");
    for (const std::string& n : names) {
      INFO("file:\n" << text << "name: " << n);
      CHECK(Show(indexed.Find(n)) == Show(shell::ShellFile::Parse(text).Find(n)));
      CHECK(indexed.Problem(n, false) == shell::ShellFile::Parse(text).Problem(n, false));
      CHECK(indexed.Problem(n, true) == shell::ShellFile::Parse(text).Problem(n, true));
      CHECK(indexed.SetText(n, "new value", std::nullopt) ==
            shell::ShellFile::Parse(text).SetText(n, "new value", std::nullopt));
      CHECK(indexed.RemoveText(n) == shell::ShellFile::Parse(text).RemoveText(n));
    }
    // After a change (Set rebuilds the entries) the index follows the new
    // text, not the old one.
    shell::ShellFile changed = indexed;
    changed.Set("A", "after", std::nullopt);
    for (int i = 0; i < 70; ++i) (void)changed.Find("WARM_UP");
    const std::string after = changed.Render();
    for (const std::string& n : names) {
      INFO("file after Set:\n" << after << "name: " << n);
      CHECK(Show(changed.Find(n)) == Show(shell::ShellFile::Parse(after).Find(n)));
      CHECK(changed.SetText(n, "v2", std::nullopt) ==
            shell::ShellFile::Parse(after).SetText(n, "v2", std::nullopt));
    }
  }
}
