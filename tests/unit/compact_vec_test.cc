// CompactVec, AttrPlaces and DeclLoc: the compact parts of a Resource.
#include "engine/compact_vec.h"

#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "engine/resource.h"

using namespace keel;

TEST_CASE("CompactVec: one pointer wide, empty without a heap block") {
  static_assert(sizeof(CompactVec<std::string>) == sizeof(void*));
  CompactVec<std::string> v;
  CHECK(v.empty());
  CHECK(v.size() == 0);
  CHECK(v.capacity() == 0);
  CHECK(v.begin() == v.end());
  for (const auto& s : v) FAIL("an empty vector has no element: " << s);
}

TEST_CASE("CompactVec: grows, keeps order, copies, moves, clears") {
  CompactVec<std::string> v;
  std::vector<std::string> want;
  for (int i = 0; i < 100; ++i) {
    // Long enough to live on the heap: a moved-from element must not be read.
    std::string s = "element number " + std::to_string(i) + " of a long list";
    v.push_back(s);
    want.push_back(s);
    REQUIRE(v.size() == want.size());
    CHECK(v.capacity() >= v.size());
  }
  CHECK(std::vector<std::string>(v.begin(), v.end()) == want);
  CHECK(v.front() == want.front());
  CHECK(v.back() == want.back());
  CHECK(v[42] == want[42]);

  CompactVec<std::string> copy = v;
  CHECK(copy == v);
  copy[0] = "changed";
  CHECK(v[0] == want[0]);  // a copy owns its elements
  CHECK(!(copy == v));

  CompactVec<std::string> moved = std::move(copy);
  CHECK(moved.size() == 100);
  CHECK(moved[0] == "changed");

  copy = v;  // assignment into a moved-from vector
  CHECK(copy == v);
  copy = {"a", "b"};
  CHECK(std::vector<std::string>(copy.begin(), copy.end()) == std::vector<std::string>{"a", "b"});
  copy = {};
  CHECK(copy.empty());

  v.clear();
  CHECK(v.empty());
  v.emplace_back(3, 'x');
  CHECK(v.size() == 1);
  CHECK(v[0] == "xxx");
}

TEST_CASE("CompactVec: pushing one of its own elements while it grows") {
  CompactVec<std::string> v{"the first element, long enough for the heap"};
  for (int i = 0; i < 20; ++i) v.push_back(v[0]);  // the block moves under the argument
  REQUIRE(v.size() == 21);
  for (const auto& s : v) CHECK(s == "the first element, long enough for the heap");
  v.reserve(1000);
  CHECK(v.capacity() >= 1000);
  CHECK(v.back() == v.front());
}

TEST_CASE("AttrPlaces: the common case packed, the others kept as given") {
  using P = AttrPlaces::Place;
  auto round_trip = [](const std::vector<P>& places, uint32_t base) {
    AttrPlaces a;
    a.Assign(places, base);
    REQUIRE(a.size() == places.size());
    for (size_t i = 0; i < places.size(); ++i) {
      CHECK(a.Get(i, base).line == places[i].line);
      CHECK(a.Get(i, base).col == places[i].col);
    }
    return a;
  };
  round_trip({}, 7);
  round_trip({{8, 5}, {9, 5}, {12, 7}}, 7);           // packed
  round_trip({{7, 0}, {7 + 255, 255}}, 7);            // the edges of packing
  round_trip({{8, 5}, {9, 5}, {10, 5}, {11, 5}}, 7);  // four: kept in a list
  round_trip({{8, 256}}, 7);                          // a column past 255
  round_trip({{7 + 256, 1}}, 7);                      // a line too far
  round_trip({{3, 1}}, 7);                            // before the resource
  round_trip({{4000000000u, 4000000000u}, {1, 1}}, 4000000000u);

  AttrPlaces a = round_trip({{8, 256}}, 7);
  a.Assign({{8, 5}}, 7);  // reassigning drops the old places
  CHECK(a.size() == 1);
  CHECK(a.Get(0, 7).col == 5);
}

TEST_CASE("Resource::LocOf finds an attribute's place, else the resource's") {
  Resource r;
  r.loc = DeclLoc("mods/a.yaml", 10, 5);
  r.attrs.Set("content", Value("x"));
  r.attrs.Set("mode", Value("0644"));
  r.attrs.Set("path", Value("/etc/x"));  // from the title: no place of its own
  r.attr_locs.Assign({{11, 5}, {400, 9}}, 10);
  CHECK(r.LocOf("content").str() == "mods/a.yaml:11:5");
  CHECK(r.LocOf("mode").str() == "mods/a.yaml:400:9");
  CHECK(r.LocOf("path").str() == "mods/a.yaml:10:5");
  CHECK(r.LocOf("owner").str() == "mods/a.yaml:10:5");
}

TEST_CASE("DeclLoc: file names are shared, locations read back") {
  DeclLoc a("site.yaml", 3, 4);
  DeclLoc b(SourceLoc{"site.yaml", 9, 1});
  CHECK(&a.file() == &b.file());  // one string for every resource of a file
  CHECK(a.str() == "site.yaml:3:4");
  CHECK(b.str() == "site.yaml:9:1");
  DeclLoc none;
  CHECK(none.file().empty());
  CHECK(none.line() == 0);
  CHECK(DeclLoc("x.yaml", -1, -5).str() == "x.yaml");  // unknown stays unknown
  SourceLoc s = DeclLoc("other.yaml", 2, 0);
  CHECK(s.file == "other.yaml");
  CHECK(s.line == 2);
}
