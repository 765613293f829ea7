// The transaction over FAKE resource types defined here (no real type):
// order, failure propagation, refresh once, owed refreshes across runs,
// flush placement, dry run through the overlay, redaction, verify, --jobs.
#include "engine/transaction.h"

#include <doctest/doctest.h>

#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "engine/host_real.h"
#include "engine/state.h"
#include "tests/unit/support/temp_root.h"

using namespace keel;
using keel::testing::TempRoot;

namespace {

// What the fake providers saw, in order.
struct Events {
  std::mutex mu;
  std::vector<std::string> log;
  std::map<std::string, int> refreshes;  // title -> count
  int flushes = 0;
  std::vector<size_t> flush_sizes;
  std::vector<bool> apply_dry_run;
  std::multiset<std::string> in_flight;  // kv paths being applied
  int max_in_flight = 0;
  bool same_path_overlap = false;
  int apply_sleep_ms = 0;
  StateDir* probe_state = nullptr;  // read by probe[...] Read
  std::vector<std::string> probe_saw;

  void Add(std::string e) {
    std::lock_guard<std::mutex> lock(mu);
    log.push_back(std::move(e));
  }
  size_t Pos(const std::string& e) {
    std::lock_guard<std::mutex> lock(mu);
    for (size_t i = 0; i < log.size(); ++i)
      if (log[i] == e) return i;
    return SIZE_MAX;
  }
  void Reset() {
    std::lock_guard<std::mutex> lock(mu);
    log.clear();
    refreshes.clear();
    flushes = 0;
    flush_sizes.clear();
    apply_dry_run.clear();
    probe_saw.clear();
    in_flight.clear();
    max_in_flight = 0;
    same_path_overlap = false;
    apply_sleep_ms = 0;
  }
};
Events g_events;

HostPath KvPath(const Resource& r) {
  return *HostPath::Parse(r.GetString("path", "/kv/" + r.GetString("name")));
}

// kv: a value stored in a file through the Host. `fail` makes Apply fail,
// `broken` makes Apply do nothing (verify catches it), `fail_read` Read.
class KvProvider : public Provider {
 public:
  Result<Observation> Read(const Resource& want, Host& host, RunContext&) override {
    g_events.Add("read " + want.id());
    if (want.GetBool("fail_read", false)) return MakeError(ErrorCode::kIo, "cannot read kv");
    auto content = host.ReadFile(KvPath(want));
    if (!content.ok()) return content.error();
    Observation have;
    have.Set("ensure", Value(*content ? "present" : "absent"));
    have.Set("value", *content ? Value(**content) : Value());
    return have;
  }
  std::vector<Change> Diff(const Resource& want, const Observation& have, RunContext&) override {
    std::vector<Change> out = AttrDiff(want, have);
    for (auto& c : out)
      if (c.attr == "value")
        c.detail = "-" + (c.from ? c.from->ToString() : "") + "\n+" + c.to->ToString() + "\n";
    return out;
  }
  Result<void> Apply(const Resource& want, const Observation&, std::span<const Change> changes,
                     Host& host, RunContext&, Outcome& out) override {
    g_events.Add("apply " + want.id());
    std::string key = KvPath(want).str();
    int sleep_ms;
    {
      std::lock_guard<std::mutex> lock(g_events.mu);
      g_events.apply_dry_run.push_back(host.dry_run());
      if (g_events.in_flight.count(key)) g_events.same_path_overlap = true;
      g_events.in_flight.insert(key);
      g_events.max_in_flight =
          std::max(g_events.max_in_flight, static_cast<int>(g_events.in_flight.size()));
      sleep_ms = g_events.apply_sleep_ms;
    }
    if (sleep_ms) std::this_thread::sleep_for(std::chrono::milliseconds(sleep_ms));
    {
      std::lock_guard<std::mutex> lock(g_events.mu);
      g_events.in_flight.erase(g_events.in_flight.find(key));
    }
    out.output = "output of " + want.title();
    if (want.GetBool("fail", false)) return MakeError(ErrorCode::kCommand, "boom");
    if (want.GetBool("broken", false)) return {};
    bool absent = want.GetString("ensure", "present") == "absent";
    (void)changes;
    if (absent) return host.Remove(KvPath(want), false);
    KEEL_TRY(MakeParents(host, KvPath(want)));
    return host.WriteFileAtomic(KvPath(want), want.GetString("value"), {});
  }
  Result<void> Refresh(const Resource& want, Host&, RunContext&, Outcome&) override {
    std::lock_guard<std::mutex> lock(g_events.mu);
    g_events.log.push_back("refresh " + want.id());
    g_events.refreshes[want.title()]++;
    return {};
  }
};

// flushy: Apply queues, Flush writes every queued value (counts calls).
class FlushyProvider : public KvProvider {
 public:
  Result<void> Apply(const Resource& want, const Observation&, std::span<const Change>, Host&,
                     RunContext&, Outcome&) override {
    g_events.Add("apply " + want.id());
    queued_.push_back(&want);
    return {};
  }
  Result<void> Flush(std::span<const Resource* const> changed, Host& host, RunContext&) override {
    {
      std::lock_guard<std::mutex> lock(g_events.mu);
      g_events.log.push_back("flush");
      g_events.flushes++;
      g_events.flush_sizes.push_back(changed.size());
    }
    for (const Resource* r : changed) {
      if (r->GetBool("fail_flush", false)) return MakeError(ErrorCode::kCommand, "flush broke");
      KEEL_TRY(MakeParents(host, KvPath(*r)));
      KEEL_TRY(host.WriteFileAtomic(KvPath(*r), r->GetString("value"), {}));
    }
    queued_.clear();
    return {};
  }
  bool VerifyAfterApply() const override { return false; }

