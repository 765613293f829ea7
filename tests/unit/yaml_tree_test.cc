#include "engine/yaml_tree.h"

#include <doctest/doctest.h>

#include <string>

using namespace keel::yaml;

namespace {

std::unique_ptr<Document> Must(const std::string& text) {
  ParseError err;
  auto doc = Document::Parse(text, &err);
  REQUIRE_MESSAGE(doc, err.message);
  return doc;
}

}  // namespace

TEST_CASE("yaml_tree: types, tags, nulls and marks as the loader expects them") {
  const std::string text =
      "a: plain\nb: \"quoted\"\nc: 'single'\nd: |\n  block\ne:\nf: ~\ng: !!str 42\n"
      "h: [1, {x: y}]\n\xc3\xa9t\xc3\xa9: \"\xc3\xa9\"\n";
  auto doc = Must(text);
  Node root = doc->root();
  REQUIRE(root.IsMap());
  CHECK(root.size() == 9);
  std::vector<NodeItem> items;
  for (const auto& kv : root) items.push_back(kv);
  CHECK(items[0].first.Scalar() == "a");
  CHECK(items[0].second.Scalar() == "plain");
  CHECK(items[0].second.Tag() == "?");
  CHECK(items[1].second.Tag() == "!");
  CHECK(items[2].second.Scalar() == "single");
  CHECK(items[3].second.Scalar() == "block\n");
  CHECK(items[3].second.Tag() == "!");
  CHECK(items[4].second.IsNull());  // an empty value
  CHECK(items[5].second.IsNull());  // ~
  CHECK(items[6].second.IsScalar());
  CHECK(items[6].second.Tag() == "tag:yaml.org,2002:str");
  CHECK(items[7].second.IsSequence());
  CHECK(items[7].second.size() == 2);
  // Marks: 0-based line, byte column, byte offset; a quoted scalar's mark
  // is its opening quote.
  Mark m = items[1].second.GetMark();
  CHECK(m.line == 1);
  CHECK(m.column == 3);
  CHECK(text[m.pos] == '"');
  Mark u = items[8].second.GetMark();  // after a 2-byte character and 2 more
  CHECK(u.line == 9);
  CHECK(u.column == 7);
  CHECK(text[u.pos] == '"');
}

TEST_CASE("yaml_tree: aliases are the node they name, cycles included") {
  auto doc = Must("a: &x {k: v}\nb: *x\nc: &l [*l]\n");
  std::vector<NodeItem> items;
  for (const auto& kv : doc->root()) items.push_back(kv);
  CHECK(items[0].second == items[1].second);
  Node l = items[2].second;
  CHECK(*l.begin() == l);
}

TEST_CASE("yaml_tree: expanded size counts aliases in full, map keys not, recursion as unbounded") {
  // a0 has 1 + 3 nodes; each a(i) is a list of 10 aliases of a(i-1).
  std::string text = "a0: &a0 [x, y, z]\n";
  for (int i = 1; i <= 9; ++i) {
    text += "a" + std::to_string(i) + ": &a" + std::to_string(i) + " [";
    for (int k = 0; k < 10; ++k) text += std::string(k ? ", " : "") + "*a" + std::to_string(i - 1);
    text += "]\n";
  }
  text += "m: {k1: v, k2: [1, 2]}\nr: &r [*r]\n";
  auto doc = Must(text);
  std::vector<NodeItem> items;
  for (const auto& kv : doc->root()) items.push_back(kv);
  CHECK(items[0].second.expanded_size() == 4);
  CHECK(items[1].second.expanded_size() == 41);   // 1 + 10 * 4
  CHECK(items[2].second.expanded_size() == 411);  // 1 + 10 * 41
  CHECK(items[9].second.expanded_size() == 4111111111u);
  CHECK(items[10].second.expanded_size() == 5);  // {k1: v, k2: [1, 2]}: 1 + 1 + 3
  CHECK(items[11].second.expanded_size() == UINT32_MAX);
  // 10 more levels saturate instead of wrapping around.
  std::string deep = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n";
  for (int i = 1; i <= 20; ++i)
    deep += "a" + std::to_string(i) + ": &a" + std::to_string(i) + " [*a" + std::to_string(i - 1) +
            ", *a" + std::to_string(i - 1) + ", *a" + std::to_string(i - 1) + ", *a" +
            std::to_string(i - 1) + ", *a" + std::to_string(i - 1) + ", *a" +
            std::to_string(i - 1) + ", *a" + std::to_string(i - 1) + ", *a" +
            std::to_string(i - 1) + ", *a" + std::to_string(i - 1) + ", *a" +
            std::to_string(i - 1) + "]\n";
  auto d2 = Must(deep);
  Node last;
  for (const auto& kv : d2->root()) last = kv.second;
  CHECK(last.expanded_size() == UINT32_MAX);
}

TEST_CASE("yaml_tree: errors name their kind and place") {
  ParseError err;
  CHECK_FALSE(Document::Parse("a: \"open\nb: 1\n", &err));
  CHECK(err.kind == ParseError::kUnterminatedQuote);
  CHECK(err.quote == '"');
  CHECK(err.mark.line == 0);
  CHECK(err.mark.column == 3);
  ParseError deep;
  CHECK_FALSE(Document::Parse(std::string(100000, '['), &deep));
  CHECK(deep.kind == ParseError::kDepth);
  ParseError syn;
  CHECK_FALSE(Document::Parse("a: 1\n  b: 2\n", &syn));
  CHECK(syn.kind == ParseError::kSyntax);
  CHECK(syn.mark.line == 1);
  ParseError alias;
  CHECK_FALSE(Document::Parse("a: *nope\n", &alias));
  CHECK(alias.message == "the referenced anchor is not defined");
  // Empty text and a bare document are a Null root; only the first
  // document is read.
  CHECK(Must("")->root().IsNull());
  CHECK(Must("--- \n...\n")->root().IsNull());
  CHECK(Must("a: 1\n---\n: : bad [\n")->root().IsMap());
}
