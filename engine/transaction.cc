// The transaction (SPEC 5): prefetch per type, then for each resource in
// graph order read -> diff -> apply -> verify, refresh delivery, flushes
// before dependents and once at the end; owed refreshes persisted at once.
//
// Choices (README):
//  - --tags: resources not selected are not converged and are NOT listed in
//    the report (summary.total counts the selected ones).
//  - A dry run calls Apply with the overlay Host so later resources see the
//    planned state; it never calls Refresh (reported "would refresh") nor
//    Flush, and never writes the state dir. A dry run converges serially
//    (the overlay is one in-memory layer), whatever --jobs says.
//  - Per-resource `noop: true` in a real run: read and diff only, status
//    changed with message "noop" (would change); it notifies nobody.
//  - Owed refreshes are recorded BEFORE the change (OwedLedger::Claim before
//    Apply, and before a Refresh for the targets it notifies in turn): a
//    kill at any later moment leaves them on disk. A failed Apply or Flush
//    keeps them unless a re-read shows nothing changed. Failing to record
//    them fails the resource before it changes anything.
//  - A refresh is a change: a refreshed resource is reported "changed" (no
//    attribute changes, refreshed: true) and notifies its own targets (a
//    notify chain), as Puppet's refresh events do.
//  - A refresh whose Refresh call fails stays owed (restarts are never lost);
//    so does one whose target is outside this run's --tags selection.
//  - A stop request (SIGTERM/SIGINT, engine/interrupt.h): no resource
//    starts after it; the running ones finish, pending flushes of applied
//    resources still run, and every resource that never started is reported
//    skipped ("never ran") and listed in report.never_ran.
//  - Sensitive resources: every change value but the shape (ensure, mode,
//    owner, group) becomes "[redacted] sha256:<hex of the value text>", no
//    diff, no output.
#include "engine/transaction.h"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <ctime>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <shared_mutex>
#include <thread>
#include <unordered_map>

#include "engine/clock.h"
#include "engine/digest.h"
#include "engine/host_real.h"
#include "engine/interrupt.h"
#include "engine/owed_ledger.h"
#include "engine/state.h"

namespace keel {
namespace {

using Clock = std::chrono::steady_clock;

bool IsAbsent(const std::optional<Value>& v) {
  return !v || v->is_null() || (v->is_string() && v->as_string() == "absent");
}

/// '+' created (ensure from absent), '-' removed (ensure to absent), else '~'.
char SymbolFor(const std::vector<Change>& changes) {
  for (const auto& c : changes) {
    if (c.attr != "ensure") continue;
    if (IsAbsent(c.to)) return '-';
    if (IsAbsent(c.from)) return '+';
  }
  return '~';
}

Value RedactValue(const Value& v) { return Value("[redacted] sha256:" + Sha256Hex(v.ToString())); }

// The shape of a change is no secret: `ensure` (present -> absent), mode,
// owner and group are shown; values and content are redacted.
bool IsShapeAttr(const std::string& attr) {
  return attr == "ensure" || attr == "mode" || attr == "owner" || attr == "group";
}

void Redact(ResourceReport& rep) {
  for (auto& c : rep.changes) {
    if (!IsShapeAttr(c.attr)) {
      if (c.from) c.from = RedactValue(*c.from);
      if (c.to) c.to = RedactValue(*c.to);
    }
    c.detail.clear();
  }
  rep.diff.clear();
  rep.output.clear();
}

std::string JoinAttrs(const std::vector<Change>& changes) {
  std::string out;
  for (const auto& c : changes) {
    if (!out.empty()) out += ", ";
    out += c.attr;
  }
  return out;
}

void AddMessage(ResourceReport& rep, const std::string& msg) {
  if (msg.empty()) return;
  if (rep.message && !rep.message->empty())
    *rep.message += "; " + msg;
  else
    rep.message = msg;
}

void AddOutput(ResourceReport& rep, const std::string& out) {
  if (out.empty()) return;
  if (!rep.output.empty() && rep.output.back() != '\n') rep.output += '\n';
  rep.output += out;
}

class Transaction {
 public:
  Transaction(const Catalog& catalog, const Graph& graph, const Registry& registry, Host& host,
              RunContext& ctx, StateDir* state, const RunOptions& options, Report& report)
      : catalog_(catalog),
        graph_(graph),
        registry_(registry),
        real_host_(host),
        ctx_(ctx),
        owed_source_(state),
        options_(options),
        report_(report),
        ledger_(options.noop ? nullptr : state) {}

