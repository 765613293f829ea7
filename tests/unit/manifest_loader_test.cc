#include "engine/manifest_loader.h"

#include <doctest/doctest.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <string>
#include <vector>

#include "tests/unit/support/temp_root.h"

using namespace keel;
using keel::testing::TempRoot;

namespace doctest {
template <>
struct StringMaker<std::vector<std::string>> {
  static String convert(const std::vector<std::string>& v) {
    std::string s = "{";
    for (const auto& e : v) s += "\n  \"" + e + "\"";
    return String((s + "}").c_str());
  }
};
}  // namespace doctest

namespace {

// Small types of our own, so that these tests do not depend on the real ones.
Registry TestRegistry() {
  Registry reg;
  TypeInfo file;
  file.schema = {.name = "file",
                 .attrs = {{.name = "path", .kind = AttrKind::kAbsPath, .role = AttrRole::kNamevar},
                           {.name = "content"},
                           {.name = "mode", .kind = AttrKind::kMode},
                           {.name = "owner"},
                           {.name = "source"},
                           {.name = "template"},
                           {.name = "ensure", .allowed = {"file", "directory", "absent"}}}};
  file.repo_paths = {"source", "template"};  // as resources/file registers it
  reg.Add(file);
  TypeInfo pkg;
  pkg.schema = {.name = "pkg",
                .attrs = {{.name = "name", .role = AttrRole::kNamevar},
                          {.name = "ensure", .allowed = {"present", "absent", "latest"}},
                          {.name = "version"}}};
  reg.Add(pkg);
  TypeInfo cmd;
  cmd.schema = {.name = "cmd",
                .attrs = {{.name = "name", .role = AttrRole::kNamevar},
                          {.name = "command", .kind = AttrKind::kStringOrList, .required = true},
                          {.name = "timeout", .kind = AttrKind::kInt},
                          {.name = "refreshonly", .kind = AttrKind::kBool},
                          {.name = "env", .kind = AttrKind::kMap},
                          {.name = "args", .kind = AttrKind::kAny}}};
  reg.Add(cmd);
  return reg;
}

const Registry& Reg() {
  static const Registry reg = TestRegistry();
  return reg;
}

Value Facts() {
  return Value(Map{{"hostname", "store01"},
                   {"os", Value(Map{{"family", "RedHat"},
                                    {"release", Value(Map{{"major", "6"}, {"full", "6.10"}})}})}});
}

struct Fixture {
  TempRoot root;
  std::vector<std::pair<std::string, std::string>> cli_vars;
  Value facts = Facts();

  void Write(const std::string& rel, const std::string& text) { root.Write("/" + rel, text); }

  LoadResult Load(const std::string& entry = "site.yaml") {
    LoadOptions o;
    o.entry_path = entry.empty() ? root.path() : root.path() + "/" + entry;
    o.cli_vars = cli_vars;
    o.facts = facts;
    o.registry = &Reg();
    return LoadManifests(o);
  }

  // Error strings with the temporary directory taken out of the paths.
  std::vector<std::string> Errors(const LoadResult& r) const {
    std::vector<std::string> out;
    for (const auto& e : r.errors) out.push_back(Strip(e.str()));
    return out;
  }
  std::string Strip(std::string s) const {
    std::string prefix = root.path() + "/";
    for (size_t p; (p = s.find(prefix)) != std::string::npos;) s.erase(p, prefix.size());
    return s;
  }
  std::vector<std::string> Ids(const LoadResult& r) const {
    std::vector<std::string> ids;
    for (const auto& res : r.catalog.resources) ids.push_back(res.id());
    return ids;
  }
};

using Strings = std::vector<std::string>;

}  // namespace

