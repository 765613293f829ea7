// Small helpers of the randomized differential tests (a model against the
// code it describes): a seeded generator, a random pick, a percent chance.
#pragma once

#include <random>
#include <vector>

namespace keel::testing {

using Rng = std::mt19937;

template <typename T>
const T& Pick(Rng& rng, const std::vector<T>& v) {
  return v[std::uniform_int_distribution<size_t>(0, v.size() - 1)(rng)];
}

inline bool Chance(Rng& rng, int percent) {
  return std::uniform_int_distribution<int>(0, 99)(rng) < percent;
}

}  // namespace keel::testing
