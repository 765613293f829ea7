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

namespace {

// The reference: nlohmann's own dump of the same tree (JsonPretty and
// JsonLine write JSON directly since issue 14; they must match it byte for
// byte, invalid UTF-8 included).
nlohmann::ordered_json RefJson(const Value& v) {
  switch (v.kind()) {
    case ValueKind::kNull:
      return nullptr;
    case ValueKind::kBool:
      return v.as_bool();
    case ValueKind::kInt:
      return v.as_int();
    case ValueKind::kDouble:
      return v.as_double();
    case ValueKind::kString:
      return v.as_string();
    case ValueKind::kList: {
      auto a = nlohmann::ordered_json::array();
      for (const Value& e : v.as_list()) a.push_back(RefJson(e));
      return a;
    }
    case ValueKind::kMap: {
      auto o = nlohmann::ordered_json::object();
      for (const auto& [k, e] : v.as_map()) o[k] = RefJson(e);
      return o;
    }
  }
  return nullptr;
}

std::string RefPretty(const Value& v) {
  return RefJson(v).dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

}  // namespace

TEST_CASE("JsonPretty writes exactly what nlohmann's dump(2) writes") {
  std::vector<Value> scalars = {Value(nullptr),
                                Value(true),
                                Value(false),
                                Value(0),
                                Value(-7),
                                Value(static_cast<int64_t>(INT64_MIN)),
                                Value(static_cast<int64_t>(INT64_MAX)),
                                Value(1.5),
                                Value(2.0),
                                Value(1e20),
                                Value(-0.0),
                                Value(1e-7),
                                Value(0.1),
                                Value(""),
                                Value(kNasty),
                                Value("plain"),
                                Value("é€😀")};
  // every single byte, and every two-byte and three-byte prefix shape
  for (int c = 0; c < 256; ++c) {
    scalars.emplace_back(std::string(1, static_cast<char>(c)));
    scalars.emplace_back(std::string("x") + static_cast<char>(c) + "\x80\x80y");
    scalars.emplace_back(std::string("\xe0") + static_cast<char>(c) + "\x80");
    scalars.emplace_back(std::string("\xf0") + static_cast<char>(c) + "\x80\x80");
    scalars.emplace_back(std::string("\xed") + static_cast<char>(c) + "\x80");
    scalars.emplace_back(std::string("\xf4") + static_cast<char>(c) + "\x80\x80");
  }
  for (const Value& s : scalars) {
    CHECK(JsonPretty(s) == RefPretty(s));
    List l{s, Value(List{}), Value(Map{}), Value(List{s, s})};
    Map m;
    m.Set("k", s);
    if (s.is_string()) m.Set(s.as_string(), Value(List{s}));  // as a key too
    m.Set("empty", Value(Map{}));
    m.Set("list", Value(l));
    Value nested(Map{{"a", Value(List{Value(m), Value(l)})}});
    CHECK(JsonPretty(Value(l)) == RefPretty(Value(l)));
    CHECK(JsonPretty(Value(m)) == RefPretty(Value(m)));
    CHECK(JsonPretty(nested) == RefPretty(nested));
    // the one-line form: nlohmann's scalars with ", " and ": " separators
    std::string ref =
        RefJson(s).dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
    CHECK(JsonLine(s) == ref);
    CHECK(JsonLine(Value(List{s, s})) == "[" + ref + ", " + ref + "]");
  }
}