  void Run() {
    auto t0 = Clock::now();
    report_.noop = options_.noop;
    if (report_.started_at.empty()) report_.started_at = NowRfc3339();
    ctx_.noop = options_.noop;
    if (options_.noop) overlay_ = MakeOverlayHost(real_host_);
    host_ = options_.noop ? overlay_.get() : &real_host_;

    const size_t n = catalog_.resources.size();
    selected_ = options_.tags.empty() ? std::vector<bool>(n, true)
                                      : graph_.SelectTags(catalog_, options_.tags);
    status_.assign(n, Status::kUnchanged);
    done_.assign(n, false);
    claims_.assign(n, {});
    applied_.assign(n, {});
    cause_.assign(n, "");
    reports_.assign(n, ResourceReport{});
    unflushed_type_.assign(n, nullptr);
    own_pending_.assign(n, 0);
    visited_.assign(n, 0);
    total_ = static_cast<size_t>(std::count(selected_.begin(), selected_.end(), true));

    MakeProviders();
    LoadOwed();

    if (options_.jobs > 1 && !options_.noop)
      RunParallel();
    else
      RunSerial();

    // The last flush of every provider that still has changed resources
    // (also after a stop request: it completes changes already applied).
    for (const auto& type : type_order_) FlushType(type);

    if (!options_.noop) {
      std::lock_guard<std::mutex> lock(mu_);
      if (auto r = ledger_.Sync(); !r.ok())
        run_errors_.push_back("cannot record the owed refreshes: " + r.error().message);
    }
    if (StopRequested()) {
      report_.interrupted = true;
      report_.interrupt_signal = StopSignal();
    }
    for (size_t i : graph_.order()) {
      if (!selected_[i]) continue;
      if (!done_[i]) {
        // Never started (stopped): listed, and its owed refresh kept.
        ResourceReport& rep = reports_[i];
        rep.id = catalog_.resources[i].id();
        rep.type = catalog_.resources[i].type();
        rep.title = catalog_.resources[i].title();
        rep.status = Status::kSkipped;
        rep.symbol = '?';
        rep.error = "never ran: the run was stopped by " + StopSignalName();
        report_.never_ran.push_back(rep.id);
      }
      report_.resources.push_back(std::move(reports_[i]));
    }
    for (auto& e : run_errors_) report_.errors.push_back(std::move(e));
    for (const auto& w : catalog_.warnings) report_.warnings.push_back(w);
    for (auto& w : ctx_.TakeWarnings()) report_.warnings.push_back(std::move(w));
    if (ctx_.reboot_required.load()) report_.reboot_required = true;
    report_.duration_s = std::chrono::duration<double>(Clock::now() - t0).count();
  }

 private:
  struct TypeState {
    std::unique_ptr<Provider> provider;
    std::optional<std::string> prefetch_error;
    std::vector<size_t> unflushed;  // applied, not yet flushed (real runs only)
    std::shared_mutex lock;         // shared: Read/Diff/Apply/Refresh; exclusive: Flush
  };