TEST_CASE_FIXTURE(Fixture, "manifest_loader: resources, attributes, tags, typed interpolation") {
  Write("site.yaml",
        "vars:\n"
        "  port: 623\n"
        "  pkgs: [a, b]\n"
        "  dir: /etc/ipmi\n"
        "resources:\n"
        "  - pkg: OpenIPMI\n"
        "    ensure: present\n"
        "  - file: \"{{ dir }}/ipmi.conf\"\n"
        "    content: |\n"
        "      port={{ port }} host={{ facts.hostname }}\n"
        "    mode: \"0644\"\n"
        "    require: pkg[OpenIPMI]\n"
        "    notify: [\"cmd[reload]\"]\n"
        "    tags: [ipmi, hw]\n"
        "    sensitive: true\n"
        "  - cmd: reload\n"
        "    command: \"{{ pkgs }}\"\n"
        "    timeout: \"{{ port }}\"\n"
        "    env: {PORT: \"{{ port }}\", LIST: [\"x{{ port }}\"]}\n"
        "    args: \"{{ pkgs }}\"\n"
        "    noop: true\n");
  LoadResult r = Load();
  REQUIRE(Errors(r) == Strings{});
  CHECK(Ids(r) == Strings{"pkg[OpenIPMI]", "file[/etc/ipmi/ipmi.conf]", "cmd[reload]"});
  const Resource* f = r.catalog.Find(Ref{"file", "/etc/ipmi/ipmi.conf"});
  REQUIRE(f);
  CHECK(f->GetString("path") == "/etc/ipmi/ipmi.conf");
  CHECK(f->GetString("content") == "port=623 host=store01\n");
  CHECK(f->GetString("mode") == "0644");
  REQUIRE(f->require.size() == 1);
  CHECK(f->require[0].str() == "pkg[OpenIPMI]");
  CHECK(Strip(f->require[0].Loc(f->loc.file()).str()) == "site.yaml:12:14");
  REQUIRE(f->notify.size() == 1);
  CHECK(f->notify[0].str() == "cmd[reload]");
  CHECK(f->tags == Strings{"ipmi", "hw", "file", "site"});
  CHECK(f->sensitive);
  CHECK(!f->noop);
  CHECK(Strip(f->loc.str()) == "site.yaml:8:5");
  CHECK(Strip(f->LocOf("mode").str()) == "site.yaml:11:5");
  CHECK(Strip(f->loc.file()) == "site.yaml");
  const Resource* c = r.catalog.Find(Ref{"cmd", "reload"});
  REQUIRE(c);
  // A lone {{ x }} keeps the type; inside text it becomes a string.
  CHECK(*c->Get("args") == Value(List{"a", "b"}));
  CHECK(*c->Get("command") == Value(List{"a", "b"}));
  CHECK(*c->Get("timeout") == Value(623));
  CHECK(*c->Get("env") == Value(Map{{"PORT", 623}, {"LIST", Value(List{"x623"})}}));
  CHECK(c->noop);
  CHECK(Strip(r.catalog.entry_path) == "site.yaml");
}

TEST_CASE_FIXTURE(Fixture, "manifest_loader: a directory entry means DIR/site.yaml") {
  Write("site.yaml", "resources:\n  - pkg: vim\n");
  LoadResult r = Load("");
  REQUIRE(r.ok());
  CHECK(Ids(r) == Strings{"pkg[vim]"});
  CHECK(Strip(r.catalog.entry_path) == "site.yaml");
  CHECK(r.catalog.repo_dir.find("/keel-test-") != std::string::npos);
}

TEST_CASE_FIXTURE(Fixture, "manifest_loader: a missing entry manifest is an error") {
  LoadResult r = Load("nope.yaml");
  CHECK(Errors(r) == Strings{"nope.yaml: cannot read manifest: No such file or directory"});
}

TEST_CASE_FIXTURE(Fixture, "manifest_loader: YAML syntax error has the place") {
  Write("site.yaml", "resources:\n  - pkg: vim\n    ensure: [present\n");
  LoadResult r = Load();
  REQUIRE(r.errors.size() == 1);
  CHECK(Errors(r)[0].rfind("site.yaml:4:1: YAML syntax error: ", 0) == 0);
}

TEST_CASE_FIXTURE(Fixture, "manifest_loader: unknown top-level key with suggestion") {
  Write("site.yaml", "resource:\n  - pkg: vim\nfoo: 1\n");
  CHECK(Errors(Load()) ==
        Strings{"site.yaml:1:1: unknown top-level key 'resource' (did you mean 'resources'?)",
                "site.yaml:3:1: unknown top-level key 'foo' (expected vars, hierarchy, include or "
                "resources)"});
}

TEST_CASE_FIXTURE(Fixture,
                  "manifest_loader: unknown type, unknown attribute, wrong kind, required") {
  Write("site.yaml",
        "resources:\n"
        "  - fiel: /etc/x\n"
        "  - file: /etc/y\n"
        "    contnet: hi\n"
        "    mode: rwx\n"
        "  - cmd: run\n"
        "    refreshonly: \"yes\"\n"
        "  - pkg: vim\n"
        "    ensure: presnt\n"
        "  - file: relative/path\n");
  CHECK(
      Errors(Load()) ==
      Strings{
          "site.yaml:2:5: unknown resource type 'fiel' (did you mean 'file'?)",
          "site.yaml:4:5: unknown attribute 'contnet' for type file (did you mean 'content'?)",
          "site.yaml:5:5: attribute 'mode' expects a mode of 3-4 octal digits like \"0644\", got "
          "'rwx'",
          "site.yaml:7:5: attribute 'refreshonly' expects bool, got string 'yes'",
          "site.yaml:6:5: missing required attribute 'command' for type cmd",
          "site.yaml:9:5: attribute 'ensure' must be one of present, absent, latest, got 'presnt' "
          "(did you mean 'present'?)",
          "site.yaml:10:5: attribute 'path' expects an absolute path, got 'relative/path'",
      });
}

