// One line per resource type; explicit registration, no static initialisers.
#include "engine/registry.h"
#include "resources/builtin.h"

namespace keel {

void RegisterBuiltinTypes(Registry& r) {
  (void)r;
  // KEEL-TYPES (each helper adds its line here)
}

}  // namespace keel
