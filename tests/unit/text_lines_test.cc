#include "engine/text_lines.h"

#include <doctest/doctest.h>

using namespace keel;
using Views = std::vector<std::string_view>;

TEST_CASE("text lines: SplitLines drops the '\\n', keeps a last unterminated line") {
  CHECK(SplitLines("") == Views{});
  CHECK(SplitLines("a") == Views{"a"});
  CHECK(SplitLines("a\n") == Views{"a"});
  CHECK(SplitLines("\n") == Views{""});
  CHECK(SplitLines("a\n\nb") == Views{"a", "", "b"});
  CHECK(SplitLines("a\r\nb \n") == Views{"a\r", "b "});
}

TEST_CASE("text lines: SplitLinesKeepEnds joins back to the text") {
  CHECK(SplitLinesKeepEnds("") == Views{});
  CHECK(SplitLinesKeepEnds("x") == Views{"x"});
  CHECK(SplitLinesKeepEnds("x\n") == Views{"x\n"});
  CHECK(SplitLinesKeepEnds("a\n\nb") == Views{"a\n", "\n", "b"});
  for (std::string_view text : {"", "a", "a\n", "\n\n", "a\nb", "a\r\nb\n"}) {
    std::string joined;
    for (auto l : SplitLinesKeepEnds(text)) joined += l;
    CHECK(joined == text);
  }
}

TEST_CASE("text lines: TextLines round-trips the exact bytes") {
  for (std::string_view text : {"", "a", "a\n", "\n", "a\n\n", "a\r\n b\t\nc", "x\0y\n"}) {
    CAPTURE(text);
    TextLines t = TextLines::Parse(text);
    CHECK(t.Render() == text);
  }
  TextLines t = TextLines::Parse("a\nb");
  CHECK(t.lines == std::vector<std::string>{"a", "b"});
  CHECK_FALSE(t.final_newline);
  t.lines.push_back("c");
  t.final_newline = true;
  CHECK(t.Render() == "a\nb\nc\n");
  CHECK(TextLines::Parse("").lines.empty());
}
