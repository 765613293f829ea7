#include "engine/catalog.h"

#include <functional>

namespace keel {

void PositionIndex::Insert(uint32_t h, size_t pos) {
  if ((used_ + 1) * 2 > slots_.size()) {
    std::vector<Slot> old = std::move(slots_);
    slots_.assign(old.empty() ? 16 : old.size() * 2, Slot{});
    const size_t mask = slots_.size() - 1;
    for (const Slot& s : old) {
      if (s.pos1 == 0) continue;
      size_t i = s.hash & mask;
      while (slots_[i].pos1 != 0) i = (i + 1) & mask;
      slots_[i] = s;
    }
  }
  const size_t mask = slots_.size() - 1;
  size_t i = h & mask;
  while (slots_[i].pos1 != 0) i = (i + 1) & mask;
  slots_[i] = Slot{h, static_cast<uint32_t>(pos + 1)};
  ++used_;
}

void PositionIndex::Replace(uint32_t h, size_t old_pos, size_t pos) {
  const size_t mask = slots_.size() - 1;
  for (size_t i = h & mask; slots_[i].pos1 != 0; i = (i + 1) & mask) {
    if (slots_[i].hash == h && slots_[i].pos1 == old_pos + 1) {
      slots_[i].pos1 = static_cast<uint32_t>(pos + 1);
      return;
    }
  }
}

uint32_t RefHash(std::string_view type, std::string_view title) {
  const size_t a = std::hash<std::string_view>{}(type);
  const size_t b = std::hash<std::string_view>{}(title);
  const uint64_t h = (a * 0x9E3779B97F4A7C15ULL) ^ b;
  return static_cast<uint32_t>(h ^ (h >> 32));
}

std::optional<size_t> Catalog::PositionOfId(std::string_view id) const {
  size_t open = id.find('[');
  if (open == std::string_view::npos || id.size() < open + 2 || id.back() != ']')
    return std::nullopt;
  return Position(id.substr(0, open), id.substr(open + 1, id.size() - open - 2));
}

void Catalog::Add(Resource r) {
  const uint32_t h = RefHash(r.ref.type, r.ref.title);
  const size_t pos = resources.size();
  auto old = Position(r.ref);
  resources.push_back(std::move(r));
  if (old)
    index_.Replace(h, *old, pos);
  else
    index_.Insert(h, pos);
}

}  // namespace keel
