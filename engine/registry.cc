#include "engine/registry.h"

namespace keel {

void Registry::Add(TypeInfo info) {
  Attrs defaults;
  for (const auto& spec : info.schema.attrs)
    if (spec.default_value) defaults.Set(spec.name, *spec.default_value);
  info.defaults = std::make_shared<const Attrs>(std::move(defaults));
  std::string name = info.schema.name;
  types_.insert_or_assign(std::move(name), std::move(info));
}

const TypeInfo* Registry::Find(std::string_view type) const {
  auto it = types_.find(type);
  return it == types_.end() ? nullptr : &it->second;
}

std::vector<const TypeInfo*> Registry::All() const {
  std::vector<const TypeInfo*> out;
  for (const auto& [name, info] : types_) out.push_back(&info);
  return out;
}

std::vector<std::string> Registry::Names() const {
  std::vector<std::string> out;
  for (const auto& [name, info] : types_) out.push_back(name);
  return out;
}

}  // namespace keel

namespace keel {

std::vector<AttrProblem> PrepareResource(const TypeInfo& type, Resource& r) {
  std::vector<AttrProblem> problems;
  const TypeSchema& schema = type.schema;
  if (const AttrSpec* nv = schema.Namevar(); nv && !r.attrs.Has(nv->name))
    r.attrs.Set(nv->name, Value(r.ref.title));
  if (type.normalize) type.normalize(r);

  Attrs coerced;
  coerced.reserve(r.attrs.size());
  for (const auto& [name, value] : r.attrs) {
    const AttrSpec* spec = schema.Find(name);
    if (!spec) {
      std::vector<std::string> valid = schema.AttrNames();  // only on this error
      for (const auto& m : MetaParamNames()) valid.push_back(m);
      std::string msg = "unknown attribute '" + name + "' for type " + schema.name;
      std::string near = ClosestName(name, valid);
      if (!near.empty()) msg += " (did you mean '" + near + "'?)";
      problems.push_back({name, msg});
      continue;
    }
    auto c = CoerceAttr(*spec, value);
    if (!c.ok()) {
      problems.push_back({name, c.error().message});
      continue;
    }
    coerced.Set(name, std::move(c).value());
  }
  r.attrs = std::move(coerced);
  // Defaults are set here, once: providers read attributes without
  // restating defaults. A schema default is valid for its kind by contract.
  // The registry's shared map; a type not added to a registry gets a copy.
  if (type.defaults) {
    r.defaults = type.defaults;
  } else {
    for (const auto& spec : schema.attrs)
      if (spec.default_value && !r.attrs.Has(spec.name))
        r.attrs.Set(spec.name, *spec.default_value);
  }
  for (const auto& spec : schema.attrs)
    if (spec.required && !r.Has(spec.name))
      problems.push_back(
          {"", "missing required attribute '" + spec.name + "' for type " + schema.name});
  if (problems.empty() && type.validate) type.validate(r, problems);
  return problems;
}

std::string ResourceIdentity(const TypeInfo& type, const Resource& r) {
  if (type.identity) return type.identity(r);
  if (const AttrSpec* nv = type.schema.Namevar())
    if (const Value* v = r.Get(nv->name)) return v->ToString();
  return r.ref.title;
}

}  // namespace keel
