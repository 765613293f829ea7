#include "engine/expr.h"

#include <doctest/doctest.h>

#include <chrono>
#include <random>
#include <string>

using namespace keel;

namespace {

Value Vars() {
  Value facts(Map{
      {"hostname", "store01"},
      {"os",
       Value(Map{{"family", "RedHat"},
                 {"name", "CentOS"},
                 {"release", Value(Map{{"full", "6.10"}, {"major", "6"}, {"minor", "10"}})}})},
      {"kernel", Value(Map{{"release", "2.6.32-754.el6.x86_64"},
                           {"builtin_modules", Value(List{"ipmi_si", "ext4"})}})},
      {"networking", Value(Map{{"interfaces", Value(List{"lo", "eth0"})}})},
  });
  return Value(Map{
      {"facts", facts},
      {"port", "0xca2"},
      {"n", 3},
      {"half", 0.5},
      {"empty", ""},
      {"flag", true},
      {"nothing", nullptr},
      {"list", Value(List{"a", "b", Value(List{1, 2})})},
      {"m", Value(Map{{"key-with-dash", "v1"}, {"k", Value(Map{{"x", 42}})}})},
  });
}

Value Eval(const std::string& text) {
  size_t off = 999;
  auto r = EvaluateExpression(text, Vars(), &off);
  REQUIRE_MESSAGE(r.ok(), text << " -> " << (r.ok() ? "" : r.error().message) << " @" << off);
  return *r;
}

bool True(const std::string& text) {
  Value v = Eval(text);
  REQUIRE_MESSAGE(v.is_bool(), text);
  return v.as_bool();
}

// Error message and offset of a failing expression.
std::pair<std::string, size_t> Err(const std::string& text) {
  size_t off = 999;
  auto r = EvaluateExpression(text, Vars(), &off);
  REQUIRE_MESSAGE(!r.ok(), text);
  CHECK(r.error().code == ErrorCode::kInvalid);
  return {r.error().message, off};
}

Value Interp(const std::string& text) {
  size_t off = 999;
  auto r = Interpolate(text, Vars(), &off);
  REQUIRE_MESSAGE(r.ok(), text << " -> " << (r.ok() ? "" : r.error().message) << " @" << off);
  return *r;
}

}  // namespace

TEST_CASE("expr: literals") {
  CHECK(Eval("\"a b\"") == Value("a b"));
  CHECK(Eval("'single'") == Value("single"));
  CHECK(Eval(R"("q\"uote\\ \n")") == Value("q\"uote\\ \n"));
  CHECK(Eval(R"('it\'s')") == Value("it's"));
  CHECK(Eval("42").as_int() == 42);
  CHECK(Eval("-7").as_int() == -7);
  CHECK(Eval("1.5").as_double() == 1.5);
  CHECK(Eval("true") == Value(true));
  CHECK(Eval("false") == Value(false));
  CHECK(Eval("null").is_null());
  CHECK(Eval("[1, 'x', [true]]") == Value(List{1, "x", Value(List{true})}));
  CHECK(Eval("[]") == Value(List{}));
  CHECK(Eval("2.6.18") == Value("2.6.18"));  // a bare version is a string
  CHECK(Eval("6.10") == Value("6.10"));      // would lose its 0 as a number
  CHECK(Eval("6.4").is_double());
  CHECK(Eval(".5").as_double() == 0.5);
  CHECK(Eval("1e3").as_double() == 1000.0);
}

TEST_CASE("expr: variable paths, indexing, map keys") {
  CHECK(Eval("facts.os.release.full") == Value("6.10"));
  CHECK(Eval("facts.hostname") == Value("store01"));
  CHECK(Eval("list[0]") == Value("a"));
  CHECK(Eval("list[-1][1]").as_int() == 2);
  CHECK(Eval("list[2][0]").as_int() == 1);
  CHECK(Eval("m[\"key-with-dash\"]") == Value("v1"));
  CHECK(Eval("m['k'].x").as_int() == 42);
  CHECK(Eval("m.k['x']").as_int() == 42);
  CHECK(Eval("facts['os'].release['major']") == Value("6"));
  CHECK(Eval("facts.networking.interfaces[1]") == Value("eth0"));
}

