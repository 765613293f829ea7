#include "tests/unit/support/converge.h"

#include <map>
#include <stdexcept>

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
                                        Host& real, bool noop, RunContext* ctx_in) {
  RunContext local;
  RunContext& ctx = ctx_in ? *ctx_in : local;
  ctx.noop = noop;
  std::unique_ptr<Host> overlay;
  if (noop) overlay = MakeOverlayHost(real);
  Host& host = noop ? *overlay : real;

  std::map<std::string, std::unique_ptr<Provider>> providers;
  std::map<std::string, std::vector<const Resource*>> by_type;
  for (const auto& r : rs) by_type[r.type()].push_back(&r);
  std::vector<ConvergeResult> out(rs.size());
  for (auto& [type, list] : by_type) {
    providers[type] = registry.Find(type)->make_provider();
    auto pf = providers[type]->Prefetch(list, host, ctx);
    if (!pf.ok()) {
      for (size_t i = 0; i < rs.size(); ++i)
        if (rs[i].type() == type) out[i] = {Converged::kFailed, {}, pf.error().message};
    }
  }
  std::map<std::string, std::vector<const Resource*>> changed;
  for (size_t i = 0; i < rs.size(); ++i) {
    if (out[i].status == Converged::kFailed) continue;
    Provider& p = *providers[rs[i].type()];
    auto have = p.Read(rs[i], host, ctx);
    if (!have.ok()) {
      out[i] = {Converged::kFailed, {}, have.error().message};
      continue;
    }
    out[i].changes = p.Diff(rs[i], *have, ctx);
    if (out[i].changes.empty()) continue;
    out[i].status = Converged::kChanged;
    Outcome o;
    auto ap = p.Apply(rs[i], out[i].changes, host, ctx, o);
    if (!ap.ok()) {
      out[i].status = Converged::kFailed;
      out[i].error = ap.error().message;
      continue;
    }
    changed[rs[i].type()].push_back(&rs[i]);
  }
  for (auto& [type, list] : changed) {
    auto fl = providers[type]->Flush(list, host, ctx);
    if (!fl.ok())
      for (size_t i = 0; i < rs.size(); ++i)
        if (rs[i].type() == type && out[i].status == Converged::kChanged) {
          out[i].status = Converged::kFailed;
          out[i].error = fl.error().message;
        }
  }
  if (!noop) {
    for (size_t i = 0; i < rs.size(); ++i) {
      if (out[i].status != Converged::kChanged) continue;
      Provider& p = *providers[rs[i].type()];
      if (!p.VerifyAfterApply()) continue;
      auto again = p.Read(rs[i], host, ctx);
      if (!again.ok() || !p.Diff(rs[i], *again, ctx).empty()) {
        out[i].status = Converged::kFailed;
        out[i].error = again.ok() ? "still differs after apply" : again.error().message;
      }
    }
  }
  return out;
}

ConvergeResult Converge(const Registry& registry, const Resource& r, Host& host, bool noop,
                        RunContext* ctx) {
  return ConvergeAll(registry, {r}, host, noop, ctx)[0];
}

}  // namespace keel::testing
