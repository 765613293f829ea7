#include "engine/yaml_value.h"

#include <doctest/doctest.h>

#include <string>

using namespace keel;

namespace {

Value Parse(const std::string& text) {
  auto r = ParseYaml(text, "t.yaml");
  REQUIRE_MESSAGE(r.ok(), (r.ok() ? "" : r.error().message));
  return *r;
}

Value Scalar(const std::string& text) { return *Parse("v: " + text + "\n").as_map().Find("v"); }

}  // namespace

TEST_CASE("yaml_value: quoted scalars are always strings") {
  CHECK(Scalar("\"true\"") == Value("true"));
  CHECK(Scalar("'42'") == Value("42"));
  CHECK(Scalar("'1.5'").is_string());
  CHECK(Scalar("\"\"") == Value(""));
  CHECK(Scalar("!!str 7") == Value("7"));
  CHECK(Scalar("'~'") == Value("~"));
}

TEST_CASE("yaml_value: plain bool, null and integers") {
  for (const char* t : {"true", "True", "TRUE"}) CHECK(Scalar(t) == Value(true));
  for (const char* t : {"false", "False", "FALSE"}) CHECK(Scalar(t) == Value(false));
  CHECK(Scalar("yes") == Value("yes"));
  CHECK(Scalar("~").is_null());
  CHECK(Scalar("null").is_null());
  CHECK(Scalar("").is_null());
  CHECK(Scalar("42").is_int());
  CHECK(Scalar("42").as_int() == 42);
  CHECK(Scalar("-7").as_int() == -7);
  CHECK(Scalar("0").as_int() == 0);
  CHECK(Scalar("0644") == Value("0644"));
  CHECK(Scalar("0xca2") == Value("0xca2"));
  CHECK(Scalar("99999999999999999999") == Value("99999999999999999999"));
  CHECK(Scalar("12abc") == Value("12abc"));
}

TEST_CASE("yaml_value: decimals keep their text, versions stay strings") {
  CHECK(Scalar("1.5").is_double());
  CHECK(Scalar("1.5").as_double() == 1.5);
  CHECK(Scalar("2.0").is_double());
  CHECK(Scalar("-0.25").is_double());
  CHECK(Scalar("6.4").is_double());
  CHECK(Scalar("6.10") == Value("6.10"));  // would lose its trailing 0
  CHECK(Scalar("1.50") == Value("1.50"));
  CHECK(Scalar("2.6.18") == Value("2.6.18"));
  CHECK(Scalar("7.9.2009") == Value("7.9.2009"));
  CHECK(Scalar("1e3") == Value("1e3"));
  CHECK(Scalar(".5") == Value(".5"));
  CHECK(Scalar(".inf").is_double());
}

TEST_CASE("yaml_value: maps keep order, nested structures") {
  Value v = Parse("b: 1\na:\n  - x\n  - {k: v}\nc: {z: 1, y: 2}\n");
  std::vector<std::string> keys;
  for (const auto& [k, _] : v.as_map()) keys.push_back(k);
  CHECK(keys == std::vector<std::string>{"b", "a", "c"});
  CHECK(v.as_map().Find("a")->as_list().size() == 2);
  CHECK(v.Get("a") != nullptr);
  std::vector<std::string> ckeys;
  for (const auto& [k, _] : v.Get("c")->as_map()) ckeys.push_back(k);
  CHECK(ckeys == std::vector<std::string>{"z", "y"});
  CHECK(Parse("").is_null());
  CHECK(Parse("{\"json\": [1, 2.5, \"x\", null, true]}") ==
        Value(Map{{"json", Value(List{1, 2.5, "x", nullptr, true})}}));
}

TEST_CASE("yaml_value: parse errors name file:line:col") {
  auto r = ParseYaml("a: 1\nb: [1, 2\n", "site.yaml");
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == ErrorCode::kInvalid);
  CHECK(r.error().message.rfind("site.yaml:", 0) == 0);
  auto r2 = ParseYaml("a: 1\n  b: 2\n", "x.yaml");
  REQUIRE_FALSE(r2.ok());
  CHECK(r2.error().message.rfind("x.yaml:2:", 0) == 0);
  auto r3 = ParseYaml("a: &x [*x]\nb: \"unterminated\n", "y.yaml");
  CHECK_FALSE(r3.ok());
}