TEST_CASE("expr: precedence as in Python") {
  CHECK(True("not facts.hostname == 'x'"));  // not (a == b)
  CHECK_FALSE(True("not facts.hostname == 'store01'"));
  CHECK(True("true or false and false"));  // and binds tighter than or
  CHECK_FALSE(True("(true or false) and false"));
  CHECK(True("not false and true"));
  CHECK_FALSE(True("not (false or true)"));
  CHECK(True("not not true"));
  CHECK(True("1 < 2 < 3"));
  CHECK_FALSE(True("3 > 2 > 2"));
  CHECK(True("facts.os.family == 'RedHat' and facts.os.release.major == 6"));
  CHECK(True("'x' not in list or false"));
  // and/or return an operand, like Python: handy for defaults.
  CHECK(Eval("empty or 'default'") == Value("default"));
  CHECK(Eval("flag and n").as_int() == 3);
}

TEST_CASE("expr: short-circuit does not evaluate the other side") {
  CHECK(True("'nope' in facts and facts.nope.deeper == 1") == false);
  CHECK(True("true or undefined_thing"));
  CHECK_FALSE(True("false and undefined_thing[3].x =~ '('"));
  // ...but still checks its syntax.
  auto [msg, off] = Err("false and (1 ==");
  CHECK(msg.find("expected a value") != std::string::npos);
  CHECK(off == 15);
}

TEST_CASE("expr: version-aware comparisons") {
  CHECK(True("'6.10' > '6.4'"));
  CHECK(True("'2.6.18' < '2.6.32'"));
  CHECK(True("facts.os.release.full >= '6.4'"));
  CHECK(True("facts.os.release.full > 6.4"));  // number vs version: as versions
  CHECK(True("facts.os.release.full == 6.10"));
  CHECK(True("facts.os.release.full > 6.9"));
  CHECK(True("6.10 > 6.9"));
  CHECK(True("'10' > '9'"));
  CHECK(True("'6' < '6.1'"));
  CHECK(True("'6.0' >= '6'"));
  CHECK(True("2.6.32 > '2.6.9'"));
  CHECK(True("'abc' < 'abd'"));  // lexical
  CHECK(True("'b' > 'a10'"));
  CHECK(True("'6.x' < '6.y'"));
  CHECK(True("10 > 9"));
  CHECK(True("1.5 < 2"));
  CHECK(True("half < 1"));
}

TEST_CASE("expr: == between a number and a numeric string") {
  CHECK(True("facts.os.release.major == 6"));
  CHECK(True("6 == facts.os.release.major"));
  CHECK(True("facts.os.release.major != 7"));
  CHECK(True("facts.os.release.major >= 5"));
  CHECK(True("'-1.5' == -1.5"));
  CHECK_FALSE(True("'6' == 'x'"));
  CHECK_FALSE(True("'abc' == 6"));
  CHECK_FALSE(True("'6.0' == '6'"));  // two strings: exact
  CHECK(True("n == 3.0"));
  CHECK(True("null == nothing"));
  CHECK(True("[1, 2] == list[2]"));
  CHECK(True("6 in ['5', '6']"));
}

TEST_CASE("expr: regex match") {
  CHECK(True("facts.hostname =~ '^store'"));
  CHECK(True("facts.hostname =~ \"\\d+$\""));  // \d kept as written
  CHECK_FALSE(True("facts.hostname =~ '^web'"));
  CHECK(True("facts.kernel.release =~ 'el6'"));  // search, not full match
  CHECK(True("n =~ '^3$'"));
  CHECK(True("not facts.hostname =~ 'x'"));
  auto [msg, off] = Err("facts.hostname =~ '(unclosed'");
  CHECK(msg.find("bad regex \"(unclosed\"") == 0);
  CHECK(off == 18);
  auto [msg2, off2] = Err("facts.hostname =~ 5");
  CHECK(msg2.find("=~ needs a regex string") == 0);
  CHECK(off2 == 18);
}

TEST_CASE("expr: =~ is RE2: a catastrophic pattern is linear, lookaround is refused") {
  auto start = std::chrono::steady_clock::now();
  CHECK_FALSE(True("'" + std::string(5000, 'a') + "b' =~ '^(a+)+$'"));
  CHECK(True("'aaaa' =~ '^(a+)+$'"));
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(30));  // hang guard
  auto [msg, off] = Err("'x' =~ '(?=x)'");
  CHECK(msg.find("RE2 syntax") != std::string::npos);
  CHECK(off == 7);
}

TEST_CASE("expr: in / not in on lists, strings and maps") {
  CHECK(True("'eth0' in facts.networking.interfaces"));
  CHECK(True("'eth9' not in facts.networking.interfaces"));
  CHECK(True("'ipmi_si' in facts.kernel.builtin_modules"));
  CHECK(True("'el6' in facts.kernel.release"));
  CHECK(True("'zz' not in facts.kernel.release"));
  CHECK(True("'os' in facts"));
  CHECK(True("'nope' not in facts"));
  CHECK(True("'key-with-dash' in m"));
  CHECK(True("facts.os.family in ['RedHat', 'Suse']"));
  CHECK(True("not 'x' in list"));
  auto [msg, off] = Err("'x' in n");
  CHECK(msg.find("'in' needs a list, string or map") == 0);
  CHECK(off == 7);
}

