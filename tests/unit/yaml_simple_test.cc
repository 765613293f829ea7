// The subset parser (engine/yaml_simple.cc) against libyaml: whatever text
// the subset parser accepts, libyaml must accept too and give the same tree
// (types, tags, scalar bytes, marks, sizes, expanded sizes). Checked on
// every YAML file of the repository, on generated manifests, and on those
// with random bytes inserted, deleted or cut off (the subset parser must
// then either give up or still agree). Each run also asserts that the
// subset parser accepts what keel's manifests look like, so that it cannot
// pass by always giving up.
#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "engine/yaml_tree.h"
#include "tests/unit/support/random.h"

namespace keel::yaml {
namespace {

using testing::Chance;
using testing::Pick;
using testing::Rng;

// "" when equal, else where they differ.
std::string Diff(Node a, Node b, const std::string& at) {
  auto mark = [](Mark m) {
    return std::to_string(m.pos) + "/" + std::to_string(m.line) + ":" + std::to_string(m.column);
  };
  if (a.Type() != b.Type())
    return at + ": type " + std::to_string(int(a.Type())) + " vs " + std::to_string(int(b.Type()));
  if (a.Tag() != b.Tag())
    return at + ": tag " + std::string(a.Tag()) + " vs " + std::string(b.Tag());
  if (mark(a.GetMark()) != mark(b.GetMark()))
    return at + ": mark " + mark(a.GetMark()) + " vs " + mark(b.GetMark());
  if (a.Scalar() != b.Scalar())
    return at + ": scalar [" + std::string(a.Scalar()) + "] vs [" + std::string(b.Scalar()) + "]";
  if (a.size() != b.size())
    return at + ": size " + std::to_string(a.size()) + " vs " + std::to_string(b.size());
  if (a.expanded_size() != b.expanded_size()) return at + ": expanded size";
  auto ia = a.begin(), ib = b.begin();
  for (size_t i = 0; ia != a.end(); ++ia, ++ib, ++i) {
    NodeItem x = *ia, y = *ib;
    std::string d;
    if (a.IsMap()) {
      d = Diff(x.first, y.first, at + "/key" + std::to_string(i));
      if (d.empty()) d = Diff(x.second, y.second, at + "/" + std::string(x.first.Scalar()));
    } else {
      d = Diff(x, y, at + "[" + std::to_string(i) + "]");
    }
    if (!d.empty()) return d;
  }
  return "";
}

struct Outcome {
  bool accepted = false;  // by the subset parser
  std::string problem;    // non-empty: the two disagree
};

Outcome Compare(const std::string& text) {
  Outcome o;
  std::unique_ptr<Document> simple = Document::ParseSimple(text);
  if (!simple) return o;
  o.accepted = true;
  ParseError err;
  std::unique_ptr<Document> lib = Document::ParseLibyaml(text, &err);
  if (!lib) {
    o.problem = "libyaml rejects it (" + err.message + " at " + std::to_string(err.mark.line) +
                ":" + std::to_string(err.mark.column) + ")";
    return o;
  }
  o.problem = Diff(simple->root(), lib->root(), "");
  return o;
}

std::string Slurp(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// A manifest-like document: keys, nested mappings and sequences (indented
// or at their key's column), "- key:" items, flow lists, every scalar style
// with escapes, comments, blank lines, empty values; now and then something
// outside the subset (an anchor, a tag, a block scalar, a flow map).
class Gen {
 public:
  explicit Gen(Rng& rng) : rng_(rng) {}

  std::string Doc() {
    out_.clear();
    if (Chance(rng_, 10)) out_ += "---\n";
    if (Chance(rng_, 20)) out_ += "# a comment\n";
    Map(0, 0);
    if (Chance(rng_, 10)) out_ += "\n# trailing\n";
    return out_;
  }

 private:
  std::string Scalar(bool flow) {
    static const std::vector<std::string> plain = {
        "a",     "file",     "/etc/x.conf", "0644", "true",     "null",     "~",    "Null", "1.5",
        "-1",    "http://x", "a#b",         "a b",  "file[/x]", "value_01", "x:y",  "-x",   "a, b",
        "key=v", "{x}",      "a'b",         "a\"b", "a  b",     "...",      "--x",  "%x",   "@x",
        "*a",    "&a b",     "!t x",        "|",    "? x",      ": x",      "a: b", "a #c"};
    static const std::vector<std::string> dq = {"\"\"",
                                                "\"a b\"",
                                                "\"a\\nb\"",
                                                "\"\\t\\\\\\\"\"",
                                                "\"\\x41\\u00e9\"",
                                                "\"\\U0001F600\"",
                                                "\"\\/ \\0\"",
                                                "\"\\N\\_\\L\\P\"",
                                                "\"a: b # c\"",
                                                "\"\\q\"",
                                                "\"\\ud800\"",
                                                "\"\\e\\a\\b\\v\\f\\r\"",
                                                "\"[x]\"",
                                                "\"'\"",
                                                "\"\\x4\""};
    static const std::vector<std::string> sq = {"''",   "'a'",  "'it''s'", "'a \\n b'",
                                                "'#x'", "''''", "'a: b'"};
    int k = std::uniform_int_distribution<int>(0, 9)(rng_);
    std::string s = k < 6 ? Pick(rng_, plain) : k < 8 ? Pick(rng_, dq) : Pick(rng_, sq);
    if (flow && Chance(rng_, 50)) s = Pick(rng_, dq);
    return s;
  }
  std::string Key() {
    static const std::vector<std::string> keys = {
        "file",           "mode",     "content", "require", "name", "resources", "vars", "a b",
        "\"quoted key\"", "'single'", "x.y",     "k-1",     "~",    "null",      "1"};
    return Pick(rng_, keys);
  }
  std::string Flow() {
    std::string s = "[";
    int n = std::uniform_int_distribution<int>(0, 3)(rng_);
    for (int i = 0; i < n; ++i) s += (i ? ", " : "") + Scalar(true);
    return s + "]";
  }
  std::string Inline() {
    int k = std::uniform_int_distribution<int>(0, 19)(rng_);
    if (k < 3) return Flow();
    if (k == 3) return "{a: 1}";
    if (k == 4) return "&anchor x";
    if (k == 5) return "|\n  block\n";
    return Scalar(false);
  }
  void Comment() {
    if (Chance(rng_, 10)) out_ += "  # note";
  }
  void Line(int col, const std::string& s) { out_ += std::string(col, ' ') + s; }

  void Map(int col, int depth) {
    int n = std::uniform_int_distribution<int>(1, depth ? 4 : 3)(rng_);
    for (int i = 0; i < n; ++i) {
      if (i) Line(col, "");
      if (Chance(rng_, 5)) out_ += "\n";
      Value(col, Key() + ":", depth);
    }
  }
  // After "key:" (at col) or "- " of a sequence at col - 2.
  void Value(int col, const std::string& head, int depth) {
    out_ += head;
    int k = std::uniform_int_distribution<int>(0, 9)(rng_);
    if (depth >= 4 || k < 5) {
      if (Chance(rng_, 8)) {
        Comment();
        out_ += "\n";
        return;  // empty value
      }
      out_ += " " + Inline();
      Comment();
      out_ += "\n";
    } else if (k < 7) {
      out_ += "\n";
      Line(col + 2, "");
      Map(col + 2, depth + 1);
    } else {
      out_ += "\n";
      Seq(Chance(rng_, 50) ? col : col + 2, depth + 1);
    }
  }
  void Seq(int col, int depth) {
    int n = std::uniform_int_distribution<int>(1, 3)(rng_);
    for (int i = 0; i < n; ++i) {
      Line(col, "-");
      int k = std::uniform_int_distribution<int>(0, 9)(rng_);
      if (k < 4) {
        out_ += " ";
        Value(col + 2, Key() + ":", depth);
        if (Chance(rng_, 50)) {
          Line(col + 2, "");
          Value(col + 2, Key() + ":", depth);
        }
      } else if (k < 8 || depth >= 4) {
        out_ += " " + Inline();
        Comment();
        out_ += "\n";
      } else if (k == 8) {
        out_ += "\n";  // an empty item, or a nested block below
        if (Chance(rng_, 50)) {
          Line(col + 2, "");
          Map(col + 2, depth + 1);
        }
      } else {
        out_ += "\n";
        Seq(col + 2, depth + 1);
      }
    }
  }

  Rng& rng_;
  std::string out_;
};

TEST_CASE("yaml subset parser: every YAML file of the repository, as libyaml reads it") {
  namespace fs = std::filesystem;
  int files = 0, accepted = 0;
  for (const char* dir : {"examples", "manifests", "tests", "bench", "docs"}) {
    fs::path root = fs::path(KEEL_SOURCE_DIR) / dir;
    if (!fs::exists(root)) continue;
    for (const auto& e : fs::recursive_directory_iterator(root)) {
      std::string ext = e.path().extension().string();
      if (!e.is_regular_file() || (ext != ".yaml" && ext != ".yml")) continue;
      std::string text = Slurp(e.path());
      Outcome o = Compare(text);
      ++files;
      accepted += o.accepted;
      CAPTURE(e.path().string());
      CHECK(o.problem == "");
    }
  }
  CHECK(files >= 10);
  // keel's own examples are in the subset: the fast path is taken.
  CHECK(accepted * 10 >= files * 8);
}

TEST_CASE("yaml subset parser: the generated benchmark manifests are in the subset") {
  std::string m = "# generated\nresources:\n";
  for (int i = 0; i < 50; ++i) {
    m += "  - file: \"/r/etc/bench/f" + std::to_string(i) + ".conf\"\n";
    m += "    mode: \"0644\"\n";
    m += "    content: \"# bench file\\nkey = value\\n\"\n";
    m += "    require: [\"file[/r/etc/bench]\"]\n";
  }
  m += "  - file: /r/etc/bench\n    ensure: directory\n    tags: [a, b]\n";
  Outcome o = Compare(m);
  CHECK(o.accepted);
  CHECK(o.problem == "");
}

TEST_CASE("yaml subset parser: generated and mutated documents agree with libyaml") {
  const char* seed_env = std::getenv("KEEL_YAML_SEED");
  const char* runs_env = std::getenv("KEEL_YAML_RUNS");
  Rng rng(seed_env ? static_cast<unsigned>(std::atoi(seed_env)) : 20261202u);
  const int runs = runs_env ? std::atoi(runs_env) : 6000;
  Gen gen(rng);
  static const std::vector<char> bytes = {' ',  '\n', '-', ':', '#', '"', '\'', '[', ']', ',',
                                          '\\', 'a',  '~', '{', '&', '*', '!',  '|', '.', '\t'};
  int accepted = 0, mutated_accepted = 0, total = 0;
  for (int i = 0; i < runs; ++i) {
    std::string doc = gen.Doc();
    int mode = i % 4;  // 0: as generated; 1: insert; 2: delete; 3: cut
    if (mode == 1 || mode == 2) {
      int edits = std::uniform_int_distribution<int>(1, 3)(rng);
      for (int e = 0; e < edits && !doc.empty(); ++e) {
        size_t at = std::uniform_int_distribution<size_t>(0, doc.size() - 1)(rng);
        if (mode == 1)
          doc.insert(doc.begin() + static_cast<long>(at), Pick(rng, bytes));
        else
          doc.erase(at, 1);
      }
    } else if (mode == 3 && !doc.empty()) {
      doc.resize(std::uniform_int_distribution<size_t>(0, doc.size() - 1)(rng));
    }
    Outcome o = Compare(doc);
    ++total;
    if (o.accepted) (mode == 0 ? accepted : mutated_accepted)++;
    if (!o.problem.empty()) {
      CAPTURE(doc);
      CHECK(o.problem == "");
      break;
    }
  }
  // Enough of both kinds is taken by the fast path for the check to mean
  // something.
  CAPTURE(accepted);
  CAPTURE(mutated_accepted);
  CHECK(accepted > total / 4 / 4);
  CHECK(mutated_accepted > total / 10);
}

TEST_CASE("yaml subset parser: marks, tags and nulls of the subset's corners") {
  for (const char* text : {
           "a:\n", "a:\nb: 1\n", "a:\n- x\n-\n- y\nb: 2\n",
           "- a: 1\n  b:\n  - c\n-\n  x: 2\n- [a, 'b', \"c\"]\n", "---\na: 1 # c\n",
           "--- # doc\n- 1\n", "\"k\" : v\n'k2': \"\\u00e9\\x41\"\n",
           "a: 'it''s'\nb: \"\"\nc: ''\nd: ~\ne: null\n", "# only a comment\n", "",
           "a: []\nb: [~, null, '']\n",
           "a:\n  b:\n    c:\n      - - x\n",  // nested compact sequence: libyaml
           "a: b: c\n",                        // an error: libyaml
           "a: |\n  x\n",                      // a block scalar: libyaml
           "a: &x 1\nb: *x\n",                 // anchors: libyaml
           "a: 1\n---\nb: 2\n",                // a second document: libyaml
       }) {
    CAPTURE(text);
    CHECK(Compare(text).problem == "");
  }
  CHECK(Document::ParseSimple("a:\n- x\n-\n- y\nb: 2\n"));
  CHECK(Document::ParseSimple("- a: 1\n  b:\n  - c\n-\n  x: 2\n- [a, 'b', \"c\"]\n"));
  CHECK_FALSE(Document::ParseSimple("a: b: c\n"));
  CHECK_FALSE(Document::ParseSimple("a: &x 1\nb: *x\n"));
  CHECK_FALSE(Document::ParseSimple("a:\tb\n"));
  CHECK_FALSE(Document::ParseSimple("a: caf\xc3\xa9\n"));
}

}  // namespace
}  // namespace keel::yaml
