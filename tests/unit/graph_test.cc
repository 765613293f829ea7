#include "engine/graph.h"

#include <doctest/doctest.h>
#include <stdlib.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>

using namespace keel;

namespace {

std::vector<std::string> PathAttr(const Resource& r) { return {r.GetString("path", r.title())}; }

Registry TestRegistry() {
  Registry reg;
  reg.Add(TypeInfo{.schema = {.name = "file"},
                   .paths = PathAttr,
                   .holds_paths = true,
                   .content_attrs = {"content", "source", "template"}});
  reg.Add(TypeInfo{.schema = {.name = "line"}, .paths = PathAttr, .edits_file = true});
  reg.Add(TypeInfo{.schema = {.name = "exec"}, .uses = [](const Resource& r) {
                     std::vector<std::string> out;
                     if (r.Has("cwd")) out.push_back(r.GetString("cwd"));
                     return out;
                   }});
  reg.Add(TypeInfo{.schema = {.name = "service"}, .requires_same_name = {"package"}});
  reg.Add(TypeInfo{.schema = {.name = "package"}});
  return reg;
}

// Builds a catalog entry by entry; lines count up so places are distinct.
struct CatalogBuilder {
  Catalog cat;
  int line = 1;

  Resource& Add(const std::string& type, const std::string& title, Attrs attrs = {}) {
    Resource r;
    r.ref = {type, title};
    r.attrs = std::move(attrs);
    if (type == "file" && !r.attrs.Has("path")) r.attrs.Set("path", title);
    r.loc = {"site.yaml", line, 5};
    line += 2;
    r.tags = {type, "site"};
    cat.Add(std::move(r));
    return cat.resources.back();
  }
};

RefAt At(const std::string& ref) { return {*Ref::Parse(ref), 99, 7}; }

std::vector<std::string> OrderIds(const Catalog& cat, const Graph& g) {
  std::vector<std::string> ids;
  for (size_t i : g.order()) ids.push_back(cat.resources[i].id());
  return ids;
}

const Edge* FindEdge(const Graph& g, size_t from, size_t to) {
  for (const Edge& e : g.edges())
    if (e.from == from && e.to == to) return &e;
  return nullptr;
}

}  // namespace

TEST_CASE("graph: independent resources keep manifest order") {
  Registry reg = TestRegistry();
  CatalogBuilder b;
  b.Add("exec", "c");
  b.Add("exec", "a");
  b.Add("exec", "b");
  auto g = Graph::Build(b.cat, reg);
  REQUIRE(g.ok());
  CHECK(OrderIds(b.cat, *g) == std::vector<std::string>{"exec[c]", "exec[a]", "exec[b]"});
  CHECK(g->edges().empty());
}

TEST_CASE("graph: require, before, notify, subscribe") {
  Registry reg = TestRegistry();
  CatalogBuilder b;
  b.Add("exec", "one").require = {At("exec[three]")};   // three -> one
  b.Add("exec", "two");                                 //
  b.Add("exec", "three").before = {At("exec[four]")};   // three -> four
  b.Add("exec", "four").notify = {At("service[s]")};    // four -> s (notify)
  b.Add("service", "s");                                //
  b.Add("exec", "five").subscribe = {At("exec[two]")};  // two -> five (notify)
  auto g = Graph::Build(b.cat, reg);
  REQUIRE(g.ok());
  CHECK(OrderIds(b.cat, *g) == std::vector<std::string>{"exec[two]", "exec[three]", "exec[one]",
                                                        "exec[four]", "service[s]", "exec[five]"});
  REQUIRE(FindEdge(*g, 2, 0));
  CHECK(FindEdge(*g, 2, 0)->kind == EdgeKind::kRequire);
  REQUIRE(FindEdge(*g, 2, 3));
  CHECK(FindEdge(*g, 2, 3)->kind == EdgeKind::kRequire);
  REQUIRE(FindEdge(*g, 3, 4));
  CHECK(FindEdge(*g, 3, 4)->kind == EdgeKind::kNotify);
  REQUIRE(FindEdge(*g, 1, 5));
  CHECK(FindEdge(*g, 1, 5)->kind == EdgeKind::kNotify);
  CHECK(g->deps(0) == std::vector<size_t>{2});
  CHECK(g->deps(3) == std::vector<size_t>{2});
  CHECK(g->deps(4) == std::vector<size_t>{3});
  CHECK(g->deps(1).empty());
  CHECK(g->refresh_targets(3) == std::vector<size_t>{4});
  CHECK(g->refresh_targets(1) == std::vector<size_t>{5});
  CHECK(g->refresh_targets(2).empty());
}