TEST_CASE("expr: errors carry the offset") {
  {
    auto [msg, off] = Err("facts.hostname == \"abc");
    CHECK(msg == "unterminated string");
    CHECK(off == 18);
  }
  {
    auto [msg, off] = Err("a @ b");
    CHECK(msg == "undefined variable 'a'");  // the first problem wins
    CHECK(off == 0);
  }
  {
    auto [msg, off] = Err("n @ 1");
    CHECK(msg == "unexpected character '@'");
    CHECK(off == 2);
  }
  {
    auto [msg, off] = Err("n = 1");
    CHECK(msg.find("did you mean '=='") != std::string::npos);
    CHECK(off == 2);
  }
  {
    auto [msg, off] = Err("n == ");
    CHECK(msg.find("expected a value") == 0);
    CHECK(off == 5);
  }
  {
    auto [msg, off] = Err("n == and");
    CHECK(msg == "expected a value, got 'and'");
    CHECK(off == 5);
  }
  {
    auto [msg, off] = Err("nosuch == 1");
    CHECK(msg == "undefined variable 'nosuch'");
    CHECK(off == 0);
  }
  {
    auto [msg, off] = Err("facts.os.relase.full");
    CHECK(msg == "undefined key 'relase' in 'facts.os'");
    CHECK(off == 9);
  }
  {
    auto [msg, off] = Err("facts.hostname.x");
    CHECK(msg.find("cannot take 'x' of 'facts.hostname'") == 0);
    CHECK(off == 15);
  }
  {
    auto [msg, off] = Err("list[7]");
    CHECK(msg.find("index 7 out of range for 'list' (3 items)") == 0);
    CHECK(off == 5);
  }
  {
    auto [msg, off] = Err("m['zz']");
    CHECK(msg == "no key \"zz\" in 'm'");
    CHECK(off == 2);
  }
  {
    auto [msg, off] = Err("(n == 1");
    CHECK(msg == "expected ')'");
    CHECK(off == 7);
  }
  {
    auto [msg, off] = Err("n 1");
    CHECK(msg == "unexpected '1'");
    CHECK(off == 2);
  }
  {
    auto [msg, off] = Err("[1, 2");
    CHECK(msg == "expected ',' or ']'");
    CHECK(off == 5);
  }
  {
    auto [msg, off] = Err("list < 1");
    CHECK(msg.find("cannot compare list") == 0);
    CHECK(off == 5);
  }
  {
    auto [msg, off] = Err("n && 1");
    CHECK(msg.find("use 'and'") != std::string::npos);
    CHECK(off == 2);
  }
  {
    auto [msg, off] = Err("   ");
    CHECK(msg == "empty expression");
  }
}

TEST_CASE("expr: interpolation") {
  // Text without {{ comes back unchanged.
  CHECK(Interp("plain text }} {") == Value("plain text }} {"));
  // A lone expression keeps its type.
  CHECK(Interp("{{ n }}").as_int() == 3);
  CHECK(Interp("{{facts.networking.interfaces}}") == Value(List{"lo", "eth0"}));
  CHECK(Interp("{{ m.k }}") == Value(Map{{"x", 42}}));
  CHECK(Interp("{{ flag }}") == Value(true));
  // Mixed text becomes a string.
  CHECK(Interp("options ipmi_si type=kcs ports={{ port }}\n") ==
        Value("options ipmi_si type=kcs ports=0xca2\n"));
  CHECK(Interp(" {{ n }}") == Value(" 3"));
  CHECK(Interp("{{ n }}{{ n }}") == Value("33"));
  CHECK(Interp("{{ facts.os.name }}-{{ facts.os.release.major }}.yaml") == Value("CentOS-6.yaml"));
  CHECK(Interp("x={{ half }} b={{ flag }} l={{ list[2] }}") == Value("x=0.5 b=true l=[1, 2]"));
  // A literal {{, and quotes holding braces.
  CHECK(Interp("{{ \"{{\" }}") == Value("{{"));
  CHECK(Interp("a {{ '{{' }} b }}") == Value("a {{ b }}"));
  CHECK(Interp("{{ \"}}\" }}") == Value("}}"));
  CHECK(Interp("{{ 'say \"hi\"' }}") == Value("say \"hi\""));
  CHECK(Interp("{{ \"it's\" }} {{ 'a\\'b' }}") == Value("it's a'b"));
}