TEST_CASE_FIXTURE(Fixture, "manifest_loader: metaparameter kinds and malformed references") {
  Write("site.yaml",
        "resources:\n"
        "  - pkg: a\n"
        "    noop: yes\n"
        "    require: [\"pkg[b]\", \"pkg b\"]\n"
        "    before: 3\n"
        "  - pkg: b\n"
        "  - pkg\n");
  CHECK(Errors(Load()) == Strings{
                              "site.yaml:3:11: 'noop' expects true or false, got string 'yes'",
                              "site.yaml:4:25: malformed reference 'pkg b' in require (expected "
                              "type[title])",
                              "site.yaml:5:13: 'before' expects a reference type[title] or a list "
                              "of them, got integer",
                              "site.yaml:7:5: a resource must be a map whose first key is its type",
                          });
}

TEST_CASE_FIXTURE(Fixture, "manifest_loader: duplicates name both places") {
  Write("site.yaml",
        "include: [more.yaml]\n"
        "resources:\n"
        "  - file: /etc/x\n"
        "  - file: other\n"
        "    path: /etc/x\n");
  Write("more.yaml", "resources:\n  - file: /etc/x\n    content: a\n");
  LoadResult r = Load();
  CHECK(Errors(r) == Strings{
                         "site.yaml:3:5: duplicate resource file[/etc/x]: also declared at "
                         "more.yaml:2:5",
                         "site.yaml:4:5: duplicate resource file[other]: same path '/etc/x' as "
                         "file[/etc/x] declared at more.yaml:2:5",
                     });
  CHECK(Ids(r) == Strings{"file[/etc/x]"});
}

TEST_CASE_FIXTURE(Fixture, "manifest_loader: unknown references are errors at the place written") {
  Write("site.yaml",
        "resources:\n"
        "  - pkg: a\n"
        "    require:\n"
        "      - pkg[b]\n"
        "      - pkg[zzz]\n"
        "      - pkg[ngnix]\n"
        "    notify: fil[x]\n"
        "  - pkg: b\n"
        "  - pkg: nginx\n");
  CHECK(Errors(Load()) ==
        Strings{"site.yaml:5:9: unknown reference pkg[zzz] in require",
                "site.yaml:6:9: unknown reference pkg[ngnix] in require (did you mean pkg[nginx]?)",
                "site.yaml:7:13: unknown reference fil[x] in notify: no resource type 'fil' (did "
                "you mean 'file'?)"});
}

TEST_CASE_FIXTURE(Fixture, "manifest_loader: expression and interpolation errors have columns") {
  Write("site.yaml",
        "vars:\n"
        "  known: 1\n"
        "resources:\n"
        "  - file: /etc/a\n"
        "    content: port {{ nope }}\n"
        "  - file: /etc/b\n"
        "    content: \"x {{ nope2 }}\"\n"
        "  - file: /etc/c\n"
        "    content: |\n"
        "      line one\n"
        "      two {{ known }} {{ nope3 }}\n"
        "  - pkg: d\n"
        "    when: known ==\n");
  LoadResult r = Load();
  // Columns point at the offending part: plain, quoted and literal-block scalars.
  CHECK(Errors(r) == Strings{"site.yaml:5:22: undefined variable 'nope'",
                             "site.yaml:7:20: undefined variable 'nope2'",
                             "site.yaml:11:26: undefined variable 'nope3'",
                             "site.yaml:13:19: expected a value at the end of the expression"});
  // Still declared, so references to it do not add errors of their own.
  CHECK(r.catalog.Find(Ref{"file", "/etc/a"}) != nullptr);
}

TEST_CASE_FIXTURE(Fixture, "manifest_loader: when drops resources; references to them say so") {
  Write("site.yaml",
        "resources:\n"
        "  - pkg: rh\n"
        "    when: facts.os.family == \"RedHat\" and facts.os.release.full > \"6.4\"\n"
        "  - pkg: deb\n"
        "    when: facts.os.family == \"Debian\"\n"
        "    version: \"{{ facts.debian_only }}\"\n"
        "    verison: 1\n"
        "  - pkg: off\n"
        "    when: false\n"
        "  - pkg: user\n"
        "    require: pkg[deb]\n");
  LoadResult r = Load();
  CHECK(Ids(r) == Strings{"pkg[rh]", "pkg[user]"});
  CHECK(Errors(r) == Strings{
                         "site.yaml:7:5: unknown attribute 'verison' for type pkg (did you mean "
                         "'version'?)",
                         "site.yaml:11:14: require pkg[deb]: that resource is not declared because "
                         "its 'when' is false (site.yaml:4:5)",
                     });
}

TEST_CASE_FIXTURE(Fixture, "manifest_loader: two alternatives by when do not collide") {
  Write("site.yaml",
        "resources:\n"
        "  - file: /etc/motd\n"
        "    content: rh\n"
        "    when: facts.os.family == \"RedHat\"\n"
        "  - file: /etc/motd\n"
        "    content: other\n"
        "    when: facts.os.family != \"RedHat\"\n");
  LoadResult r = Load();
  REQUIRE(r.ok());
  REQUIRE(r.catalog.resources.size() == 1);
  CHECK(r.catalog.resources[0].GetString("content") == "rh");
}

