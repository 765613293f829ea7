#include "resources/common/edit_provider.h"

#include "engine/digest.h"

namespace keel::edit {
namespace {

Error WithId(const Resource& want, Error e) { return e.Context(want.id()); }

}  // namespace

Result<Content> EditProvider::EditContent(const Resource& want, const Content& before) const {
  auto after = Edit(want, *before);
  if (!after.ok()) return after.error();
  if (*after == *before) return before;
  return MakeContent(std::move(*after));
}

Result<Content> EditProvider::EditOnce(const Resource& want, const Content& before) {
  {
    std::lock_guard<std::mutex> lock(memo_mu_);
    auto it = memo_.find(&want);
    if (it != memo_.end() && it->second.before.lock() == before && it->second.attrs == want.attrs)
      return it->second.after;
  }
  Result<Content> after = EditContent(want, before);
  std::lock_guard<std::mutex> lock(memo_mu_);
  memo_.insert_or_assign(&want, Memo{want.attrs, before, after});
  return after;
}

void EditProvider::Forget(const Resource& want) {
  std::lock_guard<std::mutex> lock(memo_mu_);
  memo_.erase(&want);
}

Result<Observation> EditProvider::Read(const Resource& want, Host& host, RunContext& ctx) {
  auto path = PathOf(want);
  if (!path.ok()) return WithId(want, path.error());
  auto before = Session(ctx).ReadShared(host, *path);
  if (!before.ok()) return before.error();
  auto after = EditOnce(want, *before);
  if (!after.ok()) {
    Forget(want);
    return WithId(want, after.error());
  }
  Observation have;
  EditState& st = have.SetState(EditState{*before, {}});
  if (!(*before)->has_value() && (*after)->has_value()) {
    // Directories a write would create, outermost first.
    for (HostPath p = path->Parent(); !p.IsRoot(); p = p.Parent()) {
      auto info = host.Stat(p);
      if (!info.ok()) return WithId(want, info.error());
      if (info->exists()) break;
      st.missing_parents.insert(st.missing_parents.begin(), p.str());
    }
  }
  ObserveContent(want, st.content, have);
  if (host.live()) KEEL_TRY(ObserveLive(want, host, have));
  return have;
}

std::vector<Change> EditProvider::Diff(const Resource& want, const Observation& have,
                                       RunContext& ctx) {
  std::vector<Change> out;
  const EditState* st = have.State<EditState>();
  auto path = PathOf(want);
  if (!st || !path.ok()) return out;
  const std::optional<std::string>& before = st->before();
  auto after_c = EditOnce(want, st->content);
  if (after_c.ok() && *after_c != st->content && **after_c != before) {
    const std::optional<std::string>& after = **after_c;
    DiffProperties(want, have, out);
    if (!before || !after)
      out.push_back({FileEnsureAttr(), Value(before ? "present" : "absent"),
                     Value(after ? "present" : "absent"), ""});
    if (!before && after) {
      // Created with the mode/owner a `file` resource declares (issue 11
      // item 8): the plan says so, the write does it (WriteEdited).
      if (auto d = Session(ctx).Declared(*path)) {
        auto add = [&](const char* attr, const std::string& v) {
          if (!v.empty())
            out.push_back(Change{attr, std::nullopt, Value(v),
                                 std::string("new file ") + attr + " " + v + " (" + d->by + ")"});
        };
        add("mode", d->mode);
        add("owner", d->owner);
        add("group", d->group);
      }
    }
    for (const auto& d : st->missing_parents) {
      std::string how = "0755";
      if (auto p = HostPath::Parse(d); p.ok())
        if (auto decl = Session(ctx).Declared(*p)) {
          if (!decl->mode.empty()) how = decl->mode;
          if (!decl->owner.empty()) how += " owner " + decl->owner;
          if (!decl->group.empty()) how += " group " + decl->group;
          how += ", " + decl->by;
        }
      out.push_back(
          Change{"parent", std::nullopt, Value(d), "create directory " + d + " (" + how + ")"});
    }
    out.push_back(ContentChange(*path, before, after, want.sensitive));
  }
  if (out.empty()) Forget(want);
  DiffLive(want, have, out);
  return out;
}

Result<void> EditProvider::Apply(const Resource& want, const Observation& have,
                                 std::span<const Change> changes, Host& host, RunContext& ctx,
                                 Outcome& out) {
  (void)have;
  std::vector<Change> live;
  bool file_change = false;
  for (const auto& c : changes) {
    if (IsLive(c.attr))
      live.push_back(c);
    else
      file_change = true;
  }
  if (file_change) {
    auto path = PathOf(want);
    if (!path.ok()) return WithId(want, path.error());
    EditSession& session = Session(ctx);
    auto before = session.ReadShared(host, *path);
    if (!before.ok()) return before.error();
    auto after = EditOnce(want, *before);
    Forget(want);
    if (!after.ok()) return WithId(want, after.error());
    for (const auto& c : changes) {
      if (c.attr != "content") continue;
      std::optional<Value> to;
      if ((*after)->has_value()) to = Value("{sha256}" + Sha256Hex(***after));
      if (to != c.to)
        return MakeError(ErrorCode::kConflict,
                         want.id() + ": " + path->str() +
                             " changed since it was planned; not applying a different edit");
    }
    auto staged = session.Stage(host, *path, std::move(*after));
    // In a plan the overlay is written here; in an apply the same write
    // fails in Flush, reported "flush: ...": the plan words it the same.
    if (!staged.ok())
      return host.dry_run() ? MakeError(staged.error().code, "flush: " + staged.error().message)
                            : staged.error();
  }
  // The live half acts on the running system only, and never in a dry run
  // (the overlay would not run its commands anyway; this keeps the message
  // of a plan free of "not run" noise).
  if (live.empty() || !host.live() || host.dry_run()) return {};
  return ApplyLive(want, live, host, ctx, out);
}

Result<void> EditProvider::Flush(std::span<const Resource* const> changed, Host& host,
                                 RunContext& ctx) {
  std::vector<HostPath> paths;
  for (const Resource* r : changed)
    if (auto p = PathOf(*r); p.ok()) paths.push_back(*p);
  return Session(ctx).Flush(host, paths);
}

}  // namespace keel::edit
