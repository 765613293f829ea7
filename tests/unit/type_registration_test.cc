// A type's registration is all the engine needs to know about it: a type
// registered here, with names the engine has never heard of, gets the
// implicit edges, the "two owners" rule and repo path confinement that the
// built-in file, service and package types get.
#include <doctest/doctest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "engine/graph.h"
#include "engine/manifest_loader.h"
#include "engine/registry.h"
#include "tests/unit/support/temp_root.h"

using namespace keel;
using keel::testing::TempRoot;

namespace {

std::vector<std::string> PathOf(const Resource& r) { return {r.GetString("where")}; }

Registry NewTypes() {
  Registry reg;
  // A container of paths (like file) whose `body` owns the content and
  // whose `blob` is read from the config repo.
  reg.Add(TypeInfo{.schema = {.name = "blobfile",
                              .attrs = {{.name = "where", .role = AttrRole::kNamevar},
                                        {.name = "body"},
                                        {.name = "blob"}}},
                   .paths = PathOf,
                   .holds_paths = true,
                   .content_attrs = {"body"},
                   .repo_paths = {"blob"}});
  // An editing type on one path (like line).
  reg.Add(TypeInfo{
      .schema = {.name = "tweak",
                 .attrs = {{.name = "name", .role = AttrRole::kNamevar}, {.name = "where"}}},
      .paths = PathOf,
      .edits_file = true});
  // A daemon that needs the bundle of its name (like service and package).
  reg.Add(TypeInfo{
      .schema = {.name = "bundle", .attrs = {{.name = "name", .role = AttrRole::kNamevar}}}});
  reg.Add(TypeInfo{
      .schema = {.name = "daemon", .attrs = {{.name = "name", .role = AttrRole::kNamevar}}},
      .requires_same_name = {"bundle"}});
  return reg;
}

bool HasEdge(const Catalog& cat, const Graph& g, const std::string& from, const std::string& to) {
  size_t f = cat.PositionOfId(from).value(), t = cat.PositionOfId(to).value();
  return std::any_of(g.edges().begin(), g.edges().end(), [&](const Edge& e) {
    return e.from == f && e.to == t && e.kind == EdgeKind::kImplicit;
  });
}

}  // namespace

TEST_CASE(
    "registration: a new type's fields give implicit edges and repo paths, no engine change") {
  Registry reg = NewTypes();
  TempRoot repo, outside;
  outside.Write("/secret", "s\n");
  repo.Write("/files/motd", "hello\n");
  repo.Write("/site.yaml",
             "resources:\n"
             "  - daemon: ntpd\n"
             "  - tweak: t\n"
             "    where: /etc/app/conf\n"
             "  - blobfile: /etc/app\n"
             "  - blobfile: /etc/motd\n"
             "    blob: files/motd\n"
             "  - bundle: ntpd\n");
  LoadResult loaded = LoadManifests({.entry_path = repo.Real("/site.yaml"), .registry = &reg});
  REQUIRE(loaded.ok());
  const Catalog& cat = loaded.catalog;
  // The repo path is resolved in the config repo.
  CHECK(cat.Find(Ref{"blobfile", "/etc/motd"})->GetString("blob") == repo.Real("/files/motd"));

  auto g = Graph::Build(cat, reg);
  REQUIRE(g.ok());
  // The container of a parent directory comes before what edits below it;
  // the bundle before the daemon of its name.
  CHECK(HasEdge(cat, *g, "blobfile[/etc/app]", "tweak[t]"));
  CHECK(HasEdge(cat, *g, "bundle[ntpd]", "daemon[ntpd]"));
  CHECK(g->edges().size() == 2);

  SUBCASE("a repo path outside the config repo is a load error") {
    repo.Write("/bad.yaml",
               "resources:\n  - blobfile: /etc/x\n    blob: " + outside.Real("/secret") + "\n");
    LoadResult bad = LoadManifests({.entry_path = repo.Real("/bad.yaml"), .registry = &reg});
    REQUIRE(bad.errors.size() == 1);
    CHECK(bad.errors[0].message ==
          "blob '" + outside.Real("/secret") + "' is outside the config repo " + repo.path());
  }
  SUBCASE("a content owner and an editing type on one path are two owners") {
    repo.Write("/two.yaml",
               "resources:\n"
               "  - blobfile: /etc/app/conf\n"
               "    body: x\n"
               "  - tweak: t\n"
               "    where: /etc/app/conf\n");
    LoadResult two = LoadManifests({.entry_path = repo.Real("/two.yaml"), .registry = &reg});
    REQUIRE(two.ok());
    auto g2 = Graph::Build(two.catalog, reg);
    REQUIRE_FALSE(g2.ok());
    CHECK(g2.error().message.find("two owners of /etc/app/conf") != std::string::npos);
  }
}
