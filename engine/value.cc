#include "engine/value.h"

#include <cmath>
#include <cstdio>

#include "engine/json.h"

namespace keel {

Map::Map(std::initializer_list<Entry> init) {
  for (const auto& e : init) Set(e.first, e.second);
}

const Value* Map::Find(std::string_view key) const {
  if (index_) {
    auto it = index_->find(key);
    return it == index_->end() ? nullptr : &entries_[it->second].second;
  }
  for (const auto& e : entries_)
    if (e.first == key) return &e.second;
  return nullptr;
}

Value* Map::Find(std::string_view key) {
  return const_cast<Value*>(static_cast<const Map*>(this)->Find(key));
}

void Map::Set(std::string key, Value value) {
  if (Value* v = Find(key)) {
    *v = std::move(value);
    return;
  }
  entries_.emplace_back(std::move(key), std::move(value));
  if (index_)
    index_->emplace(entries_.back().first, entries_.size() - 1);
  else if (entries_.size() > kIndexFrom)
    Reindex();
}

bool Map::Erase(std::string_view key) {
  for (auto it = entries_.begin(); it != entries_.end(); ++it) {
    if (it->first == key) {
      entries_.erase(it);
      Reindex();
      return true;
    }
  }
  return false;
}

void Map::Reindex() {
  index_.reset();
  if (entries_.size() <= kIndexFrom) return;
  index_ = std::make_unique<Index>();
  index_->reserve(entries_.size());
  for (size_t i = 0; i < entries_.size(); ++i) index_->emplace(entries_[i].first, i);
}

bool Map::operator==(const Map& other) const { return entries_ == other.entries_; }

const char* KindName(ValueKind kind) {
  switch (kind) {
    case ValueKind::kNull:
      return "null";
    case ValueKind::kBool:
      return "bool";
    case ValueKind::kInt:
      return "integer";
    case ValueKind::kDouble:
      return "number";
    case ValueKind::kString:
      return "string";
    case ValueKind::kList:
      return "list";
    case ValueKind::kMap:
      return "map";
  }
  return "?";
}

List& Value::mutable_list() {
  auto& p = std::get<std::shared_ptr<List>>(v_);
  if (p.use_count() > 1) p = std::make_shared<List>(*p);
  return *p;
}

Map& Value::mutable_map() {
  auto& p = std::get<std::shared_ptr<Map>>(v_);
  if (p.use_count() > 1) p = std::make_shared<Map>(*p);
  return *p;
}

const Value* Value::Get(std::string_view dotted) const {
  const Value* cur = this;
  while (!dotted.empty()) {
    size_t dot = dotted.find('.');
    std::string_view key = dotted.substr(0, dot);
    if (!cur->is_map()) return nullptr;
    cur = cur->as_map().Find(key);
    if (!cur) return nullptr;
    dotted = dot == std::string_view::npos ? std::string_view() : dotted.substr(dot + 1);
  }
  return cur;
}

static std::string DoubleText(double d) {
  if (std::isfinite(d) && d == std::floor(d) && std::fabs(d) < 1e15) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.1f", d);
    return buf;
  }
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.17g", d);
  // Shortest representation that round-trips.
  for (int prec = 1; prec <= 17; ++prec) {
    char b2[64];
    std::snprintf(b2, sizeof b2, "%.*g", prec, d);
    if (std::strtod(b2, nullptr) == d) return b2;
  }
  return buf;
}

std::string Value::ToJson() const { return JsonLine(*this); }

std::string Value::ToString() const {
  switch (kind()) {
    case ValueKind::kNull:
      return "";
    case ValueKind::kBool:
      return as_bool() ? "true" : "false";
    case ValueKind::kInt:
      return std::to_string(as_int());
    case ValueKind::kDouble:
      return DoubleText(as_double());
    case ValueKind::kString:
      return as_string();
    default:
      return ToJson();
  }
}

bool Value::operator==(const Value& other) const {
  if (is_number() && other.is_number()) {
    if (is_int() && other.is_int()) return as_int() == other.as_int();
    return as_double() == other.as_double();
  }
  if (kind() != other.kind()) return false;
  switch (kind()) {
    case ValueKind::kNull:
      return true;
    case ValueKind::kBool:
      return as_bool() == other.as_bool();
    case ValueKind::kString:
      return as_string() == other.as_string();
    case ValueKind::kList:
      return as_list() == other.as_list();
    case ValueKind::kMap:
      return as_map() == other.as_map();
    default:
      return false;
  }
}

void DeepMerge(Value& base, const Value& over) {
  if (base.is_map() && over.is_map()) {
    Map& bm = base.mutable_map();
    for (const auto& [k, v] : over.as_map()) {
      if (Value* existing = bm.Find(k)) {
        DeepMerge(*existing, v);
      } else {
        bm.Set(k, v);
      }
    }
    return;
  }
  base = over;
}

}  // namespace keel