 private:
  std::vector<const Resource*> queued_;
};

// svc: never differs; counts refreshes; `fail` makes Read fail.
class SvcProvider : public Provider {
 public:
  Result<Observation> Read(const Resource& want, Host&, RunContext&) override {
    g_events.Add("read " + want.id());
    if (want.GetBool("fail", false)) return MakeError(ErrorCode::kIo, "svc is broken");
    return Observation{};
  }
  Result<void> Apply(const Resource&, const Observation&, std::span<const Change>, Host&,
                     RunContext&, Outcome&) override {
    return {};
  }
  Result<void> Refresh(const Resource& want, Host&, RunContext&, Outcome& out) override {
    std::lock_guard<std::mutex> lock(g_events.mu);
    g_events.log.push_back("refresh " + want.id());
    g_events.refreshes[want.title()]++;
    out.message = "restarted";
    return {};
  }
};

// probe: records the owed refreshes in the state dir when it is read.
class ProbeProvider : public Provider {
 public:
  Result<Observation> Read(const Resource&, Host&, RunContext&) override {
    if (g_events.probe_state) g_events.probe_saw = g_events.probe_state->OwedRefreshes().value();
    return Observation{};
  }
  Result<void> Apply(const Resource&, const Observation&, std::span<const Change>, Host&,
                     RunContext&, Outcome&) override {
    return {};
  }
};

std::vector<std::string> KvPaths(const Resource& r) { return {KvPath(r).str()}; }

Registry FakeRegistry() {
  Registry reg;
  std::vector<AttrSpec> kv_attrs = {
      {.name = "name", .role = AttrRole::kNamevar},
      {.name = "value"},
      {.name = "ensure", .allowed = {"present", "absent"}},
      {.name = "path", .kind = AttrKind::kAbsPath, .role = AttrRole::kParameter},
      {.name = "fail", .kind = AttrKind::kBool, .role = AttrRole::kParameter},
      {.name = "fail_read", .kind = AttrKind::kBool, .role = AttrRole::kParameter},
      {.name = "fail_flush", .kind = AttrKind::kBool, .role = AttrRole::kParameter},
      {.name = "broken", .kind = AttrKind::kBool, .role = AttrRole::kParameter},
  };
  reg.Add(TypeInfo{.schema = {.name = "kv", .doc = "fake kv", .attrs = kv_attrs},
                   .make_provider = [] { return std::make_unique<KvProvider>(); },
                   .paths = KvPaths});
  reg.Add(TypeInfo{.schema = {.name = "flushy", .doc = "fake flushy", .attrs = kv_attrs},
                   .make_provider = [] { return std::make_unique<FlushyProvider>(); },
                   .paths = KvPaths});
  reg.Add(TypeInfo{.schema = {.name = "svc",
                              .doc = "fake service",
                              .attrs = {{.name = "name", .role = AttrRole::kNamevar},
                                        {.name = "fail",
                                         .kind = AttrKind::kBool,
                                         .role = AttrRole::kParameter}}},
                   .make_provider = [] { return std::make_unique<SvcProvider>(); }});
  reg.Add(TypeInfo{.schema = {.name = "probe",
                              .doc = "fake probe",
                              .attrs = {{.name = "name", .role = AttrRole::kNamevar}}},
                   .make_provider = [] { return std::make_unique<ProbeProvider>(); }});
  return reg;
}

RefAt At(const std::string& ref) { return {*Ref::Parse(ref), 99, 7}; }

struct Fixture {
  Registry reg = FakeRegistry();
  TempRoot root;
  std::unique_ptr<Host> host;
  Catalog cat;
  int line = 1;

