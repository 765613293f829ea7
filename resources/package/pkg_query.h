// What the package managers print, parsed: the installed set (dpkg-query
// -W, rpm -qa), candidate versions (apt-cache policy, dnf/yum repoquery),
// and a package file's own name and version (dpkg-deb -f, rpm -qp). Pure
// functions on strings; the queries' exact formats are the constants below.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/result.h"
#include "resources/package/pkg_version.h"

namespace keel::pkg {

/// dpkg-query -W -f=<kDpkgQueryFormat>: "name\tversion\tstatus-abbrev\tarch".
inline constexpr const char* kDpkgQueryFormat =
    "${Package}\\t${Version}\\t${db:Status-Abbrev}\\t${Architecture}\\n";
/// rpm -qa / -qp / repoquery --qf: "name\tepoch:version-release\tarch".
inline constexpr const char* kRpmQueryFormat =
    "%{NAME}\\t%{EPOCHNUM}:%{VERSION}-%{RELEASE}\\t%{ARCH}\\n";
inline constexpr const char* kRepoqueryFormat =
    "%{name}\\t%{epoch}:%{version}-%{release}\\t%{arch}";

/// One installed package: its version, as the package manager prints it.
/// With several versions or architectures (multilib, kernels), the
/// highest in the family's ordering.
struct Installed {
  std::string version;
  std::vector<std::string> arches;
};
using InstalledSet = std::map<std::string, Installed>;

/// The installed package `name` names: the exact name, else a name with an
/// architecture ("libc6:amd64" for dpkg, "glibc.i686" for rpm) when that
/// architecture is installed. nullptr when not installed.
const Installed* FindInstalled(const InstalledSet& set, Family family, const std::string& name);

/// dpkg-query output in kDpkgQueryFormat. Only fully installed packages
/// count (status "ii", "hi": the second letter 'i'); removed ones with
/// configuration left ("rc") and half-installed ones do not. Lines that do
/// not have four fields are an error naming the line.
Result<InstalledSet> ParseDpkgQuery(std::string_view text);

/// rpm -qa output in kRpmQueryFormat. "(none)" epochs read as 0.
Result<InstalledSet> ParseRpmQuery(std::string_view text);

/// repoquery output (kRepoqueryFormat, one line per package and arch):
/// name -> the highest version. Blank and non-tab lines (dnf's own
/// notices) are skipped.
std::map<std::string, std::string> ParseRepoquery(std::string_view text);

/// apt-cache policy output: name -> candidate; "(none)" is left out.
std::map<std::string, std::string> ParseAptPolicy(std::string_view text);

/// dpkg-deb -f FILE Package Version: the two fields.
struct PackageFile {
  std::string name, version;
};
Result<PackageFile> ParseDebFields(std::string_view text);
/// rpm -qp --qf kRpmQueryFormat FILE: the first line.
Result<PackageFile> ParseRpmFile(std::string_view text);

}  // namespace keel::pkg
