// Value: the dynamic data of manifests, facts and resource state:
// null | bool | int | double | string | list | map (map keeps insertion order).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <variant>
#include <vector>

namespace keel {

class Value;
using List = std::vector<Value>;

/// A map that keeps the order keys were first inserted (manifest order
/// matters: modprobe options, ifcfg settings).
class Map {
 public:
  using Entry = std::pair<std::string, Value>;
  Map() = default;
  Map(std::initializer_list<Entry> init);
  Map(const Map& other) : entries_(other.entries_) { Reindex(); }
  Map& operator=(const Map& other) {
    if (this != &other) {
      entries_ = other.entries_;
      Reindex();
    }
    return *this;
  }
  Map(Map&&) noexcept = default;
  Map& operator=(Map&&) noexcept = default;

  /// nullptr when absent.
  const Value* Find(std::string_view key) const;
  Value* Find(std::string_view key);
  bool Has(std::string_view key) const { return Find(key) != nullptr; }
  /// Inserts at the end, or replaces in place when the key exists.
  void Set(std::string key, Value value);
  bool Erase(std::string_view key);
  size_t size() const { return entries_.size(); }
  void reserve(size_t n) { entries_.reserve(n); }
  bool empty() const { return entries_.empty(); }
  auto begin() const { return entries_.begin(); }
  auto end() const { return entries_.end(); }
  auto begin() { return entries_.begin(); }
  auto end() { return entries_.end(); }
  /// Order-sensitive equality.
  bool operator==(const Map& other) const;

 private:
  // Large maps (thousands of variables, facts) get a hash index so that a
  // lookup is O(1), not a scan: a load with N variables stays linear. The
  // index is held by pointer: a small map (every resource's attributes)
  // pays 8 bytes for it, not an empty unordered_map's 56.
  static constexpr size_t kIndexFrom = 16;
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  using Index = std::unordered_map<std::string, size_t, Hash, std::equal_to<>>;
  void Reindex();
  std::vector<Entry> entries_;
  std::unique_ptr<Index> index_;  // key -> entries_ slot; null while small
};

enum class ValueKind { kNull, kBool, kInt, kDouble, kString, kList, kMap };

/// "null", "bool", "integer", "number", "string", "list", "map".
const char* KindName(ValueKind kind);

class Value {
 public:
  Value() = default;
  Value(std::nullptr_t) {}
  Value(bool b) : v_(b) {}
  Value(int i) : v_(static_cast<int64_t>(i)) {}
  Value(int64_t i) : v_(i) {}
  Value(double d) : v_(d) {}
  Value(const char* s) : v_(std::string(s)) {}
  Value(std::string s) : v_(std::move(s)) {}
  Value(std::string_view s) : v_(std::string(s)) {}
  Value(List l) : v_(std::make_shared<List>(std::move(l))) {}
  Value(Map m) : v_(std::make_shared<Map>(std::move(m))) {}

  ValueKind kind() const { return static_cast<ValueKind>(v_.index()); }
  bool is_null() const { return kind() == ValueKind::kNull; }
  bool is_bool() const { return kind() == ValueKind::kBool; }
  bool is_int() const { return kind() == ValueKind::kInt; }
  bool is_double() const { return kind() == ValueKind::kDouble; }
  bool is_number() const { return is_int() || is_double(); }
  bool is_string() const { return kind() == ValueKind::kString; }
  bool is_list() const { return kind() == ValueKind::kList; }
  bool is_map() const { return kind() == ValueKind::kMap; }
  bool is_scalar() const { return !is_list() && !is_map(); }

  // Accessors assert the kind.
  bool as_bool() const { return std::get<bool>(v_); }
  int64_t as_int() const { return std::get<int64_t>(v_); }
  double as_double() const {
    return is_int() ? static_cast<double>(as_int()) : std::get<double>(v_);
  }
  const std::string& as_string() const { return std::get<std::string>(v_); }
  const List& as_list() const { return *std::get<std::shared_ptr<List>>(v_); }
  const Map& as_map() const { return *std::get<std::shared_ptr<Map>>(v_); }
  /// Copy-on-write access for building values.
  List& mutable_list();
  Map& mutable_map();

  /// Walks a dotted path of map keys ("os.release.major"); nullptr when absent.
  const Value* Get(std::string_view dotted) const;

  /// Text for interpolation and messages: strings raw, numbers and bools as
  /// YAML writes them ("true", "42", "1.5"), null as "", lists/maps as JSON.
  std::string ToString() const;
  /// JSON text (strings quoted and escaped).
  std::string ToJson() const;

  /// Deep, order-sensitive equality; an int and a double compare by value.
  bool operator==(const Value& other) const;
  bool operator!=(const Value& other) const { return !(*this == other); }

 private:
  std::variant<std::monostate, bool, int64_t, double, std::string, std::shared_ptr<List>,
               std::shared_ptr<Map>>
      v_;
};

/// Attribute values of a resource, in manifest order.
using Attrs = Map;

/// Merges `over` into `base` deeply: maps merge key by key, other values replace.
void DeepMerge(Value& base, const Value& over);

}  // namespace keel
