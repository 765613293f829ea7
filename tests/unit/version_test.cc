#include "engine/version.h"

#include <doctest/doctest.h>

using namespace keel;

TEST_CASE("version: dotted versions are digits and single dots") {
  for (const char* v : {"6", "6.10", "2.6.18", "7.9.2009", "012"}) CHECK(IsDottedVersion(v));
  for (const char* v : {"", ".6", "6.", "6..1", "6a", "v6", "6.1-1", " 6", "6.x"}) {
    CAPTURE(v);
    CHECK_FALSE(IsDottedVersion(v));
  }
}

TEST_CASE("version: dotted versions compare component by component") {
  CHECK(CompareVersions("6.4", "6.10") == -1);
  CHECK(CompareVersions("6.10", "6.4") == 1);
  CHECK(CompareVersions("2.6.18", "2.6.32") == -1);
  CHECK(CompareVersions("6.10", "6.10") == 0);
  CHECK(CompareVersions("6", "6.0") == 0);
  CHECK(CompareVersions("6.0.00", "6") == 0);
  CHECK(CompareVersions("6.01", "6.1") == 0);
  CHECK(CompareVersions("6", "6.0.1") == -1);
  CHECK(CompareVersions("7", "6.99") == 1);
  CHECK(CompareVersions("10", "9") == 1);
}

TEST_CASE("version: releases compare digit runs numerically, the rest byte-wise") {
  CHECK(CompareVersions("2.6.32-754.el6", "2.6.32-431.el6") == 1);
  CHECK(CompareVersions("5.10.0", "5.4.0") == 1);
  CHECK(CompareVersions("2.6.18-92.el5", "2.6.18-419.el5") == -1);
  CHECK(CompareVersions("2.6.32", "2.6.32-754") == -1);
  CHECK(CompareVersions("2.6.32-754", "2.6.32") == 1);
  CHECK(CompareVersions("5.4.0-a", "5.4.0-b") == -1);
  CHECK(CompareVersions("", "") == 0);
  CHECK(CompareVersions("", "1") == -1);
}
