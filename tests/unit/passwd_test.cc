#include "engine/passwd.h"

#include <doctest/doctest.h>

using namespace keel;

namespace {
const char* kPasswd =
    "root:x:0:0:root:/root:/bin/bash\n"
    "# a comment:x:5:5\n"
    "\n"
    "short:x\n"
    ":x:7:7::/:/bin/false\n"
    "bad:x:12a:0::/:/bin/false\n"
    "bob:x:1001:1001::/home/bob:/bin/sh\n"
    "bob:x:2002:2002::/home/bob2:/bin/sh\n"
    "group3:x:30";  // a group line, no final newline
}  // namespace

TEST_CASE("passwd: one line") {
  auto e = ParseIdDbLine("root:x:0:0:root:/root:/bin/bash");
  REQUIRE(e);
  CHECK(e->name == "root");
  CHECK(e->id == 0u);
  CHECK(ParseIdDbLine("wheel:x:10:alice,bob")->id == 10u);
  CHECK(ParseIdDbLine("g:x:4")->id == 4u);
  CHECK(ParseIdDbLine("g:x:")->id == std::nullopt);
  CHECK(ParseIdDbLine("g:x:-1:")->id == std::nullopt);
  CHECK(ParseIdDbLine("g:x:99999999999:")->id == std::nullopt);
  CHECK_FALSE(ParseIdDbLine(""));
  CHECK_FALSE(ParseIdDbLine("#root:x:0:0"));
  CHECK_FALSE(ParseIdDbLine(":x:0:0"));
  CHECK_FALSE(ParseIdDbLine("root:x"));
}

TEST_CASE("passwd: lookups by name and by id") {
  CHECK(FindIdByName(kPasswd, "root")->id == 0u);
  CHECK(FindIdByName(kPasswd, "bob")->id == 1001u);  // the first one wins
  CHECK(FindIdByName(kPasswd, "group3")->id == 30u);
  auto bad = FindIdByName(kPasswd, "bad");
  REQUIRE(bad);
  CHECK_FALSE(bad->id);  // malformed: found, without an id
  CHECK_FALSE(FindIdByName(kPasswd, "short"));
  CHECK_FALSE(FindIdByName(kPasswd, "nobody"));
  CHECK_FALSE(FindIdByName(kPasswd, ""));

  CHECK(FindNameById(kPasswd, 0) == "root");
  CHECK(FindNameById(kPasswd, 1001) == "bob");
  CHECK(FindNameById(kPasswd, 2002) == "bob");
  CHECK(FindNameById(kPasswd, 30) == "group3");
  CHECK_FALSE(FindNameById(kPasswd, 5));  // only in a comment
  CHECK_FALSE(FindNameById(kPasswd, 7));  // no name
  CHECK_FALSE(FindNameById(kPasswd, 100));
  CHECK_FALSE(FindNameById("", 0));
}

TEST_CASE("passwd: plain decimal ids") {
  CHECK(ParseId("0") == 0u);
  CHECK(ParseId("4294967295") == 4294967295u);
  CHECK_FALSE(ParseId("4294967296"));
  CHECK_FALSE(ParseId(""));
  CHECK_FALSE(ParseId("+1"));
  CHECK_FALSE(ParseId(" 1"));
  CHECK_FALSE(ParseId("1 "));
  CHECK_FALSE(ParseId("root"));
}