  void MakeProviders() {
    std::map<std::string, std::vector<const Resource*>> by_type;
    for (size_t i : graph_.order()) {
      if (!selected_[i]) continue;
      const Resource& r = catalog_.resources[i];
      if (!by_type.count(r.type())) type_order_.push_back(r.type());
      by_type[r.type()].push_back(&r);
    }
    for (const auto& type : type_order_) {
      auto ts = std::make_unique<TypeState>();
      const TypeInfo* info = registry_.Find(type);
      if (!info || !info->make_provider) {
        ts->prefetch_error = "no provider for type " + type;
      } else {
        ts->provider = info->make_provider();
        auto pf = ts->provider->Prefetch(by_type[type], *host_, ctx_);
        if (!pf.ok()) ts->prefetch_error = "prefetch: " + pf.error().message;
      }
      types_.emplace(type, std::move(ts));
    }
  }

  // Owed refreshes of earlier runs: delivered to their targets in this run
  // (even when nothing changes); ids outside this run's selection are kept.
  void LoadOwed() {
    if (!owed_source_) return;
    auto persisted = owed_source_->OwedRefreshes();
    if (!persisted.ok()) {
      run_errors_.push_back("cannot read the owed refreshes: " + persisted.error().message);
      return;
    }
    std::vector<std::string> keep;
    for (const auto& id : *persisted) {
      if (!catalog_.PositionOfId(id)) {
        ctx_.Warn("owed refresh of " + id + " dropped: the resource is no longer declared");
        continue;
      }
      keep.push_back(id);
    }
    // Dropped ids leave the file at the next write (Sync at the end).
    ledger_.Load(*persisted, keep);
  }

  // The ids of the notify targets of resource i (selected or not: a target
  // outside --tags keeps its entry for a run that converges it).
  std::vector<std::string> TargetIds(size_t i) const {
    std::vector<std::string> ids;
    for (size_t t : graph_.refresh_targets(i)) ids.push_back(catalog_.resources[t].id());
    return ids;
  }

  // Records the claims of resource i on its targets before it changes
  // anything. False (and `error` set) when they could not be recorded.
  bool ClaimTargets(size_t i, std::string& error) {
    std::vector<std::string> ids = TargetIds(i);
    if (ids.empty()) return true;
    std::lock_guard<std::mutex> lock(mu_);
    auto r = ledger_.Claim(ids);
    if (!r.ok()) {
      error = "cannot record the owed refreshes of " + JoinIds(ids) +
              " before changing anything (nothing changed): " + r.error().message;
      return false;
    }
    claims_[i] = std::move(ids);
    return true;
  }

  // Settles the claims of resource i: kept when it changed (or may have).
  void ResolveClaims(size_t i, bool keep) {
    std::lock_guard<std::mutex> lock(mu_);
    ResolveClaimsLocked(i, keep);
  }
  void ResolveClaimsLocked(size_t i, bool keep) {
    if (claims_[i].empty()) return;
    auto r = ledger_.Resolve(claims_[i], keep);
    if (!r.ok())
      run_errors_.push_back("cannot record the owed refreshes of " + JoinIds(claims_[i]) + ": " +
                            r.error().message);
    claims_[i].clear();
  }

  static std::string JoinIds(const std::vector<std::string>& ids) {
    std::string out;
    for (const auto& id : ids) out += (out.empty() ? "" : ", ") + id;
    return out;
  }

  // After a failed Apply or Flush: true only when a fresh Read shows the
  // very same differences as before the attempt (nothing was changed). Any
  // doubt (a read error) counts as changed: an extra refresh is the safe side.
  bool NothingChanged(size_t i) {
    const Resource& r = catalog_.resources[i];
    TypeState& ts = *types_.at(r.type());
    if (!ts.provider) return false;
    auto again = ts.provider->Read(r, *host_, ctx_);
    if (!again.ok()) return false;
    std::vector<Change> now = ts.provider->Diff(r, *again, ctx_);
    const std::vector<Change>& before = applied_[i];
    if (now.size() != before.size()) return false;
    for (size_t k = 0; k < now.size(); ++k) {
      if (now[k].attr != before[k].attr || now[k].from.has_value() != before[k].from.has_value() ||
          now[k].to.has_value() != before[k].to.has_value())
        return false;
      if (now[k].from && !(*now[k].from == *before[k].from)) return false;
      if (now[k].to && !(*now[k].to == *before[k].to)) return false;
    }
    return true;
  }