TEST_CASE("graph: a require and a notify on the same pair is one notify edge") {
  Registry reg = TestRegistry();
  CatalogBuilder b;
  b.Add("file", "/etc/x.conf");
  b.Add("service", "x").require = {At("file[/etc/x.conf]")};
  b.cat.resources[1].subscribe = {At("file[/etc/x.conf]")};
  auto g = Graph::Build(b.cat, reg);
  REQUIRE(g.ok());
  REQUIRE(g->edges().size() == 1);
  CHECK(g->edges()[0].kind == EdgeKind::kNotify);
  CHECK(g->refresh_targets(0) == std::vector<size_t>{1});
}

TEST_CASE("graph: unknown reference is an error naming its place") {
  Registry reg = TestRegistry();
  CatalogBuilder b;
  b.Add("exec", "a").require = {At("file[/nope]")};
  auto g = Graph::Build(b.cat, reg);
  REQUIRE(!g.ok());
  CHECK(g.error().message == "site.yaml:99:7: unknown resource file[/nope] in a reference");
}

TEST_CASE("graph: implicit edges to parent directories, same path, cwd, package") {
  Registry reg = TestRegistry();
  CatalogBuilder b;
  b.Add("line", "ssh-port", Map{{"path", "/etc/ssh/sshd_config"}, {"line", "Port 22"}});  // 0
  b.Add("service", "sshd");                                                               // 1
  b.Add("exec", "build", Map{{"cwd", "/srv/app"}});                                       // 2
  b.Add("file", "/etc/ssh/sshd_config", Map{{"mode", "0600"}});                           // 3
  b.Add("file", "/etc/ssh", Map{{"ensure", "directory"}});                                // 4
  b.Add("file", "/srv", Map{{"ensure", "directory"}});                                    // 5
  b.Add("package", "sshd");                                                               // 6
  b.Add("file", "/etc/sshX", Map{{"ensure", "directory"}});  // 7 (no prefix match)
  auto g = Graph::Build(b.cat, reg);
  REQUIRE(g.ok());
  for (auto [from, to] :
       std::vector<std::pair<size_t, size_t>>{{4, 3}, {3, 0}, {4, 0}, {5, 2}, {6, 1}}) {
    CAPTURE(from);
    CAPTURE(to);
    const Edge* e = FindEdge(*g, from, to);
    REQUIRE(e);
    CHECK(e->kind == EdgeKind::kImplicit);
  }
  CHECK(!FindEdge(*g, 7, 0));
  CHECK(!FindEdge(*g, 7, 3));
  CHECK(g->edges().size() == 5);
  CHECK(OrderIds(b.cat, *g) ==
        std::vector<std::string>{"file[/etc/ssh]", "file[/etc/ssh/sshd_config]", "line[ssh-port]",
                                 "file[/srv]", "exec[build]", "package[sshd]", "service[sshd]",
                                 "file[/etc/sshX]"});
  CHECK(g->refresh_targets(6).empty());
}

TEST_CASE("graph: an implicit edge that contradicts an explicit one is dropped") {
  Registry reg = TestRegistry();
  CatalogBuilder b;
  b.Add("file", "/opt/app/conf");                                   // 0
  b.Add("file", "/opt/app").require = {At("file[/opt/app/conf]")};  // 1: explicit 0 -> 1
  b.Add("file", "/opt");                                            // 2: implicit 2 -> 0, 2 -> 1
  auto g = Graph::Build(b.cat, reg);
  REQUIRE(g.ok());
  REQUIRE(FindEdge(*g, 0, 1));
  CHECK(FindEdge(*g, 0, 1)->kind == EdgeKind::kRequire);
  CHECK(!FindEdge(*g, 1, 0));  // the implicit parent edge would close a cycle
  CHECK(FindEdge(*g, 2, 0));
  CHECK(FindEdge(*g, 2, 1));
  CHECK(OrderIds(b.cat, *g) ==
        std::vector<std::string>{"file[/opt]", "file[/opt/app/conf]", "file[/opt/app]"});
}