TEST_CASE_FIXTURE(Fixture, "manifest_loader: include cycle names the chain") {
  Write("site.yaml", "include: [a.yaml]\n");
  Write("a.yaml", "include:\n  - sub/b.yaml\n");
  Write("sub/b.yaml", "include:\n  - ../a.yaml\nresources:\n  - pkg: b\n");
  LoadResult r = Load();
  CHECK(Errors(r) == Strings{"sub/b.yaml:2:5: include cycle: a.yaml -> sub/b.yaml -> a.yaml"});
}

TEST_CASE_FIXTURE(Fixture, "manifest_loader: includes: globs by name, when, order, missing") {
  Write("site.yaml",
        "resources:\n"
        "  - pkg: site-first\n"
        "include:\n"
        "  - mods/*.yaml\n"
        "  - path: roles/store.yaml\n"
        "    when: facts.hostname =~ \"^store\"\n"
        "  - path: roles/web.yaml\n"
        "    when: facts.hostname =~ \"^web\"\n"
        "  - nothing/*.yaml\n");
  Write("mods/b.yaml", "resources:\n  - pkg: b\n");
  Write("mods/a.yaml", "include: [../common.yaml]\nresources:\n  - pkg: a\n");
  Write("mods/C.yaml", "resources:\n  - pkg: C\n");
  Write("mods/skip.txt", "resources:\n  - pkg: txt\n");
  Write("common.yaml", "resources:\n  - pkg: common\n");
  Write("roles/store.yaml", "include: [../common.yaml]\nresources:\n  - pkg: store\n");
  Write("roles/web.yaml", "resources:\n  - pkg: web\n");
  LoadResult r = Load();
  REQUIRE(Errors(r) == Strings{});
  // `resources` written before `include`: the file's own resources first;
  // an include written first: the included resources first. A file included
  // twice is loaded once.
  CHECK(Ids(r) ==
        Strings{"pkg[site-first]", "pkg[C]", "pkg[common]", "pkg[a]", "pkg[b]", "pkg[store]"});
  const Resource* a = r.catalog.Find(Ref{"pkg", "a"});
  REQUIRE(a);
  CHECK(Strip(a->loc.file()) == "mods/a.yaml");
  CHECK(a->tags == Strings{"pkg", "a"});
  REQUIRE(r.catalog.warnings.size() == 1);
  CHECK(Strip(r.catalog.warnings[0]) == "site.yaml:9:5: include 'nothing/*.yaml' matches no file");

  Write("site.yaml", "include:\n  - mods/a.yaml\n  - missing.yaml\n");
  CHECK(Errors(Load()) == Strings{"site.yaml:3:5: included manifest missing.yaml not found"});
}

TEST_CASE_FIXTURE(Fixture, "manifest_loader: variable precedence --var > hierarchy > vars") {
  Write("site.yaml",
        "hierarchy:\n"
        "  - data/nodes/{{ facts.hostname }}.yaml\n"
        "  - data/os/{{ facts.os.family }}-{{ facts.os.release.major }}.yaml\n"
        "  - data/absent.yaml\n"
        "  - data/common.yaml\n"
        "vars:\n"
        "  a: vars\n"
        "  b: vars\n"
        "  c: vars\n"
        "  d: vars\n"
        "  e: vars\n"
        "include: [mod.yaml]\n"
        "resources:\n"
        "  - pkg: p\n"
        "    version: \"{{ a }} {{ b }} {{ c }} {{ d }} {{ e }} {{ f }}\"\n");
  Write("mod.yaml", "vars:\n  f: mod\n  e: vars\n");
  Write("data/nodes/store01.yaml", "b: node\nc: node\n");
  Write("data/os/RedHat-6.yaml", "c: os\nd: \"os-{{ facts.os.release.full }}\"\n");
  Write("data/common.yaml", "d: common\n");
  cli_vars = {{"a", "cli"}, {"n", "42"}, {"s", "'42'"}};
  LoadResult r = Load();
  REQUIRE(Errors(r) == Strings{});
  const Resource* p = r.catalog.Find(Ref{"pkg", "p"});
  REQUIRE(p);
  CHECK(p->GetString("version") == "cli node node os-6.10 vars mod");

  // --var values are typed as YAML scalars.
  Write("site.yaml",
        "resources:\n  - cmd: x\n    command: c\n    args: [\"{{ n }}\", \"{{ s }}\"]\n");
  r = Load();
  REQUIRE(r.ok());
  CHECK(*r.catalog.resources[0].Get("args") == Value(List{42, "42"}));
}

