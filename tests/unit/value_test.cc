#include "engine/value.h"

#include <doctest/doctest.h>

#include "engine/schema.h"

using namespace keel;

TEST_CASE("value: map keeps insertion order and replaces in place") {
  Map m;
  m.Set("b", 1);
  m.Set("a", 2);
  m.Set("b", 3);
  std::vector<std::string> keys;
  for (const auto& [k, v] : m) keys.push_back(k);
  CHECK(keys == std::vector<std::string>{"b", "a"});
  CHECK(*m.Find("b") == Value(3));
}

TEST_CASE("value: dotted Get walks maps") {
  Value facts(Map{{"os", Value(Map{{"release", Value(Map{{"major", "6"}})}})}});
  REQUIRE(facts.Get("os.release.major"));
  CHECK(facts.Get("os.release.major")->as_string() == "6");
  CHECK(facts.Get("os.nope") == nullptr);
}

TEST_CASE("value: deep merge merges maps and replaces scalars") {
  Value base(Map{{"os", Value(Map{{"family", "Debian"}, {"name", "Debian"}})}, {"x", 1}});
  Value over(Map{{"os", Value(Map{{"family", "RedHat"}})}, {"x", Value(List{1, 2})}});
  DeepMerge(base, over);
  CHECK(base.Get("os.family")->as_string() == "RedHat");
  CHECK(base.Get("os.name")->as_string() == "Debian");
  CHECK(base.Get("x")->is_list());
}

TEST_CASE("value: JSON text escapes") {
  CHECK(Value("a\"b\n").ToJson() == "\"a\\\"b\\n\"");
  CHECK(Value(List{1, true, "x"}).ToJson() == "[1, true, \"x\"]");
  CHECK(Value(1.5).ToString() == "1.5");
}

TEST_CASE("schema: coercion and did-you-mean") {
  AttrSpec mode{.name = "mode", .kind = AttrKind::kMode};
  CHECK(CoerceAttr(mode, Value("644"))->as_string() == "0644");
  CHECK(!CoerceAttr(mode, Value("0999")).ok());
  AttrSpec b{.name = "force", .kind = AttrKind::kBool};
  CHECK(!CoerceAttr(b, Value("yes")).ok());
  AttrSpec l{.name = "aliases", .kind = AttrKind::kList};
  CHECK(CoerceAttr(l, Value("x"))->as_list().size() == 1);
  AttrSpec e{.name = "ensure", .kind = AttrKind::kString, .allowed = {"present", "absent"}};
  auto r = CoerceAttr(e, Value("presnt"));
  REQUIRE(!r.ok());
  CHECK(r.error().message.find("did you mean 'present'") != std::string::npos);
  CHECK(ClosestName("contnet", {"content", "mode", "owner"}) == "content");
  CHECK(ClosestName("zzzzzz", {"content", "mode"}) == "");
}