  Fixture() {
    g_events.Reset();
    g_events.probe_state = nullptr;
    host = std::move(OpenRealHost(root.path(), nullptr).value());
  }

  Resource& Add(const std::string& type, const std::string& title, Attrs attrs = {}) {
    Resource r;
    r.ref = {type, title};
    r.attrs = std::move(attrs);
    r.loc = {"site.yaml", line++, 3};
    r.tags = {type, "site"};
    auto problems = PrepareResource(*reg.Find(type), r);
    REQUIRE(problems.empty());
    cat.Add(std::move(r));
    return cat.resources.back();
  }

  Report Run(RunOptions opts = {}, StateDir* state = nullptr) {
    auto g = Graph::Build(cat, reg);
    REQUIRE(g.ok());
    RunContext ctx;
    Report rep;
    RunTransaction(cat, *g, reg, *host, ctx, state, opts, rep);
    return rep;
  }
};

const ResourceReport& Find(const Report& rep, const std::string& id) {
  for (const auto& r : rep.resources)
    if (r.id == id) return r;
  FAIL("no resource " << id << " in the report");
  static ResourceReport none;
  return none;
}

std::vector<std::string> Ids(const Report& rep) {
  std::vector<std::string> out;
  for (const auto& r : rep.resources) out.push_back(r.id);
  return out;
}

}  // namespace

TEST_CASE("transaction: converges in graph order, second run changes nothing") {
  Fixture f;
  f.Add("kv", "b", {{"value", "2"}}).require.push_back(At("kv[a]"));
  f.Add("kv", "a", {{"value", "1"}});
  Report r1 = f.Run();
  CHECK(Ids(r1) == std::vector<std::string>{"kv[a]", "kv[b]"});
  CHECK(g_events.Pos("apply kv[a]") < g_events.Pos("read kv[b]"));
  CHECK(Find(r1, "kv[a]").status == Status::kChanged);
  CHECK(Find(r1, "kv[a]").symbol == '~');
  CHECK(Find(r1, "kv[a]").diff == "-\n+1\n");
  CHECK(Find(r1, "kv[a]").output == "output of a");
  CHECK(f.root.Read("/kv/a") == "1");
  CHECK(f.root.Read("/kv/b") == "2");
  CHECK(r1.Count(Status::kChanged) == 2);
  Report r2 = f.Run();
  CHECK(r2.Count(Status::kChanged) == 0);
  CHECK(r2.Count(Status::kUnchanged) == 2);
  CHECK(r2.resources.size() == 2);
}

TEST_CASE("transaction: symbols + for created, - for removed") {
  Fixture f;
  f.root.Write("/kv/old", "x");
  f.Add("kv", "new", {{"ensure", "present"}, {"value", "1"}});
  f.Add("kv", "old", {{"ensure", "absent"}});
  Report r = f.Run();
  CHECK(Find(r, "kv[new]").symbol == '+');
  CHECK(Find(r, "kv[old]").symbol == '-');
  CHECK_FALSE(f.root.Exists("/kv/old"));
}