  void RunSerial() {
    for (size_t i : graph_.order()) {
      if (!selected_[i]) continue;
      if (StopRequested()) break;  // the rest never ran
      FlushAncestors(i);
      Converge(i);
    }
  }

  // Flushes every provider holding applied-but-unflushed resources among
  // the transitive prerequisites of `i`, so `i` sees their effects; and
  // those that flush before any resource of another type.
  void FlushAncestors(size_t i) {
    const std::string& own = catalog_.resources[i].type();
    std::set<std::string> to_flush;
    {
      std::lock_guard<std::mutex> lock(mu_);
      bool any = false;
      for (const auto& [type, ts] : types_) {
        if (ts->unflushed.empty()) continue;
        any = true;
        if (type != own && ts->provider && ts->provider->FlushBeforeOtherTypes())
          to_flush.insert(type);
      }
      own_pending_[i] = 0;
      if (!any) return;
      // Visited marks by generation: no per-call clearing of n flags.
      if (++visit_gen_ == 0) {
        std::fill(visited_.begin(), visited_.end(), 0);
        visit_gen_ = 1;
      }
      std::vector<size_t> stack(graph_.deps(i).begin(), graph_.deps(i).end());
      while (!stack.empty()) {
        size_t v = stack.back();
        stack.pop_back();
        if (visited_[v] == visit_gen_) continue;
        visited_[v] = visit_gen_;
        if (unflushed_type_[v]) to_flush.insert(*unflushed_type_[v]);
        for (size_t d : graph_.deps(v))
          if (visited_[d] != visit_gen_) stack.push_back(d);
      }
    }
    // A provider that flushes in order keeps its own type's queue: i runs
    // behind it unless its Apply would do more than queue (ReadDiffApply).
    if (to_flush.count(own)) {
      const TypeState& ts = *types_.at(own);
      if (ts.provider && ts.provider->FlushesInOrder()) {
        to_flush.erase(own);
        std::lock_guard<std::mutex> lock(mu_);
        own_pending_[i] = 1;
      }
    }
    for (const auto& type : type_order_)
      if (to_flush.count(type)) FlushType(type);
  }

