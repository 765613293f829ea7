// Real-world sample files kept under tests/unit/data/ (the one reader).
#pragma once

#include <doctest/doctest.h>

#include <fstream>
#include <sstream>
#include <string>

namespace keel::testing {

/// The bytes of tests/unit/data/<rel> ("sysfiles/fstab"); FAILs the test
/// when the file is missing.
inline std::string TestData(const std::string& rel) {
  std::ifstream in(std::string(KEEL_SOURCE_DIR) + "/tests/unit/data/" + rel, std::ios::binary);
  REQUIRE_MESSAGE(in.good(), "missing test data " << rel);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace keel::testing
