#include "resources/common/line_edits.h"

#include <doctest/doctest.h>

#include <optional>
#include <random>

#include "engine/text_lines.h"

using namespace keel;
using keel::edit::LineEdits;
using keel::edit::LineSpan;

namespace {

std::vector<LineSpan> Spans(std::string_view text) {
  std::vector<LineSpan> out;
  edit::ForEachLine(text, [&](const LineSpan& l) { out.push_back(l); });
  return out;
}

}  // namespace

TEST_CASE("line edits: NextLine finds the lines TextLines does, as spans of the text") {
  for (std::string_view text : {"", "a", "a\n", "\n", "a\n\nb", "a\r\n b\t\nc", "\n\n"}) {
    TextLines ref = TextLines::Parse(text);
    auto spans = Spans(text);
    REQUIRE(spans.size() == ref.lines.size());
    for (size_t i = 0; i < spans.size(); ++i) {
      CHECK(spans[i].text == ref.lines[i]);
      CHECK(text.substr(spans[i].begin, spans[i].text.size()) == spans[i].text);
    }
  }
}

TEST_CASE("line edits: no edit renders the exact bytes") {
  for (std::string_view text : {"", "a", "a\n", "\n", "a\n\n", "a\r\n b\t\nc"}) {
    LineEdits e(text);
    CHECK_FALSE(e.edited());
    CHECK(e.Render() == text);
  }
}

TEST_CASE("line edits: a missing final newline stays missing unless a line is appended") {
  std::string text = "a\nb";
  auto s = Spans(text);
  {
    LineEdits e(text);
    e.Replace(s[1], "B");
    CHECK(e.Render() == "a\nB");
  }
  {
    LineEdits e(text);
    e.Erase(s[1]);
    CHECK(e.Render() == "a");
  }
  {
    LineEdits e(text);
    e.Append("c");
    CHECK(e.Render() == "a\nb\nc\n");
  }
  {
    LineEdits e("");
    e.Append("c");
    CHECK(e.Render() == "c\n");
  }
}

TEST_CASE("line edits: a span of several lines is replaced or erased as one") {
  std::string text = "x\nopt a \\\n  b\ny\n";
  auto s = Spans(text);
  LineSpan joined{s[1].begin, std::string_view(text).substr(s[1].begin, s[2].end() - s[1].begin)};
  LineEdits e(text);
  e.Replace(joined, "opt c");
  CHECK(e.Render() == "x\nopt c\ny\n");
  LineEdits d(text);
  d.Erase(joined);
  CHECK(d.Render() == "x\ny\n");
}

// Differential: random texts and random edits against the reference (a
// vector of lines edited in place, rendered by TextLines).
TEST_CASE("line edits: random edits render as TextLines would") {
  std::mt19937 rng(1234);
  const char alphabet[] = {'a', 'b', '\n', '\r', ' ', '\n'};
  for (int round = 0; round < 3000; ++round) {
    std::string text;
    int len = static_cast<int>(rng() % 14);
    for (int i = 0; i < len; ++i) text += alphabet[rng() % sizeof alphabet];
    auto spans = Spans(text);
    TextLines ref = TextLines::Parse(text);
    // Reference: per original line, what replaces it (nullopt = erased)
    // and what goes before it.
    std::vector<std::optional<std::string>> now(ref.lines.begin(), ref.lines.end());
    std::vector<std::vector<std::string>> before(ref.lines.size());
    std::vector<std::string> appended;
    LineEdits e(text);
    int edits = static_cast<int>(rng() % 4);
    for (int k = 0; k < edits; ++k) {
      int what = static_cast<int>(rng() % 4);
      std::string line = "n" + std::to_string(k);
      if (what == 3 || spans.empty()) {
        e.Append(line);
        appended.push_back(line);
        continue;
      }
      size_t i = rng() % spans.size();
      if (what == 0) {
        e.Replace(spans[i], line);
        now[i] = line;
      } else if (what == 1) {
        e.Erase(spans[i]);
        now[i].reset();
      } else {
        e.InsertBefore(spans[i], line);
        before[i].push_back(line);
      }
    }
    TextLines want;
    want.final_newline = ref.final_newline || !appended.empty();
    for (size_t i = 0; i < now.size(); ++i) {
      for (auto& l : before[i]) want.lines.push_back(l);
      if (now[i]) want.lines.push_back(*now[i]);
    }
    for (auto& l : appended) want.lines.push_back(l);
    INFO("text: " << text);
    CHECK(e.Render() == want.Render());
  }
}