  void FlushType(const std::string& type) {
    auto it = types_.find(type);
    if (it == types_.end() || !it->second->provider) return;
    TypeState& ts = *it->second;
    std::unique_lock<std::shared_mutex> excl(ts.lock);
    std::vector<size_t> batch;
    {
      std::lock_guard<std::mutex> lock(mu_);
      batch.swap(ts.unflushed);
      for (size_t i : batch) unflushed_type_[i] = nullptr;
    }
    if (batch.empty()) return;
    std::vector<const Resource*> rs;
    for (size_t i : batch) rs.push_back(&catalog_.resources[i]);
    // For each: the positions in the batch of what it requires (the batch
    // is in the order the resources ran: prerequisites first).
    std::vector<std::vector<size_t>> after(batch.size());
    {
      std::unordered_map<size_t, size_t> pos;
      for (size_t k = 0; k < batch.size(); ++k) pos.emplace(batch[k], k);
      for (size_t k = 0; k < batch.size(); ++k)
        for (size_t d : graph_.deps(batch[k]))
          if (auto it = pos.find(d); it != pos.end() && it->second < k)
            after[k].push_back(it->second);
    }
    auto t0 = Clock::now();
    auto fl = ts.provider->FlushBatch(rs, after, *host_, ctx_);
    double took = std::chrono::duration<double>(Clock::now() - t0).count();
    // A failed flush: a resource whose re-read shows nothing changed does
    // not keep the refreshes it claimed (a refresh for a change that never
    // happened); any doubt keeps them.
    std::vector<bool> unchanged(batch.size(), false);
    if (!fl.ok())
      for (size_t k = 0; k < batch.size(); ++k) unchanged[k] = NothingChanged(batch[k]);
    std::vector<std::string> concerned;
    if (!fl.ok()) concerned = ts.provider->FlushFailedIds();
    std::lock_guard<std::mutex> lock(mu_);
    for (size_t k = 0; k < batch.size(); ++k) {
      size_t i = batch[k];
      ResolveClaimsLocked(i, fl.ok() || !unchanged[k]);
      ResourceReport& rep = reports_[i];
      rep.duration_s += took / static_cast<double>(batch.size());
      AddMessage(rep, ts.provider->FlushMessage(catalog_.resources[i]));
      if (fl.ok() || status_[i] == Status::kFailed) continue;
      if (!concerned.empty() &&
          std::find(concerned.begin(), concerned.end(), rep.id) == concerned.end())
        continue;
      // Not written because a prerequisite in the batch failed: skipped,
      // as if the prerequisite had been flushed before it ran.
      std::optional<size_t> failed_before;
      for (size_t a : after[k])
        if (status_[batch[a]] == Status::kFailed || status_[batch[a]] == Status::kSkipped)
          failed_before = batch[a];
      if (failed_before) {
        status_[i] = rep.status = Status::kSkipped;
        rep.symbol = '?';
        cause_[i] = cause_[*failed_before];
        rep.error = "skipped: requires " + cause_[i] + " which failed";
        continue;
      }
      status_[i] = rep.status = Status::kFailed;
      rep.symbol = '!';
      rep.error = "flush: " + fl.error().message;
      cause_[i] = rep.id;
    }
  }

  // The cause of the first failed or skipped prerequisite of i ("" none).
  std::string FailedDep(size_t i) {
    std::lock_guard<std::mutex> lock(mu_);
    for (size_t d : graph_.deps(i)) {
      if (!selected_[d]) continue;
      if (status_[d] == Status::kFailed || status_[d] == Status::kSkipped) return cause_[d];
    }
    return "";
  }

  // Converges resource i and records its report. Its prerequisites are done.
  void Converge(size_t i) {
    const Resource& r = catalog_.resources[i];
    if (options_.on_start) {
      std::lock_guard<std::mutex> lock(progress_mu_);
      options_.on_start(r, ++started_, total_);
    }
    auto t0 = Clock::now();
    ResourceReport rep;
    rep.id = r.id();
    rep.type = r.type();
    rep.title = r.title();

    std::string failed_dep = FailedDep(i);
    TypeState& ts = *types_.at(r.type());
    bool apply_succeeded = false;
    if (!failed_dep.empty()) {
      rep.status = Status::kSkipped;
      rep.symbol = '?';
      rep.error = "skipped: requires " + failed_dep + " which failed";
    } else if (ts.prefetch_error) {
      Fail(rep, *ts.prefetch_error);
    } else {
      bool flush_first = false;
      {
        std::shared_lock<std::shared_mutex> shared(ts.lock);
        apply_succeeded = ReadDiffApply(i, *ts.provider, rep, &flush_first);
      }
      if (flush_first) {
        // Its Apply would not only queue: what it requires of its own type
        // lands first, then it is read again.
        FlushType(r.type());
        failed_dep = FailedDep(i);
        if (!failed_dep.empty()) {
          rep.status = Status::kSkipped;
          rep.symbol = '?';
          rep.error = "skipped: requires " + failed_dep + " which failed";
        } else {
          std::shared_lock<std::shared_mutex> shared(ts.lock);
          apply_succeeded = ReadDiffApply(i, *ts.provider, rep, nullptr);
        }
      }
    }

    // The claims made before Apply: settled at once unless a flush of this
    // type is still to come (then FlushType settles them).
    if (apply_succeeded) {
      std::lock_guard<std::mutex> lock(mu_);
      if (!options_.noop) {
        ts.unflushed.push_back(i);
        unflushed_type_[i] = &types_.find(r.type())->first;
      } else {
        ResolveClaimsLocked(i, true);
      }
    }

    bool owed;
    {
      std::lock_guard<std::mutex> lock(mu_);
      owed = ledger_.Owed(r.id());
    }
    if (owed && rep.status != Status::kFailed && rep.status != Status::kSkipped)
      DeliverRefresh(i, ts, rep);

    if (r.sensitive) Redact(rep);
    rep.duration_s = std::chrono::duration<double>(Clock::now() - t0).count();
    std::lock_guard<std::mutex> lock(mu_);
    status_[i] = rep.status;
    if (rep.status == Status::kFailed) cause_[i] = rep.id;
    if (rep.status == Status::kSkipped) cause_[i] = failed_dep;
    reports_[i] = std::move(rep);
    done_[i] = true;
  }

