// What `keel version` and `keel --version` print.
#pragma once

#include <string>

namespace keel::cli {

/// "keel 0.1.0\ncommit <sha or unknown>\n" then one "<library> <version>"
/// line per library keel was built with (libgit2 and OpenSSL: the versions
/// loaded at run time). Ends with a newline.
std::string VersionText();

}  // namespace keel::cli