TEST_CASE("graph: a content file and an editing resource on one path are two owners") {
  Registry reg = TestRegistry();
  CatalogBuilder b;
  b.Add("exec", "pad");
  b.Add("file", "/etc/x", Map{{"content", "a\n"}});  // site.yaml:3:5
  b.Add("exec", "pad2");
  b.Add("exec", "pad3");
  b.Add("line", "y", Map{{"path", "/etc/x"}, {"line", "b"}});  // site.yaml:9:5
  auto g = Graph::Build(b.cat, reg);
  REQUIRE(!g.ok());
  CHECK(g.error().code == ErrorCode::kConflict);
  CHECK(g.error().message ==
        "two owners of /etc/x: file[/etc/x] (site.yaml:3:5) and line[y] (site.yaml:9:5)");

  SUBCASE("a file managing only mode is fine, and goes first") {
    b.cat.resources[1].attrs = Map{{"path", "/etc/x"}, {"mode", "0644"}};
    auto ok = Graph::Build(b.cat, reg);
    REQUIRE(ok.ok());
    CHECK(FindEdge(*ok, 1, 4));
  }
  SUBCASE("source and template count as content") {
    b.cat.resources[1].attrs = Map{{"path", "/etc/x"}, {"template", "x.tmpl"}};
    CHECK(!Graph::Build(b.cat, reg).ok());
  }
}

TEST_CASE("graph: every problem is reported, not just the first") {
  Registry reg = TestRegistry();
  CatalogBuilder b;
  b.Add("file", "/etc/a", Map{{"content", "x"}});                // site.yaml:1:5
  b.Add("line", "la", Map{{"path", "/etc/a"}, {"line", "y"}});   // site.yaml:3:5
  b.Add("exec", "e").require = {At("exec[missing]")};            // site.yaml:5:5
  b.Add("file", "/etc/b", Map{{"source", "b.txt"}});             // site.yaml:7:5
  b.Add("line", "lb", Map{{"path", "/etc/b/"}, {"line", "y"}});  // site.yaml:9:5
  auto g = Graph::Build(b.cat, reg);
  REQUIRE(!g.ok());
  CHECK(g.error().message ==
        "site.yaml:99:7: unknown resource exec[missing] in a reference\n"
        "two owners of /etc/a: file[/etc/a] (site.yaml:1:5) and line[la] (site.yaml:3:5)\n"
        "two owners of /etc/b: file[/etc/b] (site.yaml:7:5) and line[lb] (site.yaml:9:5)");
}

TEST_CASE("graph: paths with a trailing slash match their directory") {
  Registry reg = TestRegistry();
  CatalogBuilder b;
  b.Add("exec", "run", Map{{"cwd", "/opt/tool/"}});
  b.Add("file", "/opt/tool/", Map{{"ensure", "directory"}});
  auto g = Graph::Build(b.cat, reg);
  REQUIRE(g.ok());
  CHECK(FindEdge(*g, 1, 0));
  CHECK(OrderIds(b.cat, *g) == std::vector<std::string>{"file[/opt/tool/]", "exec[run]"});
}

