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