TEST_CASE_FIXTURE(Fixture, "manifest_loader: conflicting vars and misplaced hierarchy") {
  Write("site.yaml", "include: [a.yaml]\nvars:\n  port: 1\n  same: x\n");
  Write("a.yaml", "hierarchy: [x.yaml]\nvars:\n  same: x\n  port: 2\n");
  CHECK(Errors(Load()) ==
        Strings{"a.yaml:1:1: 'hierarchy' is only allowed in the entry manifest",
                "a.yaml:4:3: variable 'port' is set to 2 here but to 1 at site.yaml:3:3"});
}

TEST_CASE_FIXTURE(Fixture, "manifest_loader: undefined variable in vars has the place") {
  Write("site.yaml", "vars:\n  x: \"{{ y }}\"\n");
  CHECK(Errors(Load()) == Strings{"site.yaml:2:10: undefined variable 'y'"});
}

TEST_CASE_FIXTURE(Fixture, "manifest_loader: source and template stay inside the repo") {
  Write("repo/site.yaml",
        "include: [mods/m.yaml]\n"
        "resources:\n"
        "  - file: /etc/a\n"
        "    source: files/a.conf\n");
  Write("repo/files/a.conf", "a\n");
  Write("repo/mods/t.tmpl", "t\n");
  Write("outside.conf", "secret\n");
  root.Symlink("/repo/files/link.conf", root.path() + "/outside.conf");
  Write("repo/mods/m.yaml",
        "resources:\n"
        "  - file: /etc/b\n"
        "    template: t.tmpl\n"
        "  - file: /etc/c\n"
        "    source: ../../outside.conf\n"
        "  - file: /etc/d\n"
        "    source: ../files/link.conf\n"
        "  - file: /etc/e\n"
        "    source: ../files/missing.conf\n");
  LoadResult r = Load("repo");
  std::string repo = root.path() + "/repo";
  CHECK(r.catalog.repo_dir == repo);
  CHECK(Errors(r) ==
        Strings{"repo/mods/m.yaml:5:5: source '../../outside.conf' is outside the config repo repo",
                "repo/mods/m.yaml:7:5: source '../files/link.conf' resolves to outside.conf, "
                "outside the config repo repo",
                "repo/mods/m.yaml:9:5: source '../files/missing.conf' not found "
                "(repo/files/missing.conf)"});
  const Resource* a = r.catalog.Find(Ref{"file", "/etc/a"});
  REQUIRE(a);
  CHECK(a->GetString("source") == repo + "/files/a.conf");
  const Resource* b = r.catalog.Find(Ref{"file", "/etc/b"});
  REQUIRE(b);
  CHECK(b->GetString("template") == repo + "/mods/t.tmpl");
}

TEST_CASE_FIXTURE(Fixture, "manifest_loader: every error of a run is reported, in order") {
  Write("site.yaml",
        "include: [b.yaml]\n"
        "resources:\n"
        "  - pkg: a\n"
        "    ensur: present\n"
        "  - pkg: a\n");
  Write("b.yaml", "resources:\n  - nope: x\n  - pkg: b\n    require: pkg[c]\n");
  CHECK(Errors(Load()) ==
        Strings{"b.yaml:2:5: unknown resource type 'nope'",
                "site.yaml:4:5: unknown attribute 'ensur' for type pkg (did you mean 'ensure'?)",
                "site.yaml:5:5: duplicate resource pkg[a]: also declared at site.yaml:3:5",
                "b.yaml:4:14: unknown reference pkg[c] in require"});
}

TEST_CASE_FIXTURE(Fixture, "manifest_loader: malformed sections and reserved names") {
  Write("site.yaml",
        "vars: [1]\n"
        "vars:\n  x: 1\n"
        "include:\n"
        "  - path: a.yaml\n"
        "    wen: true\n"
        "  - {when: true}\n"
        "  - path: \"{{ nope }}.yaml\"\n"
        "  - path: a.yaml\n"
        "    when: \"{{ nope2 }}\"\n"
        "resources: {pkg: a}\n");
  Write("a.yaml", "vars:\n  facts: 1\nresources:\n  -\n  - pkg: [a]\n  - pkg:\n");
  CHECK(Errors(Load()) ==
        Strings{"site.yaml:2:1: duplicate top-level key 'vars'",
                "site.yaml:1:7: 'vars' must be a map of variable names to values",
                "site.yaml:6:5: unknown key 'wen' in include (expected path, when)",
                "a.yaml:2:3: 'facts' is reserved for the fact map and cannot be set in vars",
                "site.yaml:7:5: include entry has no 'path'",
                "site.yaml:8:15: undefined variable 'nope'",
                "site.yaml:10:15: undefined variable 'nope2'",
                "a.yaml:4:4: a resource must be a map whose first key is its type",
                "a.yaml:5:10: the title of a pkg must be a string",
                "a.yaml:6:5: resource pkg has no title",
                "site.yaml:11:12: 'resources' must be a list"});
}