  static void Fail(ResourceReport& rep, std::string error) {
    rep.status = Status::kFailed;
    rep.symbol = '!';
    rep.error = std::move(error);
  }

  // Read -> Diff -> Apply -> verify. True when Apply ran and succeeded
  // (the resource changed, or would change in a dry run).
  // `flush_first`: when given and resources of i's own type that i requires
  // are still unflushed (own_pending_), set instead of applying when the
  // provider says Apply would not only queue (nothing is recorded then).
  bool ReadDiffApply(size_t i, Provider& p, ResourceReport& rep, bool* flush_first) {
    const Resource& r = catalog_.resources[i];
    Host& host = *host_;
    auto have = p.Read(r, host, ctx_);
    if (!have.ok()) {
      Fail(rep, have.error().message);
      return false;
    }
    std::vector<Change> changes = p.Diff(r, *have, ctx_);
    if (changes.empty()) return false;
    if (flush_first && !options_.noop) {
      bool pending;
      {
        std::lock_guard<std::mutex> lock(mu_);
        pending = own_pending_[i] != 0;
      }
      if (pending && !p.DefersApply(r, *have, changes)) {
        *flush_first = true;
        return false;
      }
    }
    rep.status = Status::kChanged;
    rep.symbol = SymbolFor(changes);
    for (const auto& c : changes) {
      if (c.detail.empty()) continue;
      if (!rep.diff.empty() && rep.diff.back() != '\n') rep.diff += '\n';
      rep.diff += c.detail;
    }
    rep.changes = changes;
    if (r.noop && !options_.noop) {
      AddMessage(rep, "noop");
      return false;
    }
    if (!BeforeChange(rep)) return false;
    // Owed before the change: the notify targets are on disk before Apply
    // touches anything, so no kill can lose their refresh.
    applied_[i] = changes;
    if (std::string err; !ClaimTargets(i, err)) {
      Fail(rep, err);
      return false;
    }
    Outcome out;
    auto ap = p.Apply(r, *have, changes, host, ctx_, out);
    AddOutput(rep, out.output);
    AddMessage(rep, out.message);
    if (!ap.ok()) {
      Fail(rep, ap.error().message);
      ResolveClaims(i, options_.noop ? false : !NothingChanged(i));
      return false;
    }
    if (!options_.noop && p.VerifyAfterApply() && !out.deferred) {
      auto again = p.Read(r, host, ctx_);
      if (!again.ok()) {
        Fail(rep, "reading after apply: " + again.error().message);
      } else if (auto rest = p.Diff(r, *again, ctx_); !rest.empty()) {
        Fail(rep, "still differs after apply: " + JoinAttrs(rest));
      }
    }
    return true;
  }

