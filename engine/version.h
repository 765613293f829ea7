// Version strings: the one detection and the one comparison of dotted
// versions ("6.10", "2.6.18") and release strings ("2.6.32-754.el6"), used
// by the expression language and the facts. Pure functions on strings; a
// resource may include this header.
#pragma once

#include <string_view>

namespace keel {

/// True for digits separated by single dots: "6", "6.10", "7.9.2009".
/// False for "", ".6", "6.", "6..1", "6a", "v6".
bool IsDottedVersion(std::string_view s);

/// Orders versions and releases: runs of digits compare numerically
/// (leading zeros ignored), everything else byte by byte; when one string
/// is a prefix of the other, missing ".0" components count as zero ("6" ==
/// "6.0" == "6.00"), any other remainder makes the longer one greater
/// ("2.6.32-754" > "2.6.32"). Returns -1, 0 or 1.
/// "6.4" < "6.10", "5.10.0" > "5.4.0", "2.6.32-754.el6" > "2.6.32-431.el6".
int CompareVersions(std::string_view a, std::string_view b);

}  // namespace keel
