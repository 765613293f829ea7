// Issue 11 (bad input and wrong results): path normalisation of kAbsPath
// attributes, the hashed index of large maps (linear variable lookups), and
// the name in an "undefined variable" error (memoised variable resolution).
#include <doctest/doctest.h>

#include <chrono>
#include <string>

#include "engine/expr.h"
#include "engine/registry.h"
#include "engine/schema.h"
#include "engine/value.h"

using namespace keel;

TEST_CASE("NormalizeAbsPath: one written form for every spelling of a path") {
  CHECK(NormalizeAbsPath("/etc/own") == "/etc/own");
  CHECK(NormalizeAbsPath("/etc/./own") == "/etc/own");
  CHECK(NormalizeAbsPath("/etc/../etc/cfg") == "/etc/cfg");
  CHECK(NormalizeAbsPath("//etc//lf/") == "/etc/lf");
  CHECK(NormalizeAbsPath("/etc/lf/.") == "/etc/lf");
  CHECK(NormalizeAbsPath("/..") == "/");
  CHECK(NormalizeAbsPath("/../../x") == "/x");
  CHECK(NormalizeAbsPath("/") == "/");
  CHECK(NormalizeAbsPath("/a/b/../../c/./d/..") == "/c");
  CHECK(NormalizeAbsPath("/etc/...") == "/etc/...");  // a name, not a step
}

TEST_CASE("CoerceAttr: an absolute path attribute is stored normalised") {
  AttrSpec spec{.name = "path", .kind = AttrKind::kAbsPath};
  auto v = CoerceAttr(spec, Value("/etc/./sub/../own/"));
  REQUIRE(v.ok());
  CHECK(v->as_string() == "/etc/own");
  CHECK_FALSE(CoerceAttr(spec, Value("etc/own")).ok());
  CHECK_FALSE(CoerceAttr(spec, Value(std::string("/etc/a\0b", 8))).ok());
}

TEST_CASE("Map: a large map finds keys through its index, in order, after erase") {
  Map m;
  for (int i = 0; i < 1000; ++i) m.Set("k" + std::to_string(i), Value(i));
  CHECK(m.size() == 1000);
  CHECK(m.Find("k999")->as_int() == 999);
  CHECK(m.Find("k0")->as_int() == 0);
  CHECK(m.Find("nope") == nullptr);
  m.Set("k5", Value("five"));  // replaced in place
  CHECK(m.size() == 1000);
  CHECK(m.Find("k5")->as_string() == "five");
  CHECK(m.Erase("k0"));
  CHECK(m.Find("k0") == nullptr);
  CHECK(m.Find("k1")->as_int() == 1);
  CHECK(m.Find("k999")->as_int() == 999);
  CHECK(m.begin()->first == "k1");  // insertion order kept
  Map copy = m;
  copy.Set("new", Value(true));
  CHECK(copy.Find("new") != nullptr);
  CHECK(m.Find("new") == nullptr);
  CHECK(copy.Find("k500")->as_int() == 500);
  // Erasing down to a small map drops the index; lookups still work.
  for (int i = 1; i < 995; ++i) m.Erase("k" + std::to_string(i));
  CHECK(m.size() == 5);
  CHECK(m.Find("k997")->as_int() == 997);
  // 20,000 lookups in a 20,000-key map are fast (was a scan each).
  Map big;
  for (int i = 0; i < 20000; ++i) big.Set("v" + std::to_string(i), Value(i));
  auto start = std::chrono::steady_clock::now();
  int64_t sum = 0;
  for (int i = 0; i < 20000; ++i) sum += big.Find("v" + std::to_string(i))->as_int();
  CHECK(sum == int64_t{20000} * 19999 / 2);
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(2));
}

TEST_CASE("UndefinedVariableIn: the name of an undefined variable error") {
  CHECK(UndefinedVariableIn("undefined variable 'v12'") == "v12");
  CHECK(UndefinedVariableIn("undefined key 'x' in 'facts'") == "");
  CHECK(UndefinedVariableIn("undefined variable '") == "");
  Value vars(Map{{"a", Value(1)}});
  auto r = Interpolate("{{ a }} {{ b }}", vars);
  REQUIRE_FALSE(r.ok());
  CHECK(UndefinedVariableIn(r.error().message) == "b");
}