  // RunOptions::before_change, once, before the first change; false (the
  // resource failed, nothing changed) when it could not be done.
  bool BeforeChange(ResourceReport& rep) {
    if (options_.noop || !options_.before_change) return true;
    std::string err;
    {
      std::lock_guard<std::mutex> lock(change_mu_);
      if (!change_prepared_) {
        change_prepared_ = true;
        if (auto r = options_.before_change(); !r.ok()) change_error_ = r.error().message;
      }
      err = change_error_;
    }
    if (err.empty()) return true;
    Fail(rep, err + "; not changed");
    return false;
  }

  // Runs the owed refresh of resource i. A refresh is a change: the
  // resource is reported changed and its own notify targets are owed in
  // turn (claimed before the refresh runs).
  void DeliverRefresh(size_t i, TypeState& ts, ResourceReport& rep) {
    const Resource& r = catalog_.resources[i];
    rep.refreshed = true;
    if (rep.status == Status::kUnchanged) {
      rep.status = Status::kChanged;
      rep.symbol = '*';
    }
    if (options_.noop || r.noop) {
      AddMessage(rep, "would refresh");
      if (options_.noop) {
        std::lock_guard<std::mutex> lock(mu_);
        (void)ledger_.Resolve(TargetIds(i), true);  // memory only: "would refresh" down the chain
      }
      return;
    }
    if (!BeforeChange(rep)) return;  // stays owed
    if (std::string err; !ClaimTargets(i, err)) {
      Fail(rep, "refresh not run: " + err);
      return;  // stays owed
    }
    Outcome out;
    Result<void> rr;
    {
      std::shared_lock<std::shared_mutex> shared(ts.lock);
      rr = ts.provider->Refresh(r, *host_, ctx_, out);
    }
    AddOutput(rep, out.output);
    if (!rr.ok()) {
      AddMessage(rep, out.message);
      Fail(rep, "refresh: " + rr.error().message);
      // Stays owed; its targets follow when it succeeds in a later run.
      ResolveClaims(i, false);
      return;
    }
    AddMessage(rep, out.message.empty() ? std::string("refreshed") : out.message);
    std::lock_guard<std::mutex> lock(mu_);
    ResolveClaimsLocked(i, true);
    auto d = ledger_.Delivered(r.id());
    if (!d.ok())
      run_errors_.push_back("cannot clear the owed refresh of " + r.id() +
                            " (it will run again in the next run): " + d.error().message);
  }

