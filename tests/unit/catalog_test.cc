#include "engine/catalog.h"

#include <doctest/doctest.h>

#include <string>
#include <vector>

using namespace keel;

TEST_CASE("PositionIndex: every hash colliding still finds each item, across growth") {
  // All keys under one hash: the probe chain must compare items, not hashes.
  std::vector<std::string> items;
  PositionIndex index;
  for (int i = 0; i < 1000; ++i) {
    items.push_back("k" + std::to_string(i));
    index.Insert(7, items.size() - 1);
  }
  CHECK(index.size() == 1000);
  for (size_t i = 0; i < items.size(); i += 97) {
    auto at = index.Find(7, [&](size_t p) { return items[p] == items[i]; });
    REQUIRE(at);
    CHECK(*at == i);
  }
  CHECK_FALSE(index.Find(7, [&](size_t p) { return items[p] == "absent"; }));
  CHECK_FALSE(index.Find(8, [](size_t) { return true; }));
  index.Replace(7, 5, 999);
  CHECK(index.Find(7, [](size_t p) { return p == 999; }));
}

TEST_CASE("Catalog: positions by reference and by id; a redeclared reference takes the index") {
  Catalog cat;
  for (int i = 0; i < 5000; ++i) {
    Resource r;
    r.ref = {i % 2 ? "file" : "pkg", "/t/" + std::to_string(i)};
    cat.Add(r);
  }
  CHECK(cat.Position(Ref{"file", "/t/4999"}) == 4999u);
  CHECK(cat.Position(Ref{"pkg", "/t/0"}) == 0u);
  CHECK_FALSE(cat.Position(Ref{"pkg", "/t/1"}));  // same title, other type
  CHECK(cat.PositionOfId("file[/t/7]") == 7u);
  CHECK(cat.PositionOfId("file[a[b]]") == std::nullopt);
  CHECK_FALSE(cat.PositionOfId("file"));
  CHECK_FALSE(cat.PositionOfId("file[x"));
  Resource again;
  again.ref = {"file", "/t/7"};
  cat.Add(again);
  CHECK(cat.Position(Ref{"file", "/t/7"}) == 5000u);
  Resource bracket;
  bracket.ref = {"file", "a[b]"};
  cat.Add(bracket);
  CHECK(cat.PositionOfId("file[a[b]]") == 5001u);
  CHECK(cat.Find(Ref{"file", "a[b]"}) == &cat.resources[5001]);
}
