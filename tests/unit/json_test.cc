#include "engine/json.h"

#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "engine/facts.h"
#include "engine/report.h"

using namespace keel;

namespace {

// A string with bytes that are not UTF-8 (a lone continuation byte, a
// truncated sequence, an overlong encoding, 0xff) and control characters.
const std::string kNasty = std::string("a\x80") + "b\xc3" + "\xc0\xaf" + "\xff" + "\x01\x1f\b\f" +
                           "\t\r\n\"\\" + "\x7f" + "é€😀" + std::string(1, '\0') + "end";

// What kNasty becomes: each invalid byte replaced by U+FFFD, the rest kept.
const std::string kNastyReplaced = std::string("a\xef\xbf\xbd") + "b\xef\xbf\xbd" +
                                   "\xef\xbf\xbd\xef\xbf\xbd" + "\xef\xbf\xbd" + "\x01\x1f\b\f" +
                                   "\t\r\n\"\\" + "\x7f" + "é€😀" + std::string(1, '\0') + "end";

nlohmann::json MustParse(const std::string& text) {
  nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  REQUIRE_FALSE(j.is_discarded());
  return j;
}

}  // namespace

TEST_CASE("json: one-line form keeps its separators; scalars as JSON") {
  CHECK(JsonLine(Value(List{1, true, "x"})) == "[1, true, \"x\"]");
  CHECK(JsonLine(Value(Map{{"b", 1}, {"a", Value(List{})}, {"c", Value(Map{})}})) ==
        "{\"b\": 1, \"a\": [], \"c\": {}}");
  CHECK(JsonLine(Value()) == "null");
  CHECK(JsonLine(Value(1.5)) == "1.5");
  CHECK(JsonLine(Value(2.0)) == "2.0");
  CHECK(JsonLine(Value(int64_t{-7})) == "-7");
  CHECK(JsonLine(Value("a\"b\n\x01")) == "\"a\\\"b\\n\\u0001\"");
  CHECK(JsonLine(Value("é")) == "\"é\"");  // UTF-8 kept, not \u-escaped
}

TEST_CASE("json: pretty form indents by 2, empty containers inline") {
  Value v(Map{{"a", Value(Map{{"b", Value(List{1, "x"})}, {"e", Value(List{})}})},
              {"m", Value(Map{})},
              {"n", Value()}});
  CHECK(JsonPretty(v) ==
        "{\n"
        "  \"a\": {\n"
        "    \"b\": [\n"
        "      1,\n"
        "      \"x\"\n"
        "    ],\n"
        "    \"e\": []\n"
        "  },\n"
        "  \"m\": {},\n"
        "  \"n\": null\n"
        "}");
  CHECK(JsonPretty(Value(Map{})) == "{}");
  CHECK(JsonPretty(Value("s")) == "\"s\"");
}

TEST_CASE("json: invalid UTF-8 and control characters still give valid JSON") {
  Value v(Map{{kNasty, Value(List{kNasty, Value(Map{{"k", kNasty}})})}});
  for (const std::string& text : {JsonLine(v), JsonPretty(v), Value(kNasty).ToJson()}) {
    CAPTURE(text);
    // Only printable ASCII and UTF-8 outside of escapes: no raw control byte.
    for (unsigned char c : text) CHECK((c >= 0x20 || c == '\n'));
    nlohmann::json j = MustParse(text);
    if (j.is_string()) {
      CHECK(j.get<std::string>() == kNastyReplaced);
    } else {
      auto key = j.begin().key();
      CHECK(key == kNastyReplaced);
      CHECK(j[key][0] == kNastyReplaced);
      CHECK(j[key][1]["k"] == kNastyReplaced);
    }
  }
}

TEST_CASE("json: facts and reports with invalid UTF-8 parse back") {
  Value facts(Map{{"hostname", kNasty}, {"os", Value(Map{{"name", "x\xfe"}})}});
  nlohmann::json f = MustParse(FactsToJson(facts));
  CHECK(f["hostname"] == kNastyReplaced);
  CHECK(f["os"]["name"] == "x\xef\xbf\xbd");

  Report rep;
  rep.source_path = kNasty;
  rep.warnings = {kNasty};
  ResourceReport r;
  r.id = "exec[" + kNasty + "]";
  r.title = kNasty;
  r.output = kNasty;
  r.diff = kNasty;
  r.error = kNasty;
  r.changes.push_back({"content", Value(kNasty), Value(List{kNasty, 1.5}), ""});
  rep.resources.push_back(r);
  std::string text = RenderJson(rep);
  nlohmann::json j = MustParse(text);
  CHECK(j["source"]["path"] == kNastyReplaced);
  CHECK(j["warnings"][0] == kNastyReplaced);
  const auto& res = j["resources"][0];
  CHECK(res["title"] == kNastyReplaced);
  CHECK(res["output"] == kNastyReplaced);
  CHECK(res["diff"] == kNastyReplaced);
  CHECK(res["error"] == kNastyReplaced);
  CHECK(res["changes"][0]["from"] == kNastyReplaced);
  CHECK(res["changes"][0]["to"][0] == kNastyReplaced);
  CHECK(res["changes"][0]["to"][1] == 1.5);
}