TEST_CASE("transaction: a failure skips its dependents, naming it; others converge") {
  Fixture f;
  f.Add("kv", "bad", {{"value", "1"}, {"fail", true}});
  f.Add("kv", "dep", {{"value", "1"}}).require.push_back(At("kv[bad]"));
  f.Add("kv", "dep2", {{"value", "1"}}).require.push_back(At("kv[dep]"));
  f.Add("kv", "free", {{"value", "1"}});
  Report r = f.Run();
  CHECK(Find(r, "kv[bad]").status == Status::kFailed);
  CHECK(Find(r, "kv[bad]").symbol == '!');
  CHECK(Find(r, "kv[bad]").error.value_or("") == "boom");
  CHECK(Find(r, "kv[bad]").output == "output of bad");
  CHECK(Find(r, "kv[dep]").status == Status::kSkipped);
  CHECK(Find(r, "kv[dep]").symbol == '?');
  CHECK(Find(r, "kv[dep]").error.value_or("") == "skipped: requires kv[bad] which failed");
  CHECK(Find(r, "kv[dep2]").status == Status::kSkipped);
  CHECK(Find(r, "kv[dep2]").error.value_or("") == "skipped: requires kv[bad] which failed");
  CHECK(g_events.Pos("read kv[dep]") == SIZE_MAX);  // never touched
  CHECK(Find(r, "kv[free]").status == Status::kChanged);
  CHECK(f.root.Read("/kv/free") == "1");
  CHECK_FALSE(f.root.Exists("/kv/dep"));
}

TEST_CASE("transaction: a Read error fails the resource") {
  Fixture f;
  f.Add("kv", "r", {{"value", "1"}, {"fail_read", true}});
  Report r = f.Run();
  CHECK(Find(r, "kv[r]").status == Status::kFailed);
  CHECK(Find(r, "kv[r]").error.value_or("") == "cannot read kv");
}

TEST_CASE("transaction: verify after apply fails a resource that still differs") {
  Fixture f;
  f.Add("kv", "v", {{"value", "1"}, {"broken", true}});
  Report r = f.Run();
  CHECK(Find(r, "kv[v]").status == Status::kFailed);
  CHECK(Find(r, "kv[v]").error.value_or("") == "still differs after apply: value");
}

TEST_CASE("transaction: refresh once per target, after it converged, with two sources") {
  Fixture f;
  f.Add("svc", "web");
  f.Add("kv", "a", {{"value", "1"}}).notify.push_back(At("svc[web]"));
  f.Add("kv", "b", {{"value", "1"}}).notify.push_back(At("svc[web]"));
  f.Add("kv", "c", {{"value", "1"}});
  Report r = f.Run();
  CHECK(g_events.refreshes["web"] == 1);
  CHECK(g_events.Pos("apply kv[b]") < g_events.Pos("read svc[web]"));
  CHECK(g_events.Pos("read svc[web]") < g_events.Pos("refresh svc[web]"));
  const auto& web = Find(r, "svc[web]");
  CHECK(web.refreshed);
  CHECK(web.status == Status::kChanged);  // a refresh is a change (SPEC 5)
  CHECK(web.changes.empty());
  CHECK(web.message.value_or("") == "restarted");
  // Nothing changes: nothing is refreshed.
  g_events.Reset();
  Report r2 = f.Run();
  CHECK(g_events.refreshes["web"] == 0);
  CHECK_FALSE(Find(r2, "svc[web]").refreshed);
}

TEST_CASE("transaction: subscribe refreshes like notify") {
  Fixture f;
  f.Add("kv", "conf", {{"value", "1"}});
  f.Add("svc", "web").subscribe.push_back(At("kv[conf]"));
  Report r = f.Run();
  CHECK(g_events.refreshes["web"] == 1);
  CHECK(Find(r, "svc[web]").refreshed);
}

TEST_CASE("transaction: owed refresh is persisted at once and delivered next run") {
  Fixture f;
  TempRoot statedir_parent;
  StateDir state(statedir_parent.path() + "/state");
  g_events.probe_state = &state;
  f.Add("kv", "conf", {{"value", "1"}}).notify.push_back(At("svc[web]"));
  f.Add("probe", "p").require.push_back(At("kv[conf]"));
  f.Add("svc", "web", {{"fail", true}}).require.push_back(At("probe[p]"));
  Report r1 = f.Run({}, &state);
  // The probe ran after kv[conf] changed and before svc[web]: the owed
  // refresh was already on disk.
  CHECK(g_events.probe_saw == std::vector<std::string>{"svc[web]"});
  CHECK(Find(r1, "svc[web]").status == Status::kFailed);
  CHECK_FALSE(Find(r1, "svc[web]").refreshed);
  CHECK(g_events.refreshes["web"] == 0);
  CHECK(state.OwedRefreshes().value() == std::vector<std::string>{"svc[web]"});

  // Next run: nothing changes, the service is healthy: the owed refresh is
  // delivered once and cleared.
  f.cat.resources[2].attrs.Set("fail", Value(false));
  g_events.Reset();
  Report r2 = f.Run({}, &state);
  CHECK(r2.Count(Status::kChanged) == 1);  // only the refresh: a change
  CHECK(ExitCode(r2, true) == 2);
  CHECK(g_events.refreshes["web"] == 1);
  CHECK(Find(r2, "svc[web]").refreshed);
  CHECK(state.OwedRefreshes().value().empty());

  g_events.Reset();
  f.Run({}, &state);
  CHECK(g_events.refreshes["web"] == 0);
}

