// Building resources (engine/manifest_resources.h).
#include "engine/manifest_resources.h"

#include <algorithm>
#include <set>

#include "engine/schema.h"

namespace keel::loader {

bool ResourceBuilder::RefsFromValue(const Manifest& m, const char* meta, const Value& v,
                                    const SourceLoc& loc, CompactVec<RefAt>& refs) {
  if (v.is_list()) {
    bool ok = true;
    for (const auto& e : v.as_list()) ok = RefsFromValue(m, meta, e, loc, refs) && ok;
    return ok;
  }
  if (!v.is_string()) {
    reader_.Fail(loc, std::string("'") + meta +
                          "' expects a reference type[title] or a list of them, got " +
                          KindName(v.kind()));
    return false;
  }
  std::optional<Ref> ref = Ref::Parse(v.as_string());
  if (!ref) {
    reader_.Fail(
        loc, "malformed reference '" + v.as_string() + "' in " + meta + " (expected type[title])");
    return false;
  }
  refs.push_back(
      RefAt{std::move(*ref), static_cast<uint32_t>(loc.line), static_cast<uint32_t>(loc.col)});
  return true;
}

void ResourceBuilder::ParseRefs(const Manifest& m, const char* meta, const yaml::Node& n,
                                CompactVec<RefAt>& refs) {
  if (n.IsSequence()) {
    for (const auto& item : n) {
      Value v;
      if (!reader_.ConvertValue(m, item, ctx_, v, &cache_)) continue;
      RefsFromValue(m, meta, v, reader_.Loc(m, item.GetMark()), refs);
    }
    return;
  }
  Value v;
  if (!reader_.ConvertValue(m, n, ctx_, v, &cache_)) return;
  if (v.is_null()) return;
  RefsFromValue(m, meta, v, reader_.Loc(m, n.GetMark()), refs);
}

void ResourceBuilder::Build(const Manifest& m) {
  const yaml::Node& res = m.resources;
  if (!res || res.IsNull()) return;
  if (!res.IsSequence()) {
    reader_.Fail(reader_.Loc(m, res.GetMark()), "'resources' must be a list");
    return;
  }
  for (const auto& entry : res) Resource1(m, entry);
}

// Names of a dropped resource's attributes are still checked: a typo must
// not hide until the day `when` turns true.
void ResourceBuilder::CheckDroppedAttrs(const Manifest& m, const TypeInfo& type,
                                        const std::vector<Entry>& entries) {
  for (size_t i = 1; i < entries.size(); ++i) {
    const Entry& kv = entries[i];
    if (!kv.first.IsScalar()) continue;
    const std::string name(kv.first.Scalar());
    const auto& metas = MetaParamNames();
    if (type.schema.Find(name) || std::find(metas.begin(), metas.end(), name) != metas.end())
      continue;
    std::vector<std::string> valid = type.schema.AttrNames();
    valid.insert(valid.end(), metas.begin(), metas.end());
    std::string msg = "unknown attribute '" + name + "' for type " + type.schema.name;
    std::string near = ClosestName(name, valid);
    if (!near.empty()) msg += " (did you mean '" + near + "'?)";
    reader_.Fail(reader_.Loc(m, kv.first.GetMark()), msg);
  }
}

void ResourceBuilder::Resource1(const Manifest& m, const yaml::Node& entry) {
  if (!entry.IsMap()) {
    reader_.Fail(reader_.Loc(m, entry.GetMark()),
                 "a resource must be a map whose first key is its type");
    return;
  }
  const std::vector<Entry> entries = reader_.Entries(m, entry);
  if (entries.empty()) {
    reader_.Fail(reader_.Loc(m, entry.GetMark()),
                 "a resource must be a map whose first key is its type");
    return;
  }
  const yaml::Node type_node = entries[0].first;
  const yaml::Node title_node = entries[0].second;
  SourceLoc loc = reader_.Loc(m, type_node.GetMark());
  if (!type_node.IsScalar()) {
    reader_.Fail(loc, "a resource must be a map whose first key is its type");
    return;
  }
  const std::string type_name(type_node.Scalar());
  const TypeInfo* type =
      reader_.options().registry ? reader_.options().registry->Find(type_name) : nullptr;
  if (!type) {
    std::string msg = "unknown resource type '" + type_name + "'";
    std::string near = reader_.options().registry
                           ? ClosestName(type_name, reader_.options().registry->Names())
                           : "";
    if (!near.empty()) msg += " (did you mean '" + near + "'?)";
    reader_.Fail(loc, msg);
    return;
  }
  if (!title_node.IsDefined() || title_node.IsNull()) {
    reader_.Fail(loc, "resource " + type_name + " has no title");
    return;
  }
  if (!title_node.IsScalar()) {
    reader_.Fail(reader_.Loc(m, title_node.GetMark()),
                 "the title of a " + type_name + " must be a string");
    return;
  }

  // when, before anything is interpolated: a dropped resource is not.
  bool keep = true;
  bool when_ok = true;
  for (size_t i = 1; i < entries.size(); ++i) {
    if (entries[i].first.IsScalar() && entries[i].first.Scalar() == "when") {
      when_ok = reader_.EvalWhen(m, entries[i].second, ctx_, keep);
      break;
    }
  }

  Value title_v;
  if (!reader_.ConvertValue(m, title_node, ctx_, title_v, &cache_)) return;
  if (!title_v.is_scalar() || title_v.is_null() || title_v.ToString().empty()) {
    reader_.Fail(reader_.Loc(m, title_node.GetMark()),
                 "the title of a " + type_name + " must be a non-empty string");
    return;
  }
  Resource r;
  r.ref = Ref{type_name, title_v.ToString()};
  r.loc = loc;
  if (!when_ok) {
    broken_.insert(r.ref.str());
    CheckDroppedAttrs(m, *type, entries);
    return;
  }
  if (!keep) {
    dropped_.emplace(r.ref.str(), loc);
    CheckDroppedAttrs(m, *type, entries);
    return;
  }
  r.attrs.reserve(entries.size());
  // Where each attribute was given, for this entry's messages; the
  // resource keeps line and column by attribute position.
  std::vector<std::pair<std::string_view, Resource::AttrLoc>> given;
  given.reserve(entries.size());
  std::vector<std::string> tags;

  // A resource has a handful of attributes: vectors, not sets.
  std::vector<std::string> failed;  // attributes whose value did not interpolate
  std::vector<std::string_view> keys;
  keys.reserve(entries.size());
  for (size_t i = 1; i < entries.size(); ++i) {
    const Entry& kv = entries[i];
    SourceLoc kloc = reader_.Loc(m, kv.first.GetMark());
    if (!kv.first.IsScalar()) {
      reader_.Fail(kloc, "an attribute name must be a string");
      continue;
    }
    const std::string_view name_view = kv.first.Scalar();
    if (std::find(keys.begin(), keys.end(), name_view) != keys.end()) {
      reader_.Fail(kloc, "duplicate attribute '" + std::string(name_view) + "'");
      continue;
    }
    keys.push_back(name_view);
    const std::string name(name_view);
    const yaml::Node& val = kv.second;
    if (name == "when") continue;
    if (name == "require") {
      ParseRefs(m, "require", val, r.require);
    } else if (name == "before") {
      ParseRefs(m, "before", val, r.before);
    } else if (name == "notify") {
      ParseRefs(m, "notify", val, r.notify);
    } else if (name == "subscribe") {
      ParseRefs(m, "subscribe", val, r.subscribe);
    } else if (name == "tags") {
      Value v;
      if (!reader_.ConvertValue(m, val, ctx_, v, &cache_)) continue;
      if (v.is_list()) {
        for (const auto& t : v.as_list()) {
          if (!t.is_scalar() || t.is_null()) {
            reader_.Fail(kloc, "'tags' expects a list of strings");
            break;
          }
          tags.push_back(t.ToString());
        }
      } else if (v.is_scalar() && !v.is_null()) {
        tags.push_back(v.ToString());
      } else {
        reader_.Fail(kloc, "'tags' expects a list of strings");
      }
    } else if (name == "noop" || name == "sensitive") {
      Value v;
      if (!reader_.ConvertValue(m, val, ctx_, v, &cache_)) continue;
      if (!v.is_bool()) {
        reader_.Fail(
            reader_.Loc(m, val.GetMark()),
            "'" + name + "' expects true or false, got " + KindName(v.kind()) +
                (v.is_scalar() && !v.is_null() ? " '" + v.ToString() + "'" : std::string()));
        continue;
      }
      (name == "noop" ? r.noop : r.sensitive) = v.as_bool();
    } else {
      Value v;
      if (!reader_.ConvertValue(m, val, ctx_, v, &cache_)) failed.push_back(name);
      r.attrs.Set(name, std::move(v));
      given.push_back({name_view,
                       {static_cast<uint32_t>(std::max(kloc.line, 0)),
                        static_cast<uint32_t>(std::max(kloc.col, 0))}});
    }
  }
  for (const std::string& t : {type_name, m.tag})
    if (std::find(tags.begin(), tags.end(), t) == tags.end()) tags.push_back(t);
  r.tags = SharedTags(std::move(tags));
  {
    std::vector<Resource::AttrLoc> places;
    places.reserve(given.size());
    for (const auto& g : given) places.push_back(g.second);
    r.attr_locs.Assign(places, static_cast<uint32_t>(r.loc.line()));
  }

  std::vector<AttrProblem> problems = PrepareResource(*type, r);
  auto loc_of = [&](const std::string& attr) {
    for (const auto& [name, at] : given)
      if (name == attr)
        return SourceLoc{r.loc.file(), static_cast<int>(at.line), static_cast<int>(at.col)};
    return SourceLoc(r.loc);
  };
  for (const auto& p : problems) {
    if (!p.attr.empty() && std::find(failed.begin(), failed.end(), p.attr) != failed.end())
      continue;  // already reported
    reader_.Fail(p.attr.empty() ? SourceLoc(r.loc) : loc_of(p.attr), p.message);
  }
  if (problems.empty() && failed.empty()) ResolveRepoPaths(m, *type, r);

  if (auto dup = reader_.out().catalog.Position(r.ref)) {
    reader_.Fail(r.loc, "duplicate resource " + r.ref.str() + ": also declared at " +
                            reader_.out().catalog.resources[*dup].loc.str());
    return;
  }
  if (problems.empty() && failed.empty()) {
    // Same type and identity as an earlier resource: found by hash, the
    // candidates' identities recomputed (no key string kept per resource).
    const std::vector<Resource>& all = reader_.out().catalog.resources;
    const std::string identity = ResourceIdentity(*type, r);
    const uint32_t h = RefHash(type_name, identity);
    auto other = identities_.Find(h, [&](size_t i) {
      return all[i].ref.type == type_name && ResourceIdentity(*type, all[i]) == identity;
    });
    if (other) {
      reader_.Fail(
          r.loc, "duplicate resource " + r.ref.str() + ": same " +
                     (type->schema.Namevar() ? type->schema.Namevar()->name : std::string("name")) +
                     " '" + identity + "' as " + all[*other].id() + " declared at " +
                     all[*other].loc.str());
      broken_.insert(r.ref.str());
      return;
    }
    identities_.Insert(h, all.size());
  }
  reader_.out().catalog.Add(std::move(r));
}

Tags ResourceBuilder::SharedTags(std::vector<std::string> tags) {
  std::string key;
  for (const auto& t : tags) {
    key += t;
    key += '\0';
  }
  auto it = tag_sets_.find(key);
  if (it == tag_sets_.end())
    it = tag_sets_
             .emplace(std::move(key),
                      std::make_shared<const std::vector<std::string>>(std::move(tags)))
             .first;
  return Tags(it->second);
}

void ResourceBuilder::ResolveRepoPaths(const Manifest& m, const TypeInfo& type, Resource& r) {
  for (const std::string& attr : type.repo_paths) {
    Value* v = r.attrs.Find(attr);
    if (!v || !v->is_string() || v->as_string().empty()) continue;
    std::optional<std::string> real =
        reader_.ResolveRepoPath(m, attr, v->as_string(), r.LocOf(attr));
    if (real) *v = Value(std::move(*real));
  }
}

void ResourceBuilder::ResolveRefs() {
  const Catalog& cat = reader_.out().catalog;
  std::vector<std::string> types =
      reader_.options().registry ? reader_.options().registry->Names() : std::vector<std::string>{};
  // Titles by type, built on the first unknown reference; suggestions are
  // offered for the first few only (each costs a pass over the titles).
  std::unordered_map<std::string, std::vector<std::string>> titles;
  int suggestions_left = 50;
  auto check = [&](const CompactVec<RefAt>& refs, const char* meta, const std::string& file) {
    for (const auto& ra : refs) {
      if (cat.Position(ra.type(), ra.title())) continue;
      const std::string& id = ra.str();
      if (broken_.count(id)) continue;  // its own error was reported
      auto d = dropped_.find(id);
      if (d != dropped_.end()) {
        reader_.Fail(ra.Loc(file), std::string(meta) + " " + id +
                                       ": that resource is not declared because its " +
                                       "'when' is false (" + d->second.str() + ")");
        continue;
      }
      std::string msg = std::string("unknown reference ") + id + " in " + meta;
      const Ref ref = ra.ref();
      if (reader_.options().registry && !reader_.options().registry->Find(ref.type)) {
        std::string near = ClosestName(ref.type, types);
        msg += ": no resource type '" + ref.type + "'";
        if (!near.empty()) msg += " (did you mean '" + near + "'?)";
      } else if (ref.title.size() > 3 && suggestions_left-- > 0) {
        if (titles.empty())
          for (const auto& r : cat.resources) titles[r.ref.type].push_back(r.ref.title);
        auto t = titles.find(ref.type);
        std::string near = t == titles.end() ? "" : ClosestName(ref.title, t->second);
        if (!near.empty()) msg += " (did you mean " + Ref{ref.type, near}.str() + "?)";
      }
      reader_.Fail(ra.Loc(file), msg);
    }
  };
  for (const auto& r : cat.resources) {
    check(r.require, "require", r.loc.file());
    check(r.before, "before", r.loc.file());
    check(r.notify, "notify", r.loc.file());
    check(r.subscribe, "subscribe", r.loc.file());
  }
}

}  // namespace keel::loader
