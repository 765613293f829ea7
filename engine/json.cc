#include "engine/json.h"

#include <nlohmann/json.hpp>

namespace keel {
namespace {

using Json = nlohmann::ordered_json;

Json ToNlohmann(const Value& v) {
  switch (v.kind()) {
    case ValueKind::kNull:
      return nullptr;
    case ValueKind::kBool:
      return v.as_bool();
    case ValueKind::kInt:
      return v.as_int();
    case ValueKind::kDouble:
      return v.as_double();
    case ValueKind::kString:
      return v.as_string();
    case ValueKind::kList: {
      Json a = Json::array();
      for (const Value& e : v.as_list()) a.push_back(ToNlohmann(e));
      return a;
    }
    case ValueKind::kMap: {
      Json o = Json::object();
      for (const auto& [k, e] : v.as_map()) o[k] = ToNlohmann(e);
      return o;
    }
  }
  return nullptr;
}

// indent < 0: nlohmann's one-line form. ensure_ascii off: UTF-8 stays as is.
std::string Dump(const Json& j, int indent) {
  return j.dump(indent, ' ', false, Json::error_handler_t::replace);
}

void LineInto(const Value& v, std::string& out) {
  if (v.is_list()) {
    out += '[';
    bool first = true;
    for (const Value& e : v.as_list()) {
      if (!first) out += ", ";
      first = false;
      LineInto(e, out);
    }
    out += ']';
  } else if (v.is_map()) {
    out += '{';
    bool first = true;
    for (const auto& [k, e] : v.as_map()) {
      if (!first) out += ", ";
      first = false;
      out += Dump(Json(k), -1);
      out += ": ";
      LineInto(e, out);
    }
    out += '}';
  } else {
    // nlohmann's compact form has no spaces after separators; only the
    // brackets are written here, every scalar is nlohmann's.
    out += Dump(ToNlohmann(v), -1);
  }
}

}  // namespace

std::string JsonPretty(const Value& v) { return Dump(ToNlohmann(v), 2); }

std::string JsonLine(const Value& v) {
  std::string out;
  LineInto(v, out);
  return out;
}

}  // namespace keel