TEST_CASE("transaction: owed refresh of a skipped target is kept; noop reads but never writes") {
  Fixture f;
  TempRoot statedir_parent;
  std::string dir = statedir_parent.path() + "/state";
  f.Add("kv", "bad", {{"value", "1"}, {"fail", true}});
  f.Add("kv", "conf", {{"value", "1"}}).notify.push_back(At("svc[web]"));
  f.Add("svc", "web").require.push_back(At("kv[bad]"));
  {
    StateDir state(dir);
    Report r = f.Run({.noop = true}, &state);
    CHECK(Find(r, "svc[web]").status == Status::kSkipped);
    CHECK_FALSE(std::filesystem::exists(dir));  // a dry run writes nothing
  }
  StateDir state(dir);
  Report r = f.Run({}, &state);
  CHECK(Find(r, "svc[web]").status == Status::kSkipped);
  CHECK(state.OwedRefreshes().value() == std::vector<std::string>{"svc[web]"});
  // In a dry run the owed refresh is reported as "would refresh".
  f.cat.resources[0].attrs.Set("fail", Value(false));
  g_events.Reset();
  Report plan = f.Run({.noop = true}, &state);
  CHECK(Find(plan, "svc[web]").refreshed);
  CHECK(Find(plan, "svc[web]").message.value_or("") == "would refresh");
  CHECK(g_events.refreshes["web"] == 0);
  CHECK(state.OwedRefreshes().value() == std::vector<std::string>{"svc[web]"});
}

TEST_CASE("transaction: flush once per provider at the end") {
  Fixture f;
  f.Add("flushy", "a", {{"value", "1"}});
  f.Add("flushy", "b", {{"value", "2"}});
  f.Add("flushy", "c", {{"value", "3"}});
  Report r = f.Run();
  CHECK(g_events.flushes == 1);
  CHECK(g_events.flush_sizes == std::vector<size_t>{3});
  CHECK(f.root.Read("/kv/b") == "2");
  CHECK(r.Count(Status::kChanged) == 3);
  // Nothing changed: no flush.
  g_events.Reset();
  f.Run();
  CHECK(g_events.flushes == 0);
}

TEST_CASE("transaction: flush runs before a dependent of a flushed resource") {
  Fixture f;
  f.Add("flushy", "a", {{"value", "1"}});
  f.Add("kv", "c", {{"value", "1"}, {"path", "/kv/a"}}).require.push_back(At("flushy[a]"));
  f.Add("flushy", "b", {{"value", "2"}});
  Report r = f.Run();
  // a's flush happened before c read: c sees "1" and changes nothing.
  CHECK(g_events.Pos("flush") < g_events.Pos("read kv[c]"));
  CHECK(Find(r, "kv[c]").status == Status::kUnchanged);
  CHECK(g_events.flushes == 2);
  CHECK(g_events.flush_sizes == std::vector<size_t>{1, 1});
}

TEST_CASE("transaction: a flush failure fails its resources and skips their dependents") {
  Fixture f;
  f.Add("flushy", "a", {{"value", "1"}, {"fail_flush", true}});
  f.Add("kv", "c", {{"value", "1"}}).require.push_back(At("flushy[a]"));
  Report r = f.Run();
  CHECK(Find(r, "flushy[a]").status == Status::kFailed);
  CHECK(Find(r, "flushy[a]").error.value_or("") == "flush: flush broke");
  CHECK(Find(r, "kv[c]").status == Status::kSkipped);
  CHECK(Find(r, "kv[c]").error.value_or("") == "skipped: requires flushy[a] which failed");
}

