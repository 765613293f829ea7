#include "engine/resource.h"

#include <algorithm>
#include <mutex>
#include <unordered_set>

namespace keel {

std::string SourceLoc::str() const {
  if (line <= 0) return file;
  return file + ":" + std::to_string(line) + ":" + std::to_string(col > 0 ? col : 1);
}

DeclLoc::DeclLoc(std::string_view file, int line, int col)
    : line_(static_cast<uint32_t>(std::max(line, 0))),
      col_(static_cast<uint32_t>(std::max(col, 0))) {
  if (file.empty()) return;
  // Manifest files are few; their names live as long as the process. Left
  // to leak on purpose: no destructor ordering at exit to get wrong.
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  static std::mutex mu;
  static auto* names = new std::unordered_set<std::string, Hash, std::equal_to<>>();
  std::lock_guard<std::mutex> lock(mu);
  auto it = names->find(file);
  if (it == names->end()) it = names->emplace(file).first;
  file_ = &*it;
}

const std::string& DeclLoc::file() const {
  static const std::string kNone;
  return file_ ? *file_ : kNone;
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

void AttrPlaces::Assign(const std::vector<Place>& places, uint32_t base_line) {
  packed_ = 0;
  spilled_.clear();
  bool fits = places.size() <= 3;
  for (const Place& p : places)
    fits = fits && p.line >= base_line && p.line - base_line <= 0xff && p.col <= 0xff;
  if (!fits) {
    spilled_.reserve(places.size());
    for (const Place& p : places) spilled_.push_back(p);
    return;
  }
  packed_ = places.size();
  for (size_t i = 0; i < places.size(); ++i)
    packed_ |= (static_cast<uint64_t>(places[i].line - base_line) |
                static_cast<uint64_t>(places[i].col) << 8)
               << (2 + 16 * i);
}

AttrPlaces::Place AttrPlaces::Get(size_t i, uint32_t base_line) const {
  if (!spilled_.empty()) return spilled_[i];
  const uint64_t bits = packed_ >> (2 + 16 * i);
  return Place{base_line + static_cast<uint32_t>(bits & 0xff),
               static_cast<uint32_t>((bits >> 8) & 0xff)};
}

SourceLoc Resource::LocOf(std::string_view attr) const {
  size_t i = 0;
  const uint32_t base = static_cast<uint32_t>(loc.line());
  for (auto it = attrs.begin(); it != attrs.end() && i < attr_locs.size(); ++it, ++i)
    if (it->first == attr) {
      const AttrLoc at = attr_locs.Get(i, base);
      return SourceLoc{loc.file(), static_cast<int>(at.line), static_cast<int>(at.col)};
    }
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
