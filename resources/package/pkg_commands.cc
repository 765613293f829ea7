#include "resources/package/pkg_commands.h"

#include "resources/package/pkg_query.h"

namespace keel::pkg {
namespace {

// Runs "$@" with HOME set to a fresh directory whose .rpmmacros points
// rpm's database at $1 (inside the installroot); removes it afterwards.
constexpr const char* kRpmHomeScript =
    "h=$(mktemp -d) || exit 1; trap 'rm -rf \"$h\"' EXIT; "
    "printf '%%_dbpath %s\\n' \"$1\" > \"$h/.rpmmacros\" || exit 1; shift; HOME=\"$h\" \"$@\"";
// Runs "$@" with a throw-away --installroot (and HOME): queries that must
// not write the root's cache or logs.
constexpr const char* kScratchRootScript =
    "h=$(mktemp -d) || exit 1; trap 'rm -rf \"$h\"' EXIT; tool=$1; shift; "
    "HOME=\"$h\" \"$tool\" --installroot=\"$h/root\" \"$@\"";

std::string RootPath(const Target& t, const std::string& inside) {
  if (t.root == "/" || t.root.empty()) return inside;
  std::string r = t.root;
  while (r.size() > 1 && r.back() == '/') r.pop_back();
  return r + inside;
}

void Append(std::vector<std::string>& to, const std::vector<std::string>& more) {
  to.insert(to.end(), more.begin(), more.end());
}

Command HostCommand(std::vector<std::string> argv, bool query, int timeout_s) {
  Command c;
  c.argv = std::move(argv);
  c.chroot = false;
  c.query = query;
  c.timeout_s = timeout_s;
  return c;
}

constexpr int kQueryTimeout = 300;
constexpr int kTransactionTimeout = 3600;

std::vector<std::string> DpkgBase(const Target& t) {
  std::vector<std::string> argv = {"dpkg"};
  if (!t.live) {
    argv.push_back("--root=" + RootPath(t, ""));
    argv.push_back("--log=" + RootPath(t, "/var/log/dpkg.log"));
  }
  argv.push_back("--force-confold");
  return argv;
}

std::vector<std::string> RpmBase(const Target& t) {
  std::vector<std::string> argv = {"rpm"};
  if (!t.live) {
    argv.push_back("--root=" + RootPath(t, ""));
    argv.push_back("--dbpath=" + t.rpm_dbpath);
  }
  return argv;
}

// dnf/yum acting on the root: wrapped for the database path under --root.
Command DnfCommand(Kind kind, const Target& t, std::vector<std::string> args, bool query,
                   int timeout_s) {
  std::vector<std::string> tool = {kind == Kind::kYum ? "yum" : "dnf", "-y"};
  if (t.live) {
    Append(tool, args);
    return HostCommand(std::move(tool), query, timeout_s);
  }
  tool.push_back("--installroot=" + RootPath(t, ""));
  Append(tool, args);
  std::vector<std::string> argv = {"/bin/sh", "-c", kRpmHomeScript, "keel-rpm", t.rpm_dbpath};
  Append(argv, tool);
  return HostCommand(std::move(argv), query, timeout_s);
}

}  // namespace

const char* KindName(Kind k) {
  switch (k) {
    case Kind::kApt:
      return "apt";
    case Kind::kDpkg:
      return "dpkg";
    case Kind::kDnf:
      return "dnf";
    case Kind::kYum:
      return "yum";
    case Kind::kRpm:
      return "rpm";
  }
  return "?";
}

Family FamilyOf(Kind k) {
  return k == Kind::kApt || k == Kind::kDpkg ? Family::kDeb : Family::kRpm;
}

Command InstalledQuery(Family family, const Target& t) {
  if (family == Family::kDeb) {
    std::vector<std::string> argv = {"dpkg-query"};
    if (!t.live) argv.push_back("--admindir=" + RootPath(t, "/var/lib/dpkg"));
    argv.push_back("-W");
    argv.push_back(std::string("-f=") + kDpkgQueryFormat);
    return HostCommand(std::move(argv), true, kQueryTimeout);
  }
  std::vector<std::string> argv = RpmBase(t);
  Append(argv, {"-qa", "--qf", kRpmQueryFormat});
  return HostCommand(std::move(argv), true, kQueryTimeout);
}

Command CandidateQuery(Kind kind, const Target& t, const std::vector<std::string>& names,
                       const std::vector<std::string>& options) {
  if (kind == Kind::kApt) {
    Command c;
    // No cache files written: a query in a plan must not change a byte.
    c.argv = {
        "apt-cache", "-o", "Dir::Cache::pkgcache=", "-o", "Dir::Cache::srcpkgcache=", "policy"};
    Append(c.argv, names);
    c.query = true;
    c.timeout_s = kQueryTimeout;
    return c;
  }
  if (kind != Kind::kDnf && kind != Kind::kYum) return Command{};
  // yum's repoquery is its own tool (yum-utils); dnf's is a subcommand.
  std::vector<std::string> args;
  if (kind == Kind::kDnf)
    args = {"dnf", "-q"};
  else
    args = {"repoquery", "-q"};
  if (!t.live) {
    if (t.root_has_reposdir) args.push_back("--setopt=reposdir=" + RootPath(t, "/etc/yum.repos.d"));
  }
  Append(args, options);
  if (kind == Kind::kDnf) args.push_back("repoquery");
  Append(args, {"--latest-limit=1", "--qf", kRepoqueryFormat});
  Append(args, names);
  if (t.live) return HostCommand(std::move(args), true, kQueryTimeout);
  std::vector<std::string> argv = {"/bin/sh", "-c", kScratchRootScript, "keel-query"};
  Append(argv, args);
  return HostCommand(std::move(argv), true, kQueryTimeout);
}

Command InstallCommand(Kind kind, const Target& t, const std::vector<std::string>& specs,
                       const std::vector<std::string>& options) {
  switch (kind) {
    case Kind::kApt: {
      Command c;
      c.argv = {"apt-get",
                "install",
                "-y",
                "-q",
                "--allow-downgrades",
                "-o",
                "Dpkg::Options::=--force-confold"};
      Append(c.argv, options);
      Append(c.argv, specs);
      c.env["DEBIAN_FRONTEND"] = "noninteractive";
      c.timeout_s = kTransactionTimeout;
      return c;
    }
    case Kind::kDpkg: {
      std::vector<std::string> argv = DpkgBase(t);
      Append(argv, options);
      argv.push_back("--install");
      Append(argv, specs);
      Command c = HostCommand(std::move(argv), false, kTransactionTimeout);
      c.env["DEBIAN_FRONTEND"] = "noninteractive";
      return c;
    }
    case Kind::kRpm: {
      std::vector<std::string> argv = RpmBase(t);
      Append(argv, options);
      Append(argv, {"-U", "--oldpackage"});
      Append(argv, specs);
      return HostCommand(std::move(argv), false, kTransactionTimeout);
    }
    case Kind::kDnf:
    case Kind::kYum: {
      std::vector<std::string> args = options;
      args.push_back("install");
      Append(args, specs);
      return DnfCommand(kind, t, std::move(args), false, kTransactionTimeout);
    }
  }
  return Command{};
}

Command RemoveCommand(Kind kind, const Target& t, const std::vector<std::string>& names,
                      const std::vector<std::string>& options) {
  switch (kind) {
    case Kind::kApt: {
      Command c;
      c.argv = {"apt-get", "remove", "-y", "-q"};
      Append(c.argv, options);
      Append(c.argv, names);
      c.env["DEBIAN_FRONTEND"] = "noninteractive";
      c.timeout_s = kTransactionTimeout;
      return c;
    }
    case Kind::kDpkg: {
      std::vector<std::string> argv = DpkgBase(t);
      Append(argv, options);
      argv.push_back("--remove");
      Append(argv, names);
      return HostCommand(std::move(argv), false, kTransactionTimeout);
    }
    case Kind::kRpm: {
      std::vector<std::string> argv = RpmBase(t);
      Append(argv, options);
      argv.push_back("-e");
      Append(argv, names);
      return HostCommand(std::move(argv), false, kTransactionTimeout);
    }
    case Kind::kDnf:
    case Kind::kYum: {
      std::vector<std::string> args = options;
      args.push_back("remove");
      Append(args, names);
      return DnfCommand(kind, t, std::move(args), false, kTransactionTimeout);
    }
  }
  return Command{};
}

Command FileQuery(Family family, const std::string& file) {
  if (family == Family::kDeb)
    return HostCommand({"dpkg-deb", "-f", file, "Package", "Version"}, true, kQueryTimeout);
  return HostCommand({"rpm", "-qp", "--nosignature", "--qf", kRpmQueryFormat, file}, true,
                     kQueryTimeout);
}

std::string ShownCommand(const Command& cmd) {
  size_t skip = 0;
  if (cmd.argv.size() > 4 && cmd.argv[0] == "/bin/sh" && cmd.argv[1] == "-c")
    skip = cmd.argv[3] == "keel-rpm" ? 5 : 4;  // sh -c SCRIPT $0 [dbpath]
  std::string out;
  for (size_t i = skip; i < cmd.argv.size(); ++i) {
    const std::string& a = cmd.argv[i];
    bool plain = !a.empty() && a.find_first_of(" \t\n'\"$`\\") == std::string::npos;
    out += (out.empty() ? "" : " ") + (plain ? a : "'" + a + "'");
  }
  return out;
}

std::string VersionSpec(Kind kind, const std::string& name, const std::string& version) {
  if (kind == Kind::kApt) return name + "=" + version;
  if (version.rfind("0:", 0) == 0) return name + "-" + version.substr(2);
  return name + "-" + version;
}

}  // namespace keel::pkg