TEST_CASE_FIXTURE(Fixture, "manifest_loader: when as a bool, a {{ }} value, or a bad value") {
  Write("site.yaml",
        "vars:\n  on: true\n"
        "resources:\n"
        "  - pkg: a\n    when: true\n"
        "  - pkg: b\n    when: \"{{ on }}\"\n"
        "  - pkg: c\n    when: [x]\n"
        "  - pkg: d\n    when: 0\n");
  LoadResult r = Load();
  CHECK(Errors(r) ==
        Strings{"site.yaml:9:11: 'when' expects an expression or true/false",
                "site.yaml:11:11: 'when' must be true or false, got integer 0 (compare it: x == "
                "\"yes\", x != 0, x in [...])"});
  CHECK(Ids(r) == Strings{"pkg[a]", "pkg[b]"});
}

TEST_CASE_FIXTURE(Fixture, "manifest_loader: references may be interpolated and listed") {
  Write("site.yaml",
        "vars:\n  deps: [\"pkg[a]\", \"pkg[b]\"]\n  name: a\n"
        "resources:\n"
        "  - pkg: a\n  - pkg: b\n"
        "  - pkg: c\n    require: \"{{ deps }}\"\n    before: pkg[{{ name }}]\n"
        "    subscribe:\n      - pkg[b]\n");
  LoadResult r = Load();
  REQUIRE(Errors(r) == Strings{});
  const Resource* c = r.catalog.Find(Ref{"pkg", "c"});
  REQUIRE(c);
  REQUIRE(c->require.size() == 2);
  CHECK(c->require[1].str() == "pkg[b]");
  REQUIRE(c->before.size() == 1);
  CHECK(c->before[0].str() == "pkg[a]");
  REQUIRE(c->subscribe.size() == 1);
  CHECK(Strip(c->subscribe[0].Loc(c->loc.file()).str()) == "site.yaml:11:9");
}

TEST_CASE_FIXTURE(Fixture, "manifest_loader: YAML merge keys share attributes") {
  Write("site.yaml",
        "vars:\n"
        "  defaults: &conf {mode: \"0600\", owner: root}\n"
        "  envs: &env {A: \"1\"}\n"
        "resources:\n"
        "  - file: /etc/a\n"
        "    <<: *conf\n"
        "    owner: app\n"
        "  - cmd: c\n"
        "    command: run\n"
        "    env: {<<: *env, B: \"2\"}\n"
        "  - file: /etc/b\n"
        "    <<: [*conf, {ownr: x}]\n");
  LoadResult r = Load();
  CHECK(Errors(r) ==
        Strings{"site.yaml:12:18: unknown attribute 'ownr' for type file (did you mean 'owner'?)"});
  const Resource* a = r.catalog.Find(Ref{"file", "/etc/a"});
  REQUIRE(a);
  CHECK(a->GetString("mode") == "0600");
  CHECK(a->GetString("owner") == "app");
  const Resource* c = r.catalog.Find(Ref{"cmd", "c"});
  REQUIRE(c);
  CHECK(*c->Get("env") == Value(Map{{"B", "2"}, {"A", "1"}}));
}

TEST_CASE_FIXTURE(Fixture, "manifest_loader: variables may use other variables, in any order") {
  Write("site.yaml",
        "hierarchy: [data.yaml]\n"
        "vars:\n"
        "  conf: \"{{ dir }}/app.conf\"\n"
        "  dir: \"{{ prefix }}/etc\"\n"
        "  prefix: /usr\n"
        "  ports: [\"{{ port }}\", 2]\n"
        "  port: 1\n"
        "resources:\n"
        "  - file: \"{{ conf }}\"\n"
        "    content: \"{{ ports }} {{ greeting }}\"\n");
  Write("data.yaml", "greeting: \"hi {{ facts.hostname }} {{ prefix }}\"\n");
  cli_vars = {{"prefix", "/opt"}};
  LoadResult r = Load();
  REQUIRE(Errors(r) == Strings{});
  CHECK(Ids(r) == Strings{"file[/opt/etc/app.conf]"});
  CHECK(r.catalog.resources[0].GetString("content") == "[1, 2] hi store01 /opt");

  Write("site.yaml",
        "vars:\n  a: \"{{ b }}\"\n  b: \"x{{ a }}\"\n  c: \"{{ nope }}\"\n  d: \"{{ a }}\"\n");
  CHECK(Errors(Load()) == Strings{"site.yaml:2:3: variable 'a' cannot be resolved: its value "
                                  "depends on itself (a -> b -> a)",
                                  "site.yaml:3:3: variable 'b' cannot be resolved: its value "
                                  "depends on itself (a -> b -> a)",
                                  "site.yaml:4:10: undefined variable 'nope'",
                                  "site.yaml:5:3: variable 'd' cannot be resolved: it uses 'a', "
                                  "which cannot be resolved"});
}

