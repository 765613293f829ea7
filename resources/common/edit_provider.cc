#include "resources/common/edit_provider.h"

#include "engine/digest.h"

namespace keel::edit {
namespace {

Error WithId(const Resource& want, Error e) { return e.Context(want.id()); }

std::optional<std::string> ContentOf(const Attrs& have) {
  const Value* v = have.Find("content");
  if (!v || !v->is_string()) return std::nullopt;
  return v->as_string();
}

}  // namespace

Result<Attrs> EditProvider::Read(const Resource& want, Host& host, RunContext& ctx) {
  auto path = PathOf(want);
  if (!path.ok()) return WithId(want, path.error());
  auto before = Session(ctx).Read(host, *path);
  if (!before.ok()) return before.error();
  auto after = Edit(want, *before);
  if (!after.ok()) return WithId(want, after.error());
  Attrs have;
  have.Set("content", before->has_value() ? Value(**before) : Value());
  List missing;
  if (!before->has_value() && after->has_value()) {
    // Directories a write would create, outermost first.
    std::vector<std::string> up;
    for (HostPath p = path->Parent(); !p.IsRoot(); p = p.Parent()) {
      auto info = host.Stat(p);
      if (!info.ok()) return WithId(want, info.error());
      if (info->exists()) break;
      up.push_back(p.str());
    }
    for (auto it = up.rbegin(); it != up.rend(); ++it) missing.push_back(Value(*it));
  }
  have.Set("missing_parents", Value(std::move(missing)));
  Observe(want, *before, have);
  return have;
}

std::vector<Change> EditProvider::Diff(const Resource& want, const Attrs& have, RunContext& ctx) {
  (void)ctx;
  std::vector<Change> out;
  auto path = PathOf(want);
  if (!path.ok()) return out;
  std::optional<std::string> before = ContentOf(have);
  auto after = Edit(want, before);
  if (!after.ok() || *after == before) return out;
  if (!before || !*after) {
    Change c{"ensure", Value(before ? "present" : "absent"), Value(*after ? "present" : "absent"),
             ""};
    out.push_back(std::move(c));
  }
  if (const Value* mp = have.Find("missing_parents"); mp && mp->is_list())
    for (const auto& d : mp->as_list())
      out.push_back(
          Change{"parent", std::nullopt, d, "create directory " + d.as_string() + " (0755)"});
  out.push_back(ContentChange(*path, before, *after, want.sensitive));
  return out;
}

Result<void> EditProvider::Apply(const Resource& want, std::span<const Change> changes, Host& host,
                                 RunContext& ctx, Outcome& out) {
  (void)out;
  auto path = PathOf(want);
  if (!path.ok()) return WithId(want, path.error());
  EditSession& session = Session(ctx);
  auto before = session.Read(host, *path);
  if (!before.ok()) return before.error();
  auto after = Edit(want, *before);
  if (!after.ok()) return WithId(want, after.error());
  for (const auto& c : changes) {
    if (c.attr != "content") continue;
    std::optional<Value> to;
    if (after->has_value()) to = Value("{sha256}" + Sha256Hex(**after));
    if (to != c.to)
      return MakeError(ErrorCode::kConflict,
                       want.id() + ": " + path->str() +
                           " changed since it was planned; not applying a different edit");
  }
  return session.Stage(host, *path, std::move(*after));
}

Result<void> EditProvider::Flush(std::span<const Resource* const> changed, Host& host,
                                 RunContext& ctx) {
  std::vector<HostPath> paths;
  for (const Resource* r : changed)
    if (auto p = PathOf(*r); p.ok()) paths.push_back(*p);
  return Session(ctx).Flush(host, paths);
}

}  // namespace keel::edit