TEST_CASE("yaml_value: alias bombs are refused, not expanded forever") {
  std::string bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n";
  char prev = 'a';
  for (char c = 'b'; c <= 'i'; ++c) {
    bomb += std::string(1, c) + ": &" + c + " [";
    for (int i = 0; i < 10; ++i) bomb += std::string(i ? ", *" : "*") + prev;
    bomb += "]\n";
    prev = c;
  }
  auto r = ParseYaml(bomb, "bomb.yaml");
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message.find("bomb.yaml") == 0);
}

TEST_CASE("yaml_value: ToYaml round-trips through ParseYaml") {
  Value v(Map{
      {"str", "hello world"},
      {"looks_bool", "true"},
      {"looks_int", "42"},
      {"looks_null", "~"},
      {"empty", ""},
      {"mode", "0644"},
      {"version", "6.10"},
      {"decimal_str", "1.5"},
      {"int", 42},
      {"neg", -3},
      {"double", 1.5},
      {"whole_double", 2.0},
      {"bool", false},
      {"null", nullptr},
      {"colon", "a: b"},
      {"hash", "x #y"},
      {"dash", "-x"},
      {"star", "*ref"},
      {"spaces", " lead"},
      {"tab", "a\tb"},
      {"content", "line 1\n  indented\n\nlast\n"},
      {"no_final_nl", "a\nb"},
      {"many_nl", "a\n\n\n"},
      {"lead_nl", "\nx"},
      {"blank_line", "a\n   \nb\n"},
      {"ctrl", std::string("a\x01z")},
      {"key: odd", "v"},
      {"", "empty key"},
      {"list",
       Value(List{"a", 1, Value(List{"x", "y"}), Value(Map{{"k", "v"}, {"k2", "l1\nl2\n"}})})},
      {"empty_list", Value(List{})},
      {"empty_map", Value(Map{})},
      {"nested", Value(Map{{"inner", Value(Map{{"deep", Value(List{true})}})}})},
  });
  std::string text = ToYaml(v);
  auto back = ParseYaml(text, "rt.yaml");
  REQUIRE_MESSAGE(back.ok(), text);
  CHECK_MESSAGE(*back == v, text);
  CHECK(back->as_map().Find("whole_double")->is_double());
  CHECK(back->as_map().Find("version")->is_string());
  // Readable: plain where possible, literal blocks for multi-line text.
  CHECK(text.find("str: hello world\n") != std::string::npos);
  CHECK(text.find("looks_bool: \"true\"\n") != std::string::npos);
  CHECK(text.find("content: |\n  line 1\n    indented\n\n  last\n") != std::string::npos);
  // Quoted for other YAML readers too (1.1 octal, versions, yes/no).
  CHECK(text.find("mode: \"0644\"\n") != std::string::npos);
  CHECK(text.find("version: \"6.10\"\n") != std::string::npos);
  CHECK(ToYaml(Value(Map{{"a", "yes"}, {"b", "0xca2"}, {"c", "2.6.32-754.el6.x86_64"}})) ==
        "a: \"yes\"\nb: \"0xca2\"\nc: 2.6.32-754.el6.x86_64\n");

  for (const Value& scalar : {Value("x"), Value(3), Value(nullptr), Value("multi\nline\n"),
                              Value(List{}), Value(Map{})}) {
    auto r = ParseYaml(ToYaml(scalar), "s.yaml");
    REQUIRE(r.ok());
    CHECK(*r == scalar);
  }
}

TEST_CASE("yaml_value: hostile input fails cleanly") {
  auto deep = ParseYaml(std::string(100000, '['), "deep.yaml");
  REQUIRE_FALSE(deep.ok());
  CHECK(deep.error().message.rfind("deep.yaml", 0) == 0);
  CHECK_FALSE(ParseYaml(std::string(700, '[') + std::string(700, ']'), "d.yaml").ok());
  const std::string doc = "a: [1, {b: 'x'}]\nc: |\n  text\n\"d\": !!str 5\n";
  for (size_t cut = 0; cut <= doc.size(); ++cut) {
    auto r = ParseYaml(doc.substr(0, cut), "cut.yaml");
    if (!r.ok()) CHECK(r.error().message.rfind("cut.yaml", 0) == 0);
  }
}