TEST_CASE_FIXTURE(Fixture, "manifest_loader: malformed input gives errors, never a crash") {
  const std::vector<std::string> bad = {
      std::string("\x00\xff\xfe garbage \x01", 13),  // the literal's 13 bytes, NUL included
      "resources:\n  - pkg: a\n    version: &x [*x]\n",
      std::string(5000, '[') + "\n",
      "a: &a [*a, *a]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n",
      "resources:\n  - ? [a, b]\n    : c\n",
      "resources:\n  - pkg: a\n    ? {x: 1}\n    : 2\n",
      "include: [\"/\"]\n",
      "include: [\"{{ facts }}\"]\n",
      "hierarchy: [\"{{ facts }}\", 3, [x]]\n",
      "vars:\n  v: &l [1, *l]\nresources:\n  - pkg: \"{{ v }}\"\n",
      "resources:\n  - pkg: a\n    require: \"[]\"\n    before: [[x]]\n    tags: {a: 1}\n",
      "--- \n...\n",
      "resources:\n  - pkg: \"{{\"\n",
  };
  for (const auto& text : bad) {
    CAPTURE(text.substr(0, 60));
    Write("site.yaml", text);
    LoadResult r = Load();
    for (const auto& e : r.errors) CHECK(!e.message.empty());
  }
  // A bomb of aliases is cut off, not expanded.
  std::string bomb = "vars:\n  l0: &l0 [x, x, x, x, x, x, x, x, x, x]\n";
  for (int i = 1; i < 9; ++i)
    bomb += "  l" + std::to_string(i) + ": &l" + std::to_string(i) + " [*l" +
            std::to_string(i - 1) + ", *l" + std::to_string(i - 1) + ", *l" +
            std::to_string(i - 1) + ", *l" + std::to_string(i - 1) + ", *l" +
            std::to_string(i - 1) + ", *l" + std::to_string(i - 1) + "]\n";
  Write("site.yaml", bomb);
  auto t0 = std::chrono::steady_clock::now();
  LoadResult r = Load();
  CHECK(Errors(r) == Strings{"site.yaml:9:7: value too large or nested too deeply (more than "
                             "1000000 nodes or 512 levels once aliases are expanded)",
                             "site.yaml:10:7: value too large or nested too deeply (more than "
                             "1000000 nodes or 512 levels once aliases are expanded)"});
  // A hang guard, not a benchmark: expanding the bomb would take hours
  // (cutting it off takes ~1 s optimised, ~30 s in the -O0 sanitizer build).
  CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(400));
}

// A timing harness: 10,000 resources over 10 files with includes, vars,
// interpolation and requires. Run with:
//   keel_unit -tc='manifest_loader bench*' --no-skip
TEST_CASE_FIXTURE(Fixture, "manifest_loader bench: 10k resources" * doctest::skip()) {
  const int files = 10, per_file = 1000;
  std::string site = "vars:\n  base: /etc/bench\n  owner: root\ninclude:\n  - mods/*.yaml\n";
  Write("site.yaml", site);
  for (int f = 0; f < files; ++f) {
    std::string text = "resources:\n";
    for (int i = 0; i < per_file; ++i) {
      int n = f * per_file + i;
      text += "  - file: \"{{ base }}/f" + std::to_string(n) + ".conf\"\n";
      text += "    content: \"key_" + std::to_string(n) + " = {{ facts.hostname }}\\n\"\n";
      text += "    mode: \"0644\"\n    owner: \"{{ owner }}\"\n";
      if (i > 0) text += "    require: file[/etc/bench/f" + std::to_string(n - 1) + ".conf]\n";
    }
    char name[32];
    std::snprintf(name, sizeof name, "mods/m%02d.yaml", f);
    Write(name, text);
  }
  // CPU time as well as wall time: the build machine is shared.
  std::clock_t c0 = std::clock();
  auto t0 = std::chrono::steady_clock::now();
  LoadResult r = Load();
  double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  double cpu = static_cast<double>(std::clock() - c0) / CLOCKS_PER_SEC;
  REQUIRE(r.ok());
  CHECK(r.catalog.resources.size() == static_cast<size_t>(files * per_file));
  MESSAGE("loaded " << r.catalog.resources.size() << " resources in " << s << " s wall, " << cpu
                    << " s cpu");
  CHECK(cpu < 1.0);
}

