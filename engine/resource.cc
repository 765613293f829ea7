#include "engine/resource.h"

namespace keel {

std::string SourceLoc::str() const {
  if (line <= 0) return file;
  return file + ":" + std::to_string(line) + ":" + std::to_string(col > 0 ? col : 1);
}

std::optional<Ref> Ref::Parse(std::string_view text) {
  size_t open = text.find('[');
  if (open == std::string_view::npos || open == 0 || text.size() < open + 2 || text.back() != ']')
    return std::nullopt;
  std::string_view type = text.substr(0, open);
  for (char c : type)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_')) return std::nullopt;
  return Ref{std::string(type), std::string(text.substr(open + 1, text.size() - open - 2))};
}

std::string Resource::GetString(std::string_view attr, std::string_view def) const {
  const Value* v = Get(attr);
  return v ? v->ToString() : std::string(def);
}

bool Resource::GetBool(std::string_view attr, bool def) const {
  const Value* v = Get(attr);
  return v && v->is_bool() ? v->as_bool() : def;
}

int64_t Resource::GetInt(std::string_view attr, int64_t def) const {
  const Value* v = Get(attr);
  if (!v) return def;
  if (v->is_int()) return v->as_int();
  if (v->is_string()) {
    try {
      return std::stoll(v->as_string());
    } catch (...) {
      return def;
    }
  }
  return def;
}

std::vector<std::string> Resource::GetList(std::string_view attr) const {
  std::vector<std::string> out;
  const Value* v = Get(attr);
  if (!v || v->is_null()) return out;
  if (v->is_list()) {
    for (const auto& e : v->as_list()) out.push_back(e.ToString());
  } else {
    out.push_back(v->ToString());
  }
  return out;
}

SourceLoc Resource::LocOf(std::string_view attr) const {
  size_t i = 0;
  for (auto it = attrs.begin(); it != attrs.end() && i < attr_locs.size(); ++it, ++i)
    if (it->first == attr)
      return SourceLoc{loc.file, static_cast<int>(attr_locs[i].line),
                       static_cast<int>(attr_locs[i].col)};
  return loc;
}

const std::vector<std::string>& Tags::list() const {
  static const std::vector<std::string> kNone;
  return v_ ? *v_ : kNone;
}

bool Tags::Has(std::string_view tag) const {
  for (const auto& t : list())
    if (t == tag) return true;
  return false;
}

void Tags::push_back(std::string tag) {
  auto copy = std::make_shared<std::vector<std::string>>(list());
  copy->push_back(std::move(tag));
  v_ = std::move(copy);
}

}  // namespace keel