TEST_CASE("expr: interpolation errors have offsets in the whole text") {
  size_t off = 0;
  auto r = Interpolate("ports={{ port", Vars(), &off);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message.find("unclosed '{{'") == 0);
  CHECK(off == 6);

  r = Interpolate("a {{ nosuch }}", Vars(), &off);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message == "undefined variable 'nosuch'");
  CHECK(off == 5);

  r = Interpolate("x {{ 'abc }}", Vars(), &off);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message == "unterminated string");
  CHECK(off == 5);

  r = Interpolate("x {{  }} y", Vars(), &off);
  REQUIRE_FALSE(r.ok());
  CHECK(off == 2);

  r = Interpolate("ok {{ n }} then {{ facts.os.bogus }}", Vars(), &off);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message == "undefined key 'bogus' in 'facts.os'");
  CHECK(off == 28);
}

TEST_CASE("expr: truthiness") {
  CHECK_FALSE(IsTruthy(Value()));
  CHECK_FALSE(IsTruthy(Value(false)));
  CHECK_FALSE(IsTruthy(Value(0)));
  CHECK_FALSE(IsTruthy(Value(0.0)));
  CHECK_FALSE(IsTruthy(Value("")));
  CHECK_FALSE(IsTruthy(Value(List{})));
  CHECK_FALSE(IsTruthy(Value(Map{})));
  CHECK(IsTruthy(Value("0")));
  CHECK(IsTruthy(Value(List{false})));
  CHECK(IsTruthy(Value(-1)));
}

TEST_CASE("expr: 10,000 interpolations") {
  Value vars = Vars();
  auto t0 = std::chrono::steady_clock::now();
  size_t total = 0;
  for (int i = 0; i < 10000; ++i) {
    auto a =
        Interpolate("options ipmi_si type=kcs ports={{ port }} host={{ facts.hostname }}\n", vars);
    auto b =
        EvaluateExpression("facts.os.family == 'RedHat' and facts.os.release.full >= '6.4'", vars);
    auto c = Interpolate("/etc/sysconfig/network-scripts/ifcfg-eth0", vars);
    REQUIRE(a.ok());
    REQUIRE(b.ok());
    REQUIRE(c.ok());
    total += a->as_string().size() + c->as_string().size();
  }
  double ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  MESSAGE("30,000 expr/interpolations: " << ms << " ms");
  CHECK(total > 0);  // timings belong to bench/; the MESSAGE shows the figure
}

TEST_CASE("expr: hostile input fails cleanly") {
  size_t off = 0;
  auto deep = EvaluateExpression(std::string(100000, '('), Vars(), &off);
  REQUIRE_FALSE(deep.ok());
  CHECK(deep.error().message == "expression nested too deeply");
  std::string many_nots;
  for (int i = 0; i < 5000; ++i) many_nots += "not ";
  CHECK_FALSE(EvaluateExpression(many_nots + "true", Vars()).ok());
  CHECK(EvaluateExpression("((((1))))", Vars()).ok());

  // Every prefix and random mutation of valid expressions: a value or an
  // error with an offset inside the text, never a crash.
  const std::string samples[] = {
      "facts.os.family == 'RedHat' and not (facts.os.release.full < \"6.4\" or n in [1, 2])",
      "m['k'].x >= 42 and list[-1][0] != null or facts.hostname =~ '^st(o)re\\d'",
      "x {{ facts.hostname }} y {{ '{{' }} {{ [1, 'a'] }}",
  };
  std::mt19937 rng(1234);
  const std::string alphabet = "()[]{}.,'\" =!<>~anotir0123456789-_ \\xfm";
  for (const auto& sample : samples) {
    for (size_t cut = 0; cut <= sample.size(); ++cut) {
      std::string t = sample.substr(0, cut);
      size_t o = 0;
      auto a = EvaluateExpression(t, Vars(), &o);
      if (!a.ok()) CHECK(o <= t.size());
      auto b = Interpolate(t, Vars(), &o);
      if (!b.ok()) CHECK(o <= t.size());
    }
    for (int i = 0; i < 2000; ++i) {
      std::string t = sample;
      for (int k = 0; k < 3; ++k) t[rng() % t.size()] = alphabet[rng() % alphabet.size()];
      size_t o = 0;
      auto a = EvaluateExpression(t, Vars(), &o);
      if (!a.ok()) CHECK(o <= t.size());
      auto b = Interpolate(t, Vars(), &o);
      if (!b.ok()) CHECK(o <= t.size());
    }
  }
}
