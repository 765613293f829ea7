// The package managers' command lines, built as data (argv + where they
// run): pure, so the exact calls are tested on strings. Choices:
//  - dpkg, rpm, dnf and yum run on the build machine against the root
//    (chroot false): dpkg --root with --log=<root>/var/log/dpkg.log, rpm
//    --root, dnf/yum --installroot (an image from nothing). apt-get and
//    apt-cache run chrooted (they need the root's own apt configuration).
//  - Debian's rpm keeps its database in ~/.rpmdb; RedHat roots keep it in
//    /var/lib/rpm. rpm gets --dbpath; dnf/yum (no such option) run with a
//    private HOME whose .rpmmacros sets %_dbpath, made and removed by a
//    small /bin/sh wrapper around the one call.
//  - Candidate queries (repoquery) never write into the root: under --root
//    they run with a throw-away --installroot and the root's reposdir.
//  - Live (root "/"): the plain commands, the host's own configuration.
#pragma once

#include <string>
#include <vector>

#include "engine/host.h"
#include "resources/package/pkg_version.h"

namespace keel::pkg {

enum class Kind { kApt, kDpkg, kDnf, kYum, kRpm };

const char* KindName(Kind k);
Family FamilyOf(Kind k);

/// Where the commands act.
struct Target {
  std::string root = "/";  // real directory of the root
  bool live = true;
  std::string rpm_dbpath = "/var/lib/rpm";  // inside the root (rpm family, not live)
  bool root_has_reposdir = false;           // <root>/etc/yum.repos.d exists
};

/// The installed-set query of a family (query-marked, on the build machine
/// against the root's database): dpkg-query --admindir / rpm --root -qa.
Command InstalledQuery(Family family, const Target& t);
/// Candidate versions of `names` (apt-cache policy chrooted; dnf/yum
/// repoquery). Query-marked. Not for dpkg/rpm (nullopt-like: empty argv).
Command CandidateQuery(Kind kind, const Target& t, const std::vector<std::string>& names,
                       const std::vector<std::string>& options);
/// One call installing `specs` (names with versions as the tool spells
/// them, or package files for dpkg/rpm).
Command InstallCommand(Kind kind, const Target& t, const std::vector<std::string>& specs,
                       const std::vector<std::string>& options);
/// One call removing `names`.
Command RemoveCommand(Kind kind, const Target& t, const std::vector<std::string>& names,
                      const std::vector<std::string>& options);
/// Name and version of a package file on the build machine (dpkg-deb -f,
/// rpm -qp). Query-marked.
Command FileQuery(Family family, const std::string& file);

/// The command as a person would type it: the package manager's own argv,
/// without keel's /bin/sh wrapper around dnf/yum.
std::string ShownCommand(const Command& cmd);

/// How a tool spells "name at version": apt name=1.0-1, dnf/yum
/// name-1.0-1 (an epoch goes in front of the version: name-2:1.0-1).
std::string VersionSpec(Kind kind, const std::string& name, const std::string& version);

}  // namespace keel::pkg