TEST_CASE("graph: cycles are printed as a path from the first declared resource") {
  Registry reg = TestRegistry();
  SUBCASE("two resources") {
    CatalogBuilder b;
    b.Add("exec", "pad");
    b.Add("file", "a").require = {At("exec[b]")};
    b.Add("exec", "b").require = {At("file[a]")};
    auto g = Graph::Build(b.cat, reg);
    REQUIRE(!g.ok());
    CHECK(g.error().message ==
          "site.yaml:3:5: dependency cycle: file[a] (site.yaml:3:5) -> exec[b] (site.yaml:5:5) -> "
          "file[a]");
  }
  SUBCASE("three resources through before and notify, declared out of order") {
    CatalogBuilder b;
    b.Add("exec", "x").notify = {At("exec[y]")};       // x -> y
    b.Add("exec", "z").before = {At("exec[x]")};       // z -> x
    b.Add("exec", "y").before = {At("exec[z]")};       // y -> z
    b.Add("exec", "after").require = {At("exec[x]")};  // downstream, not in the cycle
    auto g = Graph::Build(b.cat, reg);
    REQUIRE(!g.ok());
    CHECK(g.error().message ==
          "site.yaml:1:5: dependency cycle: exec[x] (site.yaml:1:5) -> exec[y] (site.yaml:5:5) -> "
          "exec[z] (site.yaml:3:5) -> exec[x]");
  }
  SUBCASE("a resource requiring itself") {
    CatalogBuilder b;
    b.Add("exec", "self").require = {At("exec[self]")};
    auto g = Graph::Build(b.cat, reg);
    REQUIRE(!g.ok());
    CHECK(g.error().message ==
          "site.yaml:1:5: dependency cycle: exec[self] (site.yaml:1:5) -> exec[self]");
  }
  SUBCASE("every cycle is reported, each with its places") {
    CatalogBuilder b;
    b.Add("exec", "a").require = {At("exec[b]")};  // 1
    b.Add("exec", "b").require = {At("exec[a]")};  // 3
    b.Add("exec", "ok");                           // 5
    b.Add("exec", "c").require = {At("exec[d]")};  // 7
    b.Add("exec", "d").require = {At("exec[c]")};  // 9
    b.Add("exec", "e").require = {At("exec[e]")};  // 11
    b.Add("exec", "f").require = {At("exec[a]")};  // 13: downstream, in no cycle
    auto g = Graph::Build(b.cat, reg);
    REQUIRE(!g.ok());
    CHECK(g.error().message ==
          "site.yaml:1:5: dependency cycle: exec[a] (site.yaml:1:5) -> exec[b] (site.yaml:3:5) -> "
          "exec[a]\n"
          "site.yaml:7:5: dependency cycle: exec[c] (site.yaml:7:5) -> exec[d] (site.yaml:9:5) -> "
          "exec[c]\n"
          "site.yaml:11:5: dependency cycle: exec[e] (site.yaml:11:5) -> exec[e]");
  }
}

TEST_CASE("graph: tag selection includes what the tagged resources require") {
  Registry reg = TestRegistry();
  CatalogBuilder b;
  b.Add("package", "nginx");                                                // 0
  b.Add("file", "/etc/nginx/nginx.conf").require = {At("package[nginx]")};  // 1
  b.Add("service", "nginx").tags.push_back("web");  // 2 (implicit pkg, and ->)
  b.cat.resources[2].subscribe = {At("file[/etc/nginx/nginx.conf]")};
  b.Add("exec", "unrelated");                                   // 3
  b.Add("exec", "after-web").require = {At("service[nginx]")};  // 4 (dependent, not dep)
  auto g = Graph::Build(b.cat, reg);
  REQUIRE(g.ok());
  CHECK(g->SelectTags(b.cat, {"web"}) == std::vector<bool>{true, true, true, false, false});
  CHECK(g->SelectTags(b.cat, {"exec"}) == std::vector<bool>{true, true, true, true, true});
  CHECK(g->SelectTags(b.cat, {"nope"}) == std::vector<bool>(5, false));
  CHECK(g->SelectTags(b.cat, {"nope", "package"}) ==
        std::vector<bool>{true, false, false, false, false});
}

