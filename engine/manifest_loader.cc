// YAML manifests -> Catalog (SPEC 2). See manifest_loader.h for the contract.
//
// Loading runs in phases so that every variable is known before any
// resource is interpolated:
//   1. parse the entry manifest (top-level keys, its `vars`);
//   2. read the `hierarchy` files (paths interpolated with facts, --var and
//      the entry manifest's vars);
//   3. walk `include` depth first (paths and `when` see the variables known
//      so far: --var, hierarchy, and the `vars` of manifests already loaded);
//   4. resolve the variables: for each name the winning definition
//      (--var > first hierarchy file > `vars`); a value may use facts and
//      other variables, interpolated in dependency order;
//   5. build the resources of every manifest, in manifest order (a file's
//      includes come before its own resources when `include` is written
//      before `resources`, after them otherwise; a file is loaded once);
//   6. resolve references.
// Errors are collected in the order found; no phase stops the others except
// when the entry manifest cannot be read or parsed.
//
// The phases live beside this file: manifest_file (reading files and
// values, repo confinement), manifest_vars (variables and hierarchy),
// manifest_includes, manifest_resources (resources and references).
#include "engine/manifest_loader.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>

#include "engine/manifest_file.h"
#include "engine/manifest_includes.h"
#include "engine/manifest_resources.h"
#include "engine/manifest_vars.h"

namespace keel {

LoadResult LoadManifests(const LoadOptions& options) {
  using namespace loader;
  LoadResult out;
  ManifestReader reader(options, out);
  std::string given = options.entry_path.empty() ? std::string("site.yaml") : options.entry_path;
  std::string display = given;
  struct stat st;
  if (::stat(given.c_str(), &st) == 0 && S_ISDIR(st.st_mode))
    display = JoinDisplay(given, "site.yaml");
  out.catalog.entry_path = display;
  std::string canonical = RealPath(display);
  if (canonical.empty()) {
    reader.Fail(SourceLoc{display, 0, 0},
                std::string("cannot read manifest: ") + std::strerror(errno));
    return out;
  }
  // The config repo: every manifest, include and hierarchy file stays in
  // it, symlinks resolved, and nothing outside is read (SPEC 2.5).
  std::string repo = options.repo_dir;
  if (repo.empty()) repo = DirOf(display).empty() ? std::string(".") : DirOf(display);
  std::string repo_real = RealPath(repo);
  if (repo_real.empty() || !IsInside(canonical, repo_real)) {
    reader.Fail(SourceLoc{display, 0, 0},
                "manifest " + display + " resolves to " + canonical + ", outside the config repo " +
                    (repo_real.empty() ? repo : repo_real) + "; not read");
    return out;
  }
  reader.set_repo_dir(repo_real);
  out.catalog.repo_dir = reader.repo_dir();

  Variables vars(reader);
  vars.SetCommandLine(options.cli_vars);
  std::optional<size_t> entry = reader.LoadFile(display, canonical, SourceLoc{display, 0, 0});
  if (!entry || !reader.manifest(0).parsed) return out;
  vars.ReadVars(reader.manifest(0));
  vars.ReadHierarchy(reader.manifest(0));
  Includes includes(reader, vars);
  includes.Walk(0);

  ResourceBuilder builder(reader, vars.BuildContext(/*report=*/true));
  reader.ReleaseDataFiles();  // hierarchy values are in the context now
  std::vector<size_t> order = includes.Order();
  size_t total = 0;
  for (size_t i : order)
    if (reader.manifest(i).parsed) total += reader.manifest(i).resource_entries;
  out.catalog.resources.reserve(total);
  for (size_t i : order) {
    if (!reader.manifest(i).parsed) continue;
    reader.Unpark(i);
    builder.Build(reader.manifest(i));
    // Its nodes are not needed any more: at 100,000 resources, keeping
    // every file's tree until the end would double the peak memory.
    reader.Release(i);
  }
  builder.ResolveRefs();
  return out;
}

}  // namespace keel