  // --jobs N: a resource starts when its prerequisites are done; resources
  // sharing a path never run at once; flushes happen on this thread before
  // a dependent starts. The report keeps graph order.
  void RunParallel() {
    const size_t n = catalog_.resources.size();
    std::vector<size_t> pos(n, 0);
    for (size_t k = 0; k < graph_.order().size(); ++k) pos[graph_.order()[k]] = k;
    std::vector<size_t> waiting(n, 0);
    std::vector<std::vector<size_t>> dependents(n);
    std::vector<std::vector<std::string>> paths(n);
    size_t total = 0;
    for (size_t i = 0; i < n; ++i) {
      if (!selected_[i]) continue;
      ++total;
      std::set<size_t> ds;
      for (size_t d : graph_.deps(i))
        if (selected_[d]) ds.insert(d);
      waiting[i] = ds.size();
      for (size_t d : ds) dependents[d].push_back(i);
      const TypeInfo* info = registry_.Find(catalog_.resources[i].type());
      if (info && info->paths) paths[i] = info->paths(catalog_.resources[i]);
    }
    std::set<size_t> ready;  // by position in the graph order
    for (size_t i = 0; i < n; ++i)
      if (selected_[i] && waiting[i] == 0) ready.insert(pos[i]);

    std::mutex qmu;
    std::condition_variable qcv, done_cv;
    std::deque<size_t> queue;
    std::vector<size_t> finished;
    bool stop = false;
    std::vector<std::thread> workers;
    for (int w = 0; w < options_.jobs; ++w) {
      workers.emplace_back([&] {
        for (;;) {
          size_t i;
          {
            std::unique_lock<std::mutex> lock(qmu);
            qcv.wait(lock, [&] { return stop || !queue.empty(); });
            if (queue.empty()) return;
            i = queue.front();
            queue.pop_front();
          }
          Converge(i);
          {
            std::lock_guard<std::mutex> lock(qmu);
            finished.push_back(i);
          }
          done_cv.notify_one();
        }
      });
    }

    std::multiset<std::string> busy;
    size_t running = 0, completed = 0;
    while (completed < total) {
      // After a stop request nothing starts; wait for the running ones.
      if (StopRequested() && running == 0) break;
      // Start what can start, earliest in the graph order first.
      for (auto it = ready.begin();
           it != ready.end() && running < size_t(options_.jobs) && !StopRequested();) {
        size_t i = graph_.order()[*it];
        bool clash = std::any_of(paths[i].begin(), paths[i].end(),
                                 [&](const std::string& p) { return busy.count(p) > 0; });
        if (clash) {
          ++it;
          continue;
        }
        FlushAncestors(i);
        for (const auto& p : paths[i]) busy.insert(p);
        ++running;
        it = ready.erase(it);
        {
          std::lock_guard<std::mutex> lock(qmu);
          queue.push_back(i);
        }
        qcv.notify_one();
      }
      std::vector<size_t> got;
      {
        std::unique_lock<std::mutex> lock(qmu);
        done_cv.wait(lock, [&] { return !finished.empty(); });
        got.swap(finished);
      }
      for (size_t i : got) {
        --running;
        ++completed;
        for (const auto& p : paths[i]) busy.erase(busy.find(p));
        for (size_t d : dependents[i])
          if (--waiting[d] == 0) ready.insert(pos[d]);
      }
    }
    {
      std::lock_guard<std::mutex> lock(qmu);
      stop = true;
    }
    qcv.notify_all();
    for (auto& t : workers) t.join();
  }

  const Catalog& catalog_;
  const Graph& graph_;
  const Registry& registry_;
  Host& real_host_;
  RunContext& ctx_;
  StateDir* owed_source_;  // read even in a dry run ("would refresh")
  const RunOptions& options_;
  Report& report_;

  std::unique_ptr<Host> overlay_;
  Host* host_ = nullptr;
  std::vector<std::string> type_order_;
  std::map<std::string, std::unique_ptr<TypeState>> types_;

  std::mutex progress_mu_;
  size_t started_ = 0, total_ = 0;

  std::mutex mu_;  // guards everything below
  std::vector<bool> selected_;
  std::vector<Status> status_;
  std::vector<bool> done_;
  std::vector<std::string> cause_;  // failed: own id; skipped: the failed one
  std::vector<ResourceReport> reports_;
  OwedLedger ledger_;                               // written only in a real run
  std::vector<std::vector<std::string>> claims_;    // ids claimed by each resource, unsettled
  std::vector<std::vector<Change>> applied_;        // the changes handed to Apply
  std::vector<std::string> run_errors_;             // failures of the run itself
  std::vector<const std::string*> unflushed_type_;  // per resource: its type while unflushed
  // Per resource: FlushAncestors left resources of its own type that it
  // requires unflushed (FlushesInOrder); ReadDiffApply flushes them unless
  // DefersApply.
  std::vector<char> own_pending_;
  std::mutex change_mu_;  // before_change: once
  bool change_prepared_ = false;
  std::string change_error_;
  std::vector<uint32_t> visited_;  // FlushAncestors' marks (visit_gen_)
  uint32_t visit_gen_ = 0;
};

}  // namespace

void RunTransaction(const Catalog& catalog, const Graph& graph, const Registry& registry,
                    Host& host, RunContext& ctx, StateDir* state, const RunOptions& options,
                    Report& report) {
  Transaction(catalog, graph, registry, host, ctx, state, options, report).Run();
}

}  // namespace keel