TEST_CASE_FIXTURE(Fixture, "manifest_loader: issue 11: truncated quotes, deep includes, when") {
  // An unterminated quoted scalar would swallow the rest of the file.
  Write("site.yaml", "resources:\n  - file: /etc/t\n    content: \"abc\n    mode: [\n");
  CHECK(Errors(Load()) ==
        Strings{"site.yaml:3:14: unterminated double-quoted string: no closing \" before the end "
                "of the file (a truncated manifest?)"});
  Write("site.yaml", "resources:\n  - file: /etc/t\n    content: 'it''s\n    mode: \"0600\"\n");
  CHECK(Errors(Load()) ==
        Strings{"site.yaml:3:14: unterminated single-quoted string: no closing ' before the end "
                "of the file (a truncated manifest?)"});
  Write("site.yaml",
        "resources:\n  - file: /etc/t\n    content: \"a \\\" b\n      c\"\n    owner: 'it''s'\n");
  CHECK(Errors(Load()) == Strings{});

  // A chain of includes deeper than 100: one error naming the chain.
  for (int i = 0; i < 150; ++i)
    Write("d" + std::to_string(i) + ".yaml", "include:\n  - d" + std::to_string(i + 1) + ".yaml\n");
  Write("d150.yaml", "resources: []\n");
  Write("site.yaml", "include:\n  - d0.yaml\n");
  Strings errs = Errors(Load());
  REQUIRE(errs.size() == 1);
  CHECK(errs[0].find("d98.yaml:2:5: includes nested more than 100 deep: site.yaml -> d0.yaml -> "
                     "d1.yaml -> ... (94 more) -> d96.yaml -> d97.yaml -> d98.yaml -> d99.yaml") ==
        0);

  // `when` must be a boolean; "no", "false", "0" and 1 are errors.
  for (const char* v : {"no", "\"false\"", "\"0\"", "1"}) {
    Write("site.yaml", std::string("vars:\n  img: ") + v +
                           "\nresources:\n  - pkg: a\n    when: img\n  - pkg: b\n    when: "
                           "img == 1 or img in [\"no\", \"false\", \"0\"]\n");
    LoadResult r = Load();
    REQUIRE(Errors(r).size() == 1);
    CHECK(Errors(r)[0].find("site.yaml:5:11: 'when' must be true or false, got ") == 0);
    CHECK(Ids(r) == Strings{"pkg[b]"});  // a comparison says what is meant
  }
}

TEST_CASE_FIXTURE(Fixture, "manifest_loader: 20,000 chained variables resolve in linear time") {
  std::string text = "vars:\n";
  const int n = 20000;
  for (int i = 0; i < n; ++i)
    text += "  v" + std::to_string(i) + ": \"{{ v" + std::to_string(i + 1) + " }}\"\n";
  text += "  v" + std::to_string(n) + ": end\nresources:\n  - pkg: \"{{ v0 }}\"\n";
  Write("site.yaml", text);
  auto start = std::chrono::steady_clock::now();
  LoadResult r = Load();
  auto took = std::chrono::steady_clock::now() - start;
  CHECK(Errors(r) == Strings{});
  CHECK(Ids(r) == Strings{"pkg[end]"});
  MESSAGE("20,000 chained variables: "
          << std::chrono::duration_cast<std::chrono::milliseconds>(took).count() << " ms");
  CHECK(took < std::chrono::seconds(120));  // hang guard (quadratic: minutes)
}

// Past ManifestReader::kKeepParsed bytes of manifests, included manifests
// without vars are parked (nodes freed) and parsed again for their
// resources: the catalog, its places and its errors are the same.
TEST_CASE_FIXTURE(Fixture,
                  "manifest_loader: a repository past the parsed-memory bound loads the same") {
  const std::string pad = "# " + std::string(1 << 20, 'x') + "\n";  // 1 MiB a module
  Write("site.yaml", "include:\n  - mods/*.yaml\nresources:\n  - pkg: first\n");
  auto modules = [&](bool bad) {
    for (int k = 0; k < 6; ++k) {
      std::string text = pad;
      if (k == 4) text += "vars:\n  late: /late\n";  // kept parsed: its vars point at its nodes
      text += "resources:\n";
      for (int i = 0; i < 3; ++i)
        text += "  - file: /m" + std::to_string(k) + "/f" + std::to_string(i) +
                "\n    content: \"{{ late }} " + std::to_string(i) + "\"\n    mode: \"0644\"\n";
      if (k == 5 && bad) text += "  - file: /bad\n    mode: \"9z\"\n";
      Write("mods/m" + std::to_string(k) + ".yaml", text);
    }
  };
  modules(false);
  LoadResult r = Load();
  REQUIRE(Errors(r) == Strings{});
  CHECK(r.reparsed == 2);  // m3 crosses the bound; m4 has vars; m5 is after it
  Strings want;
  for (int k = 0; k < 6; ++k)
    for (int i = 0; i < 3; ++i)
      want.push_back("file[/m" + std::to_string(k) + "/f" + std::to_string(i) + "]");
  want.push_back("pkg[first]");  // include is written before resources
  CHECK(Ids(r) == want);
  const Resource* f = r.catalog.Find(Ref{"file", "/m5/f2"});
  REQUIRE(f);
  CHECK(f->Get("content")->ToString() == "/late 2");
  CHECK(Strip(f->LocOf("mode").str()) == "mods/m5.yaml:11:5");
  // An error in a parked manifest is placed as written.
  modules(true);
  r = Load();
  CHECK(r.reparsed == 2);
  CHECK(Errors(r) == Strings{"mods/m5.yaml:13:5: attribute 'mode' expects a mode of 3-4 octal "
                             "digits like \"0644\", got '9z'"});
}