TEST_CASE("transaction: noop applies into the overlay: later resources see it, the tree does not") {
  Fixture f;
  f.root.Write("/kv/keep", "old");
  f.Add("kv", "x", {{"value", "new"}, {"path", "/kv/shared"}});
  f.Add("kv", "y", {{"value", "new"}, {"path", "/kv/shared"}}).require.push_back(At("kv[x]"));
  f.Add("kv", "keep", {{"value", "changed"}}).notify.push_back(At("svc[web]"));
  f.Add("svc", "web");
  auto before = f.root.Snapshot();
  Report r = f.Run({.noop = true});
  CHECK(f.root.Snapshot() == before);
  CHECK(r.noop);
  CHECK(Find(r, "kv[x]").status == Status::kChanged);
  CHECK(Find(r, "kv[y]").status == Status::kUnchanged);  // saw x's planned write
  CHECK(Find(r, "kv[keep]").diff == "-old\n+changed\n");
  CHECK(Find(r, "svc[web]").refreshed);
  CHECK(Find(r, "svc[web]").message.value_or("") == "would refresh");
  CHECK(g_events.refreshes["web"] == 0);
  REQUIRE_FALSE(g_events.apply_dry_run.empty());
  for (bool dry : g_events.apply_dry_run) CHECK(dry);
  // The plan said exactly what the apply does.
  Report a = f.Run();
  CHECK(a.Count(Status::kChanged) == r.Count(Status::kChanged));
  CHECK(f.root.Read("/kv/shared") == "new");
}

TEST_CASE("transaction: per-resource noop reports a change and changes nothing") {
  Fixture f;
  f.Add("kv", "n", {{"value", "1"}}).noop = true;
  f.cat.resources[0].notify.push_back(At("svc[web]"));
  f.Add("svc", "web");
  Report r = f.Run();
  CHECK(Find(r, "kv[n]").status == Status::kChanged);
  CHECK(Find(r, "kv[n]").message.value_or("") == "noop");
  CHECK_FALSE(f.root.Exists("/kv/n"));
  CHECK(g_events.Pos("apply kv[n]") == SIZE_MAX);
  CHECK(g_events.refreshes["web"] == 0);
}

TEST_CASE("transaction: sensitive values are redacted to a sha256, no diff, no output") {
  Fixture f;
  f.root.Write("/kv/s", "old-secret");
  f.Add("kv", "s", {{"value", "hunter2"}}).sensitive = true;
  Report r = f.Run();
  const auto& s = Find(r, "kv[s]");
  CHECK(s.status == Status::kChanged);
  REQUIRE(s.changes.size() == 1);
  CHECK(s.changes[0].attr == "value");
  CHECK(s.changes[0].to->as_string() == "[redacted] sha256:" + Sha256Hex("hunter2"));
  CHECK(s.changes[0].from->as_string() == "[redacted] sha256:" + Sha256Hex("old-secret"));
  CHECK(s.changes[0].detail.empty());
  CHECK(s.diff.empty());
  CHECK(s.output.empty());
  CHECK(f.root.Read("/kv/s") == "hunter2");
}

TEST_CASE("transaction: --tags selects resources plus what they require") {
  Fixture f;
  f.Add("kv", "base", {{"value", "1"}});
  f.Add("kv", "web", {{"value", "1"}}).require.push_back(At("kv[base]"));
  f.cat.resources[1].tags.push_back("webtag");
  f.Add("kv", "other", {{"value", "1"}});
  Report r = f.Run({.tags = {"webtag"}});
  CHECK(Ids(r) == std::vector<std::string>{"kv[base]", "kv[web]"});
  CHECK_FALSE(f.root.Exists("/kv/other"));
}

