// `keel version`: the version, the commit the build came from (CMake reads
// it at configure time and re-reads it after each commit or checkout;
// "unknown" outside a git checkout) and the library versions, so a bug
// report says exactly what ran. Header-only libraries report the version
// compiled in; shared ones the version loaded now where they can tell.
#include "engine/cli/version.h"

#include <fmt/core.h>
#include <openssl/crypto.h>
#include <spdlog/version.h>

#include <CLI/Version.hpp>
#include <boost/version.hpp>
#include <nlohmann/json.hpp>

#include "engine/lazy_git.h"  // last: redefines the library calls
#include "keel_build_info.h"

#ifndef KEEL_VERSION
#define KEEL_VERSION "0.0.0"
#endif

namespace keel::cli {
namespace {

std::string Or(const char* v) { return v && *v ? v : "unknown"; }

}  // namespace

std::string VersionText() {
  std::string out = std::string("keel ") + KEEL_VERSION + "\n";
  out += "commit " + Or(KEEL_BUILD_COMMIT) + "\n";
  out += "yaml-cpp " + Or(KEEL_BUILD_YAML_CPP_VERSION) + "\n";
  // libgit2 is loaded on first use (engine/lazy_lib.h): loaded here to ask.
  if (auto loaded = lazy::Require(lazy::Lib::kGit2); loaded.ok()) {
    int major = 0, minor = 0, rev = 0;
    git_libgit2_version(&major, &minor, &rev);
    out += fmt::format("libgit2 {}.{}.{}\n", major, minor, rev);
  } else {
    out += "libgit2 not loaded: " + loaded.error().message + "\n";
  }
  out += fmt::format("Boost {}.{}.{}\n", BOOST_VERSION / 100000, BOOST_VERSION / 100 % 1000,
                     BOOST_VERSION % 100);
  out += "RE2 " + Or(KEEL_BUILD_RE2_VERSION) + "\n";
  out += fmt::format("fmt {}.{}.{}\n", FMT_VERSION / 10000, FMT_VERSION / 100 % 100,
                     FMT_VERSION % 100);
  out += fmt::format("spdlog {}.{}.{}\n", SPDLOG_VER_MAJOR, SPDLOG_VER_MINOR, SPDLOG_VER_PATCH);
  out += fmt::format("nlohmann-json {}.{}.{}\n", NLOHMANN_JSON_VERSION_MAJOR,
                     NLOHMANN_JSON_VERSION_MINOR, NLOHMANN_JSON_VERSION_PATCH);
  out += std::string("CLI11 ") + CLI11_VERSION + "\n";
  out += "librpm " + Or(KEEL_BUILD_LIBRPM_VERSION) + "\n";
  out += "libapt-pkg " + Or(KEEL_BUILD_LIBAPTPKG_VERSION) + "\n";
  out += "libaudit " + Or(KEEL_BUILD_LIBAUDIT_VERSION) + "\n";
#ifdef KEEL_STATIC_DEPS
  // Linked in: the version compiled in is the one that runs (and naming
  // OpenSSL_version would link most of libcrypto for this one line).
  out += std::string("OpenSSL ") + OPENSSL_VERSION_STR + "\n";
#else
  out += std::string("OpenSSL ") + OpenSSL_version(OPENSSL_VERSION_STRING) + "\n";
#endif
  return out;
}

}  // namespace keel::cli
