// The one user of libapt-pkg and librpm. libapt-pkg's debVS and librpm's
// rpmverCmp need no configuration or database: they are the comparison
// functions only.
#include "resources/package/pkg_version.h"

#include <cctype>
#include <string>

#include "resources/package/lazy_pkg.h"  // last: redefines the library calls

namespace keel::pkg {
namespace {

int Sign(int v) { return v < 0 ? -1 : (v > 0 ? 1 : 0); }

struct Evr {
  std::string epoch = "0", version, release;
};

Evr SplitEvr(std::string_view s) {
  Evr e;
  if (auto colon = s.find(':'); colon != std::string_view::npos) {
    if (colon > 0) e.epoch = std::string(s.substr(0, colon));
    s.remove_prefix(colon + 1);
  }
  if (auto dash = s.rfind('-'); dash != std::string_view::npos) {
    e.release = std::string(s.substr(dash + 1));
    s = s.substr(0, dash);
  }
  e.version = std::string(s);
  return e;
}

}  // namespace

int CompareDeb(std::string_view a, std::string_view b) {
  // libapt-pkg's Debian versioning system, found by name: CmpVersion is
  // virtual, so no symbol of the library is linked.
  static auto* const deb =
      static_cast<pkgVersioningSystem*>(lazy::Symbol(lazy::Lib::kAptPkg, "debVS"));
  return Sign(deb->CmpVersion(std::string(a), std::string(b)));
}

int CompareRpm(std::string_view a, std::string_view b) {
  Evr x = SplitEvr(a), y = SplitEvr(b);
  if (x.release.empty() || y.release.empty()) x.release.clear(), y.release.clear();
  auto text = [](const Evr& e) {
    return e.epoch + ":" + e.version + (e.release.empty() ? "" : "-" + e.release);
  };
  rpmver vx = rpmverParse(text(x).c_str());
  rpmver vy = rpmverParse(text(y).c_str());
  int r;
  if (vx && vy) {
    r = rpmverCmp(vx, vy);
  } else {
    // Unparseable epochs (not digits): fall back to rpmvercmp piecewise.
    r = rpmvercmp(x.epoch.c_str(), y.epoch.c_str());
    if (r == 0) r = rpmvercmp(x.version.c_str(), y.version.c_str());
    if (r == 0) r = rpmvercmp(x.release.c_str(), y.release.c_str());
  }
  rpmverFree(vx);
  rpmverFree(vy);
  return Sign(r);
}

int Compare(Family family, std::string_view a, std::string_view b) {
  return family == Family::kDeb ? CompareDeb(a, b) : CompareRpm(a, b);
}

bool PlausibleVersion(Family family, std::string_view v) {
  if (v.empty()) return false;
  // After an epoch, the version proper starts with a digit (Debian policy;
  // rpm versions do in practice): "newest" is a typo, not a version.
  std::string_view proper = v.substr(v.find(':') == std::string_view::npos ? 0 : v.find(':') + 1);
  if (proper.empty() || !std::isdigit(static_cast<unsigned char>(proper[0]))) return false;
  const std::string_view allowed =
      family == Family::kDeb ? ".+~-:" : ".+~^_-:";  // rpm also has '_' and '^'
  for (char c : v)
    if (!std::isalnum(static_cast<unsigned char>(c)) && allowed.find(c) == std::string_view::npos)
      return false;
  if (v.find(':') != std::string_view::npos) {
    std::string_view epoch = v.substr(0, v.find(':'));
    for (char c : epoch)
      if (!std::isdigit(static_cast<unsigned char>(c))) return false;
    if (v.find(':', epoch.size() + 1) != std::string_view::npos && family == Family::kRpm)
      return false;
    if (epoch.size() + 1 >= v.size()) return false;
  }
  return true;
}

}  // namespace keel::pkg
