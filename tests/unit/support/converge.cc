#include "tests/unit/support/converge.h"

#include <doctest/doctest.h>

#include <stdexcept>

#include "engine/catalog.h"
#include "engine/graph.h"
#include "engine/transaction.h"

namespace keel::testing {

Resource MakeResource(const Registry& registry, const std::string& type, const std::string& title,
                      Attrs attrs) {
  const TypeInfo* info = registry.Find(type);
  if (!info) throw std::runtime_error("no type " + type);
  Resource r;
  r.ref = {type, title};
  r.attrs = std::move(attrs);
  r.loc = {"test.yaml", 1, 1};
  auto problems = PrepareResource(*info, r);
  if (!problems.empty()) throw std::runtime_error(type + "[" + title + "]: " + problems[0].message);
  return r;
}

std::vector<ConvergeResult> ConvergeAll(const Registry& registry, const std::vector<Resource>& rs,
                                        Host& host, bool noop, RunContext* ctx_in,
                                        Report* report_out) {
  Catalog catalog;
  for (const auto& r : rs) catalog.Add(r);
  auto graph = Graph::Build(catalog, registry);
  if (!graph.ok()) throw std::runtime_error("graph: " + graph.error().message);
  RunContext local;
  RunContext& ctx = ctx_in ? *ctx_in : local;
  RunOptions options;
  options.noop = noop;
  Report report;
  RunTransaction(catalog, *graph, registry, host, ctx, nullptr, options, report);
  std::vector<ConvergeResult> out(rs.size());
  for (const auto& rep : report.resources) {
    size_t i = catalog.PositionOfId(rep.id).value();
    ConvergeResult& c = out[i];
    switch (rep.status) {
      case Status::kUnchanged:
        c.status = Converged::kUnchanged;
        break;
      case Status::kChanged:
        c.status = Converged::kChanged;
        break;
      case Status::kFailed:
        c.status = Converged::kFailed;
        break;
      case Status::kSkipped:
        c.status = Converged::kSkipped;
        break;
    }
    c.changes = rep.changes;
    c.error = rep.error.value_or("");
    c.message = rep.message.value_or("");
    c.refreshed = rep.refreshed;
  }
  // The run's warnings stay readable from the caller's context.
  if (ctx_in)
    for (const auto& w : report.warnings) ctx_in->Warn(w);
  if (report_out) *report_out = std::move(report);
  return out;
}

ConvergeResult Converge(const Registry& registry, const Resource& r, Host& host, bool noop,
                        RunContext* ctx) {
  return ConvergeAll(registry, {r}, host, noop, ctx)[0];
}

std::vector<ConvergeResult> TimelineAll(const Registry& registry, const std::vector<Resource>& rs,
                                        Host& host, const TempRoot& root, RunContext* ctx) {
  auto before = root.Snapshot();
  auto plan = ConvergeAll(registry, rs, host, true, ctx);
  bool any = false;
  for (const auto& p : plan) {
    CHECK_MESSAGE(p.status != Converged::kFailed, p.error);
    any = any || p.status == Converged::kChanged;
  }
  CHECK_MESSAGE(any, "the plan shows no change");
  CHECK_MESSAGE(root.Snapshot() == before, "the plan changed the tree");
  auto apply = ConvergeAll(registry, rs, host, false, ctx);
  for (const auto& a : apply) CHECK_MESSAGE(a.error == "", a.error);
  for (size_t i = 0; i < rs.size(); ++i) {
    std::string what = rs[i].id() + ": apply differs from plan";
    CHECK_MESSAGE(apply[i].status == plan[i].status, what);
  }
  auto again = ConvergeAll(registry, rs, host, false, ctx);
  for (size_t i = 0; i < rs.size(); ++i) {
    std::string what = rs[i].id() + " changed on a second apply: " + again[i].error;
    CHECK_MESSAGE(again[i].status == Converged::kUnchanged, what);
    CHECK(again[i].changes.empty());
  }
  return apply;
}

ConvergeResult Timeline(const Registry& registry, const Resource& r, Host& host,
                        const TempRoot& root, RunContext* ctx) {
  return TimelineAll(registry, {r}, host, root, ctx)[0];
}

}  // namespace keel::testing
