#include "engine/registry.h"

namespace keel {

void Registry::Add(TypeInfo info) {
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