TEST_CASE("graph: DOT output renders with dot") {
  Registry reg = TestRegistry();
  CatalogBuilder b;
  b.Add("file", "/etc");
  b.Add("file", "/etc/a \"quoted\" \\ name");
  b.Add("service", "svc").subscribe = {At("file[/etc/a \"quoted\" \\ name]")};
  b.Add("exec", "e").require = {At("service[svc]")};
  auto g = Graph::Build(b.cat, reg);
  REQUIRE(g.ok());
  std::string dot = g->ToDot(b.cat);
  CHECK(dot.rfind("digraph keel {\n", 0) == 0);
  CHECK(dot.find("\"file[/etc/a \\\"quoted\\\" \\\\ name]\" -> \"service[svc]\" [style=dashed, "
                 "label=\"notify\"];") != std::string::npos);
  CHECK(dot.find("\"service[svc]\" -> \"exec[e]\" [style=solid];") != std::string::npos);
  CHECK(dot.find("\"file[/etc]\" -> \"file[/etc/a \\\"quoted\\\" \\\\ name]\" [style=dotted];") !=
        std::string::npos);

  if (system("command -v dot >/dev/null 2>&1") != 0) return;
  char tmpl[] = "/tmp/keel-dot-XXXXXX";
  REQUIRE(mkdtemp(tmpl));
  std::string dir = tmpl;
  std::ofstream(dir + "/g.dot") << dot;
  std::string cmd = "dot -Tsvg " + dir + "/g.dot -o " + dir + "/g.svg 2>" + dir + "/err";
  CHECK(system(cmd.c_str()) == 0);
  std::ifstream err(dir + "/err");
  std::string err_text((std::istreambuf_iterator<char>(err)), std::istreambuf_iterator<char>());
  CHECK(err_text == "");
  std::ifstream svg(dir + "/g.svg");
  std::string svg_text((std::istreambuf_iterator<char>(svg)), std::istreambuf_iterator<char>());
  CHECK(svg_text.find("service[svc]") != std::string::npos);
  CHECK(svg_text.find("&quot;quoted&quot;") != std::string::npos);
  std::filesystem::remove_all(dir);
}

namespace {

// 1000 directories, 4000 files in them (half declared before their
// directory), 5000 execs with a cwd in require chains: ~19,000 edges.
Catalog BigCatalog(bool contradiction) {
  CatalogBuilder b;
  const int kDirs = 1000;
  auto file = [&](int f) {
    b.Add("file", "/srv/d" + std::to_string((f * 7) % kDirs) + "/f" + std::to_string(f));
  };
  for (int f = 0; f < 2 * kDirs; ++f) file(f);
  for (int d = 0; d < kDirs; ++d) b.Add("file", "/srv/d" + std::to_string(d));
  for (int f = 2 * kDirs; f < 4 * kDirs; ++f) file(f);
  for (int e = 0; e < 5 * kDirs; ++e) {
    Resource& r =
        b.Add("exec", "e" + std::to_string(e), Map{{"cwd", "/srv/d" + std::to_string(e % kDirs)}});
    if (e > 0) r.require.push_back(At("exec[e" + std::to_string(e - 1) + "]"));
    if (e > 10) r.require.push_back(At("exec[e" + std::to_string(e - 10) + "]"));
  }
  // The directory explicitly requires a file inside it: its implicit
  // parent edge must be dropped, which takes the slow path.
  if (contradiction) b.cat.resources[2 * kDirs].require.push_back(At("file[/srv/d0/f0]"));
  return std::move(b.cat);
}

}  // namespace

TEST_CASE("graph: 10,000 resources and ~20,000 edges build in topological order") {
  Registry reg = TestRegistry();
  for (bool contradiction : {false, true}) {
    CAPTURE(contradiction);
    Catalog cat = BigCatalog(contradiction);
    REQUIRE(cat.resources.size() == 10000);
    // Best of three: the machine is shared.
    double ms = 1e9;
    std::optional<Result<Graph>> g;
    for (int run = 0; run < 3; ++run) {
      auto start = std::chrono::steady_clock::now();
      g.emplace(Graph::Build(cat, reg));
      ms = std::min(
          ms, std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
                  .count());
    }
    REQUIRE(g->ok());
    const Graph& graph = **g;
    MESSAGE("graph of 10000 resources, " << graph.edges().size() << " edges"
                                         << std::string(contradiction ? " (one contradiction)" : "")
                                         << ": " << ms << " ms");
    CHECK(graph.edges().size() > 18000);
    REQUIRE(graph.order().size() == 10000);
    std::vector<size_t> pos(10000);
    for (size_t k = 0; k < 10000; ++k) pos[graph.order()[k]] = k;
    size_t backwards = 0;
    for (const Edge& e : graph.edges()) backwards += pos[e.from] >= pos[e.to];
    CHECK(backwards == 0);
    // No time limit here: timings belong to bench/ (a unit test on a shared
    // machine cannot fail honestly on speed); the MESSAGE shows the figure.
  }
}