TEST_CASE("transaction: --jobs gives the same results and report order") {
  auto build = [](Fixture& f) {
    for (int i = 0; i < 12; ++i) {
      std::string t = std::to_string(i);
      Attrs a = {{"value", Value(t)}};
      if (i == 4) a.Set("fail", Value(true));
      Resource& r = f.Add("kv", "r" + t, a);
      if (i % 3 != 0) r.require.push_back(At("kv[r" + std::to_string(i - 1) + "]"));
      if (i == 7) r.notify.push_back(At("svc[web]"));
    }
    f.Add("kv", "same1", {{"value", "a"}, {"path", "/kv/same"}});
    f.Add("kv", "same2", {{"value", "b"}, {"path", "/kv/same"}});
    f.Add("kv", "same3", {{"value", "a"}, {"path", "/kv/same"}});
    f.Add("svc", "web");
  };
  Fixture f1;
  build(f1);
  Report serial = f1.Run({.jobs = 1});
  int serial_refreshes = g_events.refreshes["web"];
  Fixture f4;
  build(f4);
  g_events.apply_sleep_ms = 20;
  Report parallel = f4.Run({.jobs = 4});
  CHECK(g_events.max_in_flight > 1);        // really concurrent
  CHECK_FALSE(g_events.same_path_overlap);  // never two on one path
  CHECK(Ids(serial) == Ids(parallel));
  for (size_t i = 0; i < serial.resources.size(); ++i) {
    CAPTURE(serial.resources[i].id);
    CHECK(serial.resources[i].status == parallel.resources[i].status);
    CHECK(serial.resources[i].error == parallel.resources[i].error);
    CHECK(serial.resources[i].refreshed == parallel.resources[i].refreshed);
  }
  CHECK(serial_refreshes == 1);
  CHECK(g_events.refreshes["web"] == 1);
  CHECK(Find(parallel, "kv[r5]").status == Status::kSkipped);
  CHECK(Find(parallel, "kv[r6]").status == Status::kChanged);
  CHECK(f4.root.Read("/kv/r11") == "11");
}

TEST_CASE("transaction: a refresh owed to a resource outside --tags is kept for a later run") {
  Fixture f;
  TempRoot statedir_parent;
  StateDir state(statedir_parent.path() + "/state");
  f.Add("kv", "conf", {{"value", "1"}}).notify.push_back(At("svc[web]"));
  f.cat.resources[0].tags.push_back("conf");
  f.Add("svc", "web");
  Report r1 = f.Run({.tags = {"conf"}}, &state);
  CHECK(Ids(r1) == std::vector<std::string>{"kv[conf]"});
  CHECK(g_events.refreshes["web"] == 0);
  CHECK(state.OwedRefreshes().value() == std::vector<std::string>{"svc[web]"});
  g_events.Reset();
  Report r2 = f.Run({}, &state);
  CHECK(g_events.refreshes["web"] == 1);
  CHECK(state.OwedRefreshes().value().empty());
}

TEST_CASE("transaction: before_change runs once, before the first change, and never on a no-op") {
  Fixture f;
  f.Add("kv", "a", {{"value", "1"}});
  f.Add("kv", "b", {{"value", "2"}}).require.push_back(At("kv[a]"));
  int calls = 0;
  size_t log_at_call = SIZE_MAX;
  RunOptions opts;
  opts.before_change = [&]() -> Result<void> {
    ++calls;
    log_at_call = g_events.log.size();
    return {};
  };
  Report r1 = f.Run(opts);
  CHECK(calls == 1);
  CHECK(r1.Count(Status::kChanged) == 2);
  // Called after kv[a] was read and before it was applied.
  CHECK(log_at_call > g_events.Pos("read kv[a]"));
  CHECK(log_at_call <= g_events.Pos("apply kv[a]"));

  Report r2 = f.Run(opts);  // nothing to change: never called
  CHECK(calls == 1);
  CHECK(r2.Count(Status::kUnchanged) == 2);

  opts.noop = true;  // a dry run never calls it
  f.cat.resources[0].attrs.Set("value", Value("3"));
  Report r3 = f.Run(opts);
  CHECK(calls == 1);
  CHECK(r3.Count(Status::kChanged) == 1);
}

TEST_CASE("transaction: a failing before_change fails what would change, and changes nothing") {
  Fixture f;
  f.root.Write("/kv/same", "1");
  f.Add("kv", "same", {{"value", "1"}});
  f.Add("kv", "a", {{"value", "1"}});
  f.Add("kv", "b", {{"value", "2"}});
  int calls = 0;
  RunOptions opts;
  opts.before_change = [&]() -> Result<void> {
    ++calls;
    return MakeError(ErrorCode::kIo, "cannot mark the run");
  };
  Report r = f.Run(opts);
  CHECK(calls == 1);
  CHECK(Find(r, "kv[same]").status == Status::kUnchanged);
  CHECK(Find(r, "kv[a]").status == Status::kFailed);
  CHECK(Find(r, "kv[b]").status == Status::kFailed);
  CHECK(Find(r, "kv[a]").error.value_or("").find("cannot mark the run; not changed") !=
        std::string::npos);
  CHECK_FALSE(f.root.Exists("/kv/a"));
  CHECK_FALSE(f.root.Exists("/kv/b"));
  CHECK(g_events.Pos("apply kv[a]") == SIZE_MAX);
}
