// Package version ordering with the package managers' own code: Debian's
// through libapt-pkg (debVS, the comparison apt and dpkg implement), RPM's
// through librpm (rpmverCmp over [epoch:]version[-release], rpmvercmp
// inside). Never string order: "1.10" > "1.9", "1.0~rc1" < "1.0",
// "1:0.9" > "2.0". Pure functions; thread-safe.
#pragma once

#include <string>
#include <string_view>

namespace keel::pkg {

enum class Family { kDeb, kRpm };

/// dpkg's ordering of two Debian versions ([epoch:]upstream[-revision]):
/// -1, 0 or 1. "1.0-1" == "0:1.0-1"; "1.0~rc1" < "1.0" < "1.0+b1".
int CompareDeb(std::string_view a, std::string_view b);

/// rpm's ordering of two [epoch:]version[-release] strings: -1, 0 or 1.
/// A missing epoch is 0. When either side has no release, only epoch and
/// version are compared (as rpm and dnf match "name-1.0" against
/// 1.0-3.el9): "1.0" == "1.0-3". Tilde sorts before anything ("1.0~rc1" <
/// "1.0"), caret after the base but before the next ("1.0" < "1.0^git1" <
/// "1.0.1").
int CompareRpm(std::string_view a, std::string_view b);

int Compare(Family family, std::string_view a, std::string_view b);

/// True when `v` could be a version of the family: non-empty, the version
/// after an optional numeric epoch starts with a digit, only the
/// characters the format allows. Used at load time for ensure: VERSION.
bool PlausibleVersion(Family family, std::string_view v);

}  // namespace keel::pkg
