#include "engine/schema.h"

#include <algorithm>
#include <cctype>

#include "engine/host.h"

namespace keel {

const char* AttrKindName(AttrKind kind) {
  switch (kind) {
    case AttrKind::kString:
      return "string";
    case AttrKind::kInt:
      return "integer";
    case AttrKind::kBool:
      return "bool";
    case AttrKind::kList:
      return "list";
    case AttrKind::kStringOrList:
      return "string or list";
    case AttrKind::kMap:
      return "map";
    case AttrKind::kAbsPath:
      return "absolute path";
    case AttrKind::kMode:
      return "mode";
    case AttrKind::kAny:
      return "any";
  }
  return "?";
}

const AttrSpec* TypeSchema::Find(std::string_view attr) const {
  for (const auto& a : attrs)
    if (a.name == attr) return &a;
  return nullptr;
}

const AttrSpec* TypeSchema::Namevar() const {
  for (const auto& a : attrs)
    if (a.role == AttrRole::kNamevar) return &a;
  return nullptr;
}

std::vector<std::string> TypeSchema::AttrNames() const {
  std::vector<std::string> out;
  for (const auto& a : attrs) out.push_back(a.name);
  return out;
}

static Error Expected(const AttrSpec& spec, const Value& got) {
  return MakeError(
      ErrorCode::kInvalid,
      std::string("attribute '") + spec.name + "' expects " + AttrKindName(spec.kind) + ", got " +
          KindName(got.kind()) +
          (got.is_scalar() && !got.is_null() ? " '" + got.ToString() + "'" : std::string()));
}

static Result<Value> CheckAllowed(const AttrSpec& spec, Value v) {
  if (spec.allowed.empty() || !v.is_string()) return v;
  for (const auto& a : spec.allowed)
    if (a == v.as_string()) return v;
  std::string list;
  for (const auto& a : spec.allowed) list += (list.empty() ? "" : ", ") + a;
  std::string msg =
      "attribute '" + spec.name + "' must be one of " + list + ", got '" + v.as_string() + "'";
  std::string near = ClosestName(v.as_string(), spec.allowed);
  if (!near.empty()) msg += " (did you mean '" + near + "'?)";
  return MakeError(ErrorCode::kInvalid, msg);
}

Result<Value> CoerceAttr(const AttrSpec& spec, const Value& value) {
  switch (spec.kind) {
    case AttrKind::kAny:
      return value;
    case AttrKind::kString:
      if (value.is_scalar() && !value.is_null()) return CheckAllowed(spec, Value(value.ToString()));
      return Expected(spec, value);
    case AttrKind::kInt:
      if (value.is_int()) return value;
      if (value.is_string() && !value.as_string().empty()) {
        const std::string& s = value.as_string();
        size_t i = (s[0] == '-') ? 1 : 0;
        if (i < s.size() &&
            std::all_of(s.begin() + i, s.end(), [](unsigned char c) { return std::isdigit(c); })) {
          try {
            return Value(static_cast<int64_t>(std::stoll(s)));
          } catch (...) {
          }
        }
      }
      return Expected(spec, value);
    case AttrKind::kBool:
      if (value.is_bool()) return value;
      return Expected(spec, value);
    case AttrKind::kList: {
      if (value.is_null()) return Value(List{});
      if (value.is_scalar()) return Value(List{Value(value.ToString())});
      if (!value.is_list()) return Expected(spec, value);
      List out;
      for (const auto& e : value.as_list()) {
        if (!e.is_scalar() || e.is_null()) return Expected(spec, value);
        out.push_back(Value(e.ToString()));
      }
      return Value(std::move(out));
    }
    case AttrKind::kStringOrList: {
      if (value.is_scalar() && !value.is_null()) return Value(value.ToString());
      if (!value.is_list()) return Expected(spec, value);
      List out;
      for (const auto& e : value.as_list()) {
        if (!e.is_scalar() || e.is_null()) return Expected(spec, value);
        out.push_back(Value(e.ToString()));
      }
      return Value(std::move(out));
    }
    case AttrKind::kMap:
      if (value.is_map()) return value;
      return Expected(spec, value);
    case AttrKind::kAbsPath: {
      if (!value.is_string()) return Expected(spec, value);
      const std::string& s = value.as_string();
      if (s.empty() || s[0] != '/')
        return MakeError(ErrorCode::kInvalid,
                         "attribute '" + spec.name + "' expects an absolute path, got '" + s + "'");
      if (s.find('\0') != std::string::npos)
        return MakeError(ErrorCode::kInvalid, "attribute '" + spec.name + "' holds a NUL byte");
      return Value(NormalizeAbsPath(s));
    }
    case AttrKind::kMode: {
      std::string s = value.is_int() ? std::to_string(value.as_int())
                                     : (value.is_string() ? value.as_string() : std::string());
      bool ok = (s.size() == 3 || s.size() == 4) &&
                std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '7'; });
      if (!ok)
        return MakeError(ErrorCode::kInvalid,
                         "attribute '" + spec.name +
                             "' expects a mode of 3-4 octal digits like \"0644\", got '" +
                             value.ToString() + "'");
      if (s.size() == 3) s = "0" + s;
      return Value(s);
    }
  }
  return value;
}

std::string NormalizeAbsPath(std::string_view path) {
  if (IsNormalPath(path)) return std::string(path);  // the common case
  std::vector<std::string_view> parts;
  size_t i = 0;
  while (i < path.size()) {
    while (i < path.size() && path[i] == '/') ++i;
    size_t j = i;
    while (j < path.size() && path[j] != '/') ++j;
    std::string_view part = path.substr(i, j - i);
    if (part.empty() || part == ".") {
      // nothing
    } else if (part == "..") {
      if (!parts.empty()) parts.pop_back();  // "/.." is "/"
    } else {
      parts.push_back(part);
    }
    i = j;
  }
  std::string out;
  for (auto p : parts) {
    out += '/';
    out += p;
  }
  return out.empty() ? std::string("/") : out;
}

static size_t EditDistance(std::string_view a, std::string_view b) {
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

std::string ClosestName(std::string_view word, const std::vector<std::string>& candidates) {
  std::string best;
  size_t best_d = static_cast<size_t>(-1);
  for (const auto& c : candidates) {
    size_t d = EditDistance(word, c);
    if (d < best_d) {
      best_d = d;
      best = c;
    }
  }
  size_t limit = std::max<size_t>(2, word.size() / 3);
  return best_d <= limit ? best : std::string();
}

const std::vector<std::string>& MetaParamNames() {
  static const std::vector<std::string> names = {"require", "before", "notify", "subscribe",
                                                 "tags",    "when",   "noop",   "sensitive"};
  return names;
}

}  // namespace keel
