// package: one software package, installed at a version or removed
// (SPEC 3.10), through apt, dpkg, dnf, yum or rpm (commands:
// pkg_commands.h; output formats: pkg_query.h; ordering: pkg_version.h).
//
// Choices (README):
//  - Prefetch reads the installed set once per family (one dpkg-query or
//    rpm -qa), the candidates of every `latest` once per provider (one
//    apt-cache policy / repoquery) and each `source` file's name and
//    version (dpkg-deb -f / rpm -qp). Read only looks these up.
//  - Apply queues; Flush runs, per provider (and install_options), one
//    removal call, then one install call, then reads the installed set
//    again and fails the batch naming every package that did not reach
//    its state. Each resource's report says how many calls ran.
//  - ensure is shown as the installed version ("1.0-1", rpm
//    "epoch:version-release"); present is in sync with any version,
//    latest with the candidate or newer, VERSION when the package
//    manager's ordering says equal (rpm: without a release, the version
//    alone: "1.0" matches 1.0-3.el9).
//  - absent removes (dpkg --remove, apt-get remove: configuration files
//    stay, as Puppet's absent; dpkg then reports "rc", which is absent).
//  - provider auto: a .deb source -> dpkg, a .rpm source -> rpm; os.family
//    Debian (or a root with /var/lib/dpkg/status) -> apt when the root has
//    apt-get, else dpkg; RedHat (or a root with an rpm database) -> dnf,
//    yum when the root has yum and no dnf or its release is older than 8;
//    otherwise an error asking for a provider (an empty image root).
//  - dpkg under --root unpacks through the root's paths on the build
//    machine: a root whose top directories are absolute symlinks is
//    refused (they would lead dpkg outside the root).
#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "engine/host.h"
#include "engine/provider.h"
#include "engine/registry.h"
#include "resources/builtin.h"
#include "resources/package/pkg_commands.h"
#include "resources/package/pkg_query.h"
#include "resources/package/pkg_version.h"

namespace keel {
namespace {

using pkg::Family;
using pkg::Kind;

TypeSchema Schema() {
  return {
      .name = "package",
      .doc = "A software package installed at a version, the newest, or removed.",
      .attrs =
          {
              {.name = "name",
               .role = AttrRole::kNamevar,
               .doc = "Package name (the title), as the package manager spells it."},
              {.name = "ensure",
               .default_value = Value("present"),
               .doc = "present (any version), absent (removed), latest (the repositories' "
                      "candidate: apt-cache policy / repoquery) or a VERSION, compared with the "
                      "package manager's own ordering (dpkg's, rpm's), never as text."},
              {.name = "provider",
               .role = AttrRole::kParameter,
               .default_value = Value("auto"),
               .allowed = {"auto", "apt", "dpkg", "dnf", "yum", "rpm"},
               .doc = "auto: dpkg/rpm for a .deb/.rpm source, else from os.family and what the "
                      "root has (apt-get, dnf, yum, the dpkg or rpm database)."},
              {.name = "source",
               .role = AttrRole::kParameter,
               .doc = "A .deb or .rpm file in the config repo (resolved next to the manifest, "
                      "confined to the repo) for dpkg/rpm."},
              {.name = "install_options",
               .kind = AttrKind::kList,
               .role = AttrRole::kParameter,
               .doc = "Extra arguments of the install call (dnf/yum: also of their queries and "
                      "removals), e.g. [\"--releasever=9\"]. Resources with different options "
                      "are installed by different calls."},
          },
  };
}

bool ValidName(const std::string& n) {
  if (n.empty() || n.size() > 256) return false;
  if (!std::isalnum(static_cast<unsigned char>(n[0]))) return false;
  for (char c : n)
    if (!std::isalnum(static_cast<unsigned char>(c)) &&
        std::string_view("._+-:").find(c) == std::string_view::npos)
      return false;
  return true;
}

bool EndsWith(const std::string& s, std::string_view suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

bool IsKeyword(const std::string& e) { return e == "present" || e == "absent" || e == "latest"; }

void Validate(const Resource& r, std::vector<AttrProblem>& problems) {
  const std::string name = r.GetString("name");
  if (!ValidName(name))
    problems.push_back({"name", "'" + name +
                                    "' is not a package name (letters, digits and . _ + - :, "
                                    "starting with a letter or digit)"});
  const std::string provider = r.GetString("provider");
  const std::string ensure = r.GetString("ensure");
  if (!IsKeyword(ensure)) {
    bool deb = provider == "apt" || provider == "dpkg";
    bool rpm = provider == "dnf" || provider == "yum" || provider == "rpm";
    bool ok = (deb || !rpm ? pkg::PlausibleVersion(Family::kDeb, ensure) : false) ||
              (rpm || !deb ? pkg::PlausibleVersion(Family::kRpm, ensure) : false);
    if (!ok)
      problems.push_back(
          {"ensure", "'" + ensure + "' is neither present, absent, latest nor a version"});
  }
  if (r.Has("source")) {
    const std::string src = r.GetString("source");
    bool deb = EndsWith(src, ".deb"), rpm = EndsWith(src, ".rpm");
    if (!deb && !rpm)
      problems.push_back({"source", "'" + src + "' is neither a .deb nor a .rpm file"});
    else if (provider != "auto" && provider != "dpkg" && provider != "rpm")
      problems.push_back({"source", "provider " + provider +
                                        " installs from repositories; source is for dpkg "
                                        "(.deb) and rpm (.rpm)"});
    else if ((provider == "dpkg" && !deb) || (provider == "rpm" && !rpm))
      problems.push_back({"source", "provider " + provider + " cannot install '" + src + "'"});
  }
}

Result<Kind> KindFromName(const std::string& p) {
  if (p == "apt") return Kind::kApt;
  if (p == "dpkg") return Kind::kDpkg;
  if (p == "dnf") return Kind::kDnf;
  if (p == "yum") return Kind::kYum;
  if (p == "rpm") return Kind::kRpm;
  return MakeError(ErrorCode::kInvalid, "unknown provider " + p);
}

/// What Read found and decided for one resource.
struct PackageState {
  Kind kind = Kind::kApt;
  std::optional<std::string> installed;  // version; nullopt = not installed
  bool in_sync = true;
  bool remove = false;
  std::string target;  // version to install; "" = the tool's choice (present)
  std::string file;    // package file to install (dpkg, rpm)
};

/// What the installed-set query of a family found (or why it failed).
struct FamilyState {
  bool queried = false;
  std::optional<std::string> error;
  pkg::InstalledSet installed;
};

struct Queued {
  std::string id, name;
  Kind kind;
  bool remove = false;
  std::string spec;    // what the install call names (name, name=ver, file)
  std::string target;  // expected version after install ("" = any)
  std::vector<std::string> options;
};

bool RootLink(Host& host, const char* p) {
  auto info = host.Lstat(*HostPath::Parse(p));
  return info.ok() && info->type == FileType::kSymlink && !info->link_target.empty() &&
         info->link_target[0] == '/';
}

// Where the build machine's kernel takes `inside` of the root `root` when a
// command given the path root+inside follows its symlinks (dpkg --root,
// dpkg-query --admindir, rpm --root/--dbpath run outside any chroot): ""
// when it stays in the root, else the host path it reaches. The deepest
// existing ancestor is resolved (the rest is created below it).
std::string EscapesRoot(const std::string& root, const std::string& inside) {
  if (root.empty() || root == "/") return "";
  char buf[PATH_MAX];
  if (::realpath(root.c_str(), buf) == nullptr) return "";
  std::string real_root = buf;
  std::string p = root + inside;
  while (!p.empty()) {
    if (::realpath(p.c_str(), buf) != nullptr) break;
    if (errno != ENOENT && errno != ENOTDIR) return p;  // a loop, too long: not trusted
    size_t slash = p.rfind('/');
    if (slash == std::string::npos || slash == 0) return "";
    p.resize(slash);
  }
  std::string got = buf;
  if (got == real_root ||
      (got.size() > real_root.size() && got.starts_with(real_root) && got[real_root.size()] == '/'))
    return "";
  return got;
}

bool Exists(Host& host, const std::string& p) {
  auto path = HostPath::Parse(p);
  if (!path.ok()) return false;
  auto info = host.Stat(*path);
  return info.ok() && info->exists();
}

std::string Join(const std::vector<std::string>& v, const char* sep = ", ") {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : sep) + s;
  return out;
}

// Last `n` lines of `text`, without trailing blank lines.
std::string Tail(std::string text, size_t n) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  size_t pos = text.size();
  for (size_t k = 0; k < n && pos != std::string::npos && pos > 0; ++k)
    pos = text.rfind('\n', pos - 1);
  return pos == std::string::npos || pos == 0 ? text : text.substr(pos + 1);
}

// One package-manager transaction. A failure says what (the packages),
// the command as typed, and the manager's last words: its error output
// first (dpkg, dnf and apt explain there; stdout is progress), else stdout.
Result<void> RunPackageManager(Host& host, const Command& cmd, const std::string& what) {
  auto r = host.Run(cmd);
  if (!r.ok()) {
    Error e = r.error();
    return e.Context(what);
  }
  if (r->timed_out)
    return MakeError(ErrorCode::kTimeout, what + ": " + pkg::ShownCommand(cmd) +
                                              " timed out after " + std::to_string(cmd.timeout_s) +
                                              " s");
  if (r->exit_code == 0) return {};
  // Up to 10 lines: the end of the progress output, then the errors.
  std::string err = Tail(r->err, 10);
  size_t err_lines =
      err.empty() ? 0 : 1 + static_cast<size_t>(std::count(err.begin(), err.end(), '\n'));
  std::string out = err_lines < 10 ? Tail(r->out, 10 - err_lines) : std::string();
  std::string tail = out.empty() ? err : (err.empty() ? out : out + "\n" + err);
  return MakeError(ErrorCode::kCommand, what + ": " + pkg::ShownCommand(cmd) + " failed (exit " +
                                            std::to_string(r->exit_code) + ")" +
                                            (tail.empty() ? "" : ":\n" + tail));
}

class PackageProvider : public Provider {
 public:
  Result<void> Prefetch(std::span<const Resource* const> all, Host& host,
                        RunContext& ctx) override {
    target_.root = host.root();
    target_.live = host.live();
    if (const Value* f = ctx.facts.Get("os.family"); f && f->is_string())
      os_family_ = f->as_string();
    if (const Value* m = ctx.facts.Get("os.release.major"); m && m->is_scalar())
      os_major_ = m->ToString();
    has_dpkg_db_ = Exists(host, "/var/lib/dpkg/status");
    has_apt_ = HasProgram(host, "apt-get");
    has_dnf_ = HasProgram(host, "dnf");
    has_yum_ = HasProgram(host, "yum");
    target_.rpm_dbpath = "/var/lib/rpm";
    has_rpm_db_ = false;
    for (const char* dir : {"/var/lib/rpm", "/usr/lib/sysimage/rpm"}) {
      for (const char* db : {"rpmdb.sqlite", "Packages", "Packages.db"}) {
        if (Exists(host, std::string(dir) + "/" + db)) {
          if (!has_rpm_db_) target_.rpm_dbpath = dir;
          has_rpm_db_ = true;
        }
      }
    }
    target_.root_has_reposdir = Exists(host, "/etc/yum.repos.d");

    // Kinds, the families to query, the candidates to ask for, the files.
    std::map<Kind, std::map<std::string, std::vector<std::string>>>
        latest;  // kind -> opts -> names
    for (const Resource* r : all) {
      auto kind = KindOf(*r);
      if (!kind.ok()) continue;
      families_[pkg::FamilyOf(*kind)];
      if (r->GetString("ensure") == "latest" && !r->Has("source"))
        latest[*kind][Join(r->GetList("install_options"), "\x1f")].push_back(r->GetString("name"));
      if (r->Has("source")) ReadFile(host, pkg::FamilyOf(*kind), r->GetString("source"));
    }
    for (auto& [family, st] : families_) QueryInstalled(host, family, st);
    for (const auto& [kind, by_opts] : latest) {
      for (const auto& [opts, names] : by_opts) {
        std::vector<std::string> options;
        for (const Resource* r : all)
          if (Join(r->GetList("install_options"), "\x1f") == opts) {
            options = r->GetList("install_options");
            break;
          }
        QueryCandidates(host, kind, names, options);
      }
    }
    return {};
  }

  Result<Observation> Read(const Resource& want, Host& host, RunContext& ctx) override {
    (void)ctx;
    std::lock_guard<std::mutex> lock(mu_);  // --jobs: resources of this type converge at once
    auto kind = KindOf(want);
    if (!kind.ok()) return kind.error();
    const Family family = pkg::FamilyOf(*kind);
    auto fit = families_.find(family);
    if (fit == families_.end()) {  // a resource Prefetch did not see (keel resource)
      QueryInstalled(host, family, families_[family]);
      fit = families_.find(family);
    }
    if (fit->second.error) return MakeError(ErrorCode::kIo, *fit->second.error);
    const std::string name = want.GetString("name");
    const std::string ensure = want.GetString("ensure");

    Observation have;
    PackageState& st = have.SetState(PackageState{});
    st.kind = *kind;
    if (const pkg::Installed* in = pkg::FindInstalled(fit->second.installed, family, name))
      st.installed = in->version;
    have.Set("ensure", Value(st.installed ? *st.installed : "absent"));
    have.Set("provider", Value(pkg::KindName(*kind)));

    // The version a source file holds, when it is given.
    std::optional<pkg::PackageFile> file;
    if (want.Has("source")) {
      const std::string src = want.GetString("source");
      auto f = files_.find(src);
      if (f == files_.end()) {
        ReadFile(host, family, src);
        f = files_.find(src);
      }
      if (!f->second.ok()) return f->second.error();
      file = *f->second;
      if (file->name != name)
        return MakeError(ErrorCode::kInvalid, want.id() + ": source " + src + " holds package '" +
                                                  file->name + "', not '" + name + "'");
      st.file = src;
    }

    if (ensure == "absent") {
      st.remove = true;
      st.in_sync = !st.installed;
      return have;
    }
    if (ensure == "present") {
      st.in_sync = st.installed.has_value();
      if (file) st.target = file->version;
    } else if (ensure == "latest") {
      std::optional<std::string> cand;
      if (file) {
        cand = file->version;
      } else {
        auto ck = candidates_.find(CandKey(*kind, want));
        if (ck != candidates_.end() && !ck->second.ok()) return ck->second.error();
        if (ck != candidates_.end())
          if (auto c = ck->second->find(name); c != ck->second->end()) cand = c->second;
      }
      if (!cand) {
        if (*kind == Kind::kDpkg || *kind == Kind::kRpm)
          return MakeError(ErrorCode::kInvalid,
                           want.id() + ": ensure latest with provider " + pkg::KindName(*kind) +
                               " needs a source file (there is no repository to ask)");
        return MakeError(ErrorCode::kNotFound, want.id() + ": no candidate version of '" + name +
                                                   "' in the " + pkg::KindName(*kind) +
                                                   " repositories");
      }
      st.target = *cand;
      st.in_sync = st.installed && pkg::Compare(family, *st.installed, *cand) >= 0;
    } else {
      if (file && pkg::Compare(family, file->version, ensure) != 0)
        return MakeError(ErrorCode::kInvalid, want.id() + ": source " + want.GetString("source") +
                                                  " is version " + file->version + ", not " +
                                                  ensure);
      st.target = ensure;
      st.in_sync = st.installed && pkg::Compare(family, *st.installed, ensure) == 0;
    }
    if (!st.in_sync && (*kind == Kind::kDpkg || *kind == Kind::kRpm) && !file)
      return MakeError(ErrorCode::kInvalid, want.id() + ": provider " + pkg::KindName(*kind) +
                                                " installs from a package file: set source");
    if (!st.in_sync && (*kind == Kind::kDpkg || *kind == Kind::kRpm) && !target_.live) {
      for (const char* top : {"/usr", "/var", "/etc", "/bin", "/sbin", "/lib", "/lib64", "/opt"})
        if (RootLink(host, top))
          return MakeError(ErrorCode::kUnsupported,
                           want.id() + ": " + top + " in the root is an absolute symlink; " +
                               pkg::KindName(*kind) + " --root would follow it outside the root");
      // Any symlink (absolute, or relative and climbing out) on the paths
      // the package manager is given on the build machine.
      std::vector<std::string> paths = {"/usr", "/var",   "/etc", "/bin",    "/sbin",
                                        "/lib", "/lib64", "/opt", "/var/log"};
      paths.push_back(*kind == Kind::kDpkg ? "/var/lib/dpkg" : target_.rpm_dbpath);
      for (const auto& p : paths)
        if (std::string out = EscapesRoot(target_.root, p); !out.empty())
          return MakeError(ErrorCode::kUnsupported,
                           want.id() + ": " + p + " in the root leads outside it (to " + out +
                               "); " + pkg::KindName(*kind) + " --root would write there");
    }
    return have;
  }

  std::vector<Change> Diff(const Resource& want, const Observation& have,
                           RunContext& ctx) override {
    (void)ctx;
    std::vector<Change> out;
    const PackageState* st = have.State<PackageState>();
    if (!st || st->in_sync) return out;
    // Absent is "no value" on either side, as the file type shows it.
    std::optional<Value> from, to;
    if (st->installed) from = Value(*st->installed);
    if (!st->remove) to = Value(!st->target.empty() ? st->target : want.GetString("ensure"));
    out.push_back({"ensure", from, to, ""});
    return out;
  }

  Result<void> Apply(const Resource& want, const Observation& have, std::span<const Change> changes,
                     Host& host, RunContext& ctx, Outcome& out) override {
    (void)ctx;
    std::lock_guard<std::mutex> lock(mu_);
    const PackageState* st = have.State<PackageState>();
    if (!st || changes.empty()) return {};
    Queued q;
    q.id = want.id();
    q.name = want.GetString("name");
    q.kind = st->kind;
    q.remove = st->remove;
    q.options = want.GetList("install_options");
    q.target = st->target;
    if (!st->file.empty())
      q.spec = st->file;
    else if (!st->target.empty())
      q.spec = pkg::VersionSpec(st->kind, q.name, st->target);
    else
      q.spec = q.name;
    queue_.push_back(q);
    // Later resources (and a plan) see the package as it will be.
    auto& set = families_[pkg::FamilyOf(st->kind)].installed;
    if (st->remove)
      set.erase(q.name);
    else
      set[q.name].version = !st->target.empty() ? st->target : std::string("present");
    if (host.dry_run())
      out.message = std::string("one ") + pkg::KindName(st->kind) +
                    (st->remove ? " removal" : " install") + " call for all packages";
    return {};
  }

  bool VerifyAfterApply() const override { return false; }

  Result<void> Flush(std::span<const Resource* const> changed, Host& host,
                     RunContext& ctx) override {
    (void)changed, (void)ctx;
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<Queued> batch;
    batch.swap(queue_);
    if (batch.empty()) return {};
    // Groups: one provider and one set of options each.
    std::map<std::pair<Kind, std::string>, std::vector<const Queued*>> groups;
    for (const auto& q : batch) groups[{q.kind, Join(q.options, "\x1f")}].push_back(&q);
    std::vector<std::string> errors;
    std::set<Family> touched;
    for (const auto& [key, qs] : groups) {
      const Kind kind = key.first;
      const std::vector<std::string>& options = qs.front()->options;
      std::vector<std::string> rm_names, in_specs, in_names;
      for (const Queued* q : qs) {
        if (q->remove) {
          rm_names.push_back(q->name);
        } else {
          in_specs.push_back(q->spec);
          in_names.push_back(q->name);
        }
      }
      touched.insert(pkg::FamilyOf(kind));
      const std::vector<std::string> no_options;
      const bool dnf_like = kind == Kind::kDnf || kind == Kind::kYum;
      if (!rm_names.empty()) {
        auto r = RunPackageManager(
            host,
            pkg::RemoveCommand(kind, target_, rm_names,
                               dnf_like ? WithReleasever(kind, options) : no_options),
            std::string("package: removing ") + Join(rm_names) + " with " + pkg::KindName(kind));
        ++calls_;
        Note(qs, true, kind, rm_names.size(), r.ok());
        if (!r.ok()) errors.push_back(r.error().message);
      }
      if (!in_specs.empty()) {
        auto r = RunPackageManager(
            host,
            pkg::InstallCommand(kind, target_, in_specs,
                                dnf_like ? WithReleasever(kind, options) : options),
            std::string("package: installing ") + Join(in_names) + " with " + pkg::KindName(kind));
        ++calls_;
        Note(qs, false, kind, in_specs.size(), r.ok());
        if (!r.ok()) errors.push_back(r.error().message);
      }
    }
    // Verify: the installed set as the package manager now reports it.
    for (Family f : touched) {
      FamilyState& st = families_[f];
      st = FamilyState{};
      QueryInstalled(host, f, st);
      if (st.error) {
        errors.push_back("reading the installed packages after the transaction: " + *st.error);
        continue;
      }
      std::vector<std::string> wrong;
      for (const auto& q : batch) {
        if (pkg::FamilyOf(q.kind) != f) continue;
        const pkg::Installed* in = pkg::FindInstalled(st.installed, f, q.name);
        if (q.remove && in)
          wrong.push_back(q.name + " (still installed: " + in->version + ")");
        else if (!q.remove && !in)
          wrong.push_back(q.name + " (not installed)");
        else if (!q.remove && !q.target.empty() && pkg::Compare(f, in->version, q.target) != 0)
          wrong.push_back(q.name + " (" + in->version + ", wanted " + q.target + ")");
      }
      if (!wrong.empty() && errors.empty())
        errors.push_back("after the transaction: " + Join(wrong));
    }
    if (!errors.empty()) return MakeError(ErrorCode::kCommand, Join(errors, "; "));
    return {};
  }

  std::string FlushMessage(const Resource& r) const override {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = notes_.find(r.id());
    if (it == notes_.end()) return "";
    return it->second + " (" + std::to_string(calls_) + " package-manager call" +
           (calls_ == 1 ? "" : "s") + " this run)";
  }

 private:
  Result<Kind> KindOf(const Resource& r) const {
    const std::string p = r.GetString("provider");
    if (p != "auto") return KindFromName(p);
    const std::string src = r.GetString("source");
    if (EndsWith(src, ".deb")) return Kind::kDpkg;
    if (EndsWith(src, ".rpm")) return Kind::kRpm;
    // A family keel has no provider for (or "unknown"): the database decides.
    const bool known = os_family_ == "Debian" || os_family_ == "RedHat";
    const bool debian = os_family_ == "Debian" || (!known && has_dpkg_db_);
    const bool redhat = os_family_ == "RedHat" || (!known && !debian && has_rpm_db_);
    if (debian) return has_apt_ ? Kind::kApt : Kind::kDpkg;
    if (redhat) {
      if (has_dnf_) return Kind::kDnf;
      if (has_yum_) return Kind::kYum;
      int major = 0;
      for (char c : os_major_) {
        if (c < '0' || c > '9') break;
        major = major * 10 + (c - '0');
      }
      return major > 0 && major < 8 ? Kind::kYum : Kind::kDnf;
    }
    return MakeError(ErrorCode::kUnsupported,
                     r.id() +
                         ": provider auto cannot tell the root's package manager (os.family '" +
                         (os_family_.empty() ? std::string("unknown") : os_family_) +
                         "', no dpkg or rpm database); set provider");
  }

  static std::string CandKey(Kind kind, const Resource& r) {
    return std::string(pkg::KindName(kind)) + "\x1e" + Join(r.GetList("install_options"), "\x1f");
  }

  // dnf/yum under --root need a release version; the root's facts give it
  // unless the options do.
  std::vector<std::string> WithReleasever(Kind kind, std::vector<std::string> options) const {
    (void)kind;
    for (const auto& o : options)
      if (o.rfind("--releasever", 0) == 0) return options;
    if (!target_.live && !os_major_.empty() && os_family_ == "RedHat")
      options.push_back("--releasever=" + os_major_);
    return options;
  }

  void QueryInstalled(Host& host, Family family, FamilyState& st) {
    st.queried = true;
    // No database yet (an image from nothing): nothing is installed, and a
    // query would create one.
    if (!target_.live && family == Family::kDeb && !has_dpkg_db_ &&
        !Exists(host, "/var/lib/dpkg/status"))
      return;
    if (!target_.live) {
      // The query runs on the build machine with root+path: a symlink there
      // would make it read (and a later install write) outside the root; a
      // FIFO or device as the database would block it.
      const std::string db = family == Family::kDeb ? "/var/lib/dpkg" : target_.rpm_dbpath;
      if (std::string out = EscapesRoot(target_.root, db); !out.empty()) {
        st.error = "package: " + db + " in the root leads outside it (to " + out +
                   "); refusing to run the package manager on it";
        return;
      }
      if (family == Family::kDeb) {
        auto info = host.Stat(*HostPath::Parse("/var/lib/dpkg/status"));
        if (info.ok() && info->exists() && info->type != FileType::kFile) {
          st.error = "package: /var/lib/dpkg/status in the root is not a regular file";
          return;
        }
      }
    }
    if (!target_.live && family == Family::kRpm && !has_rpm_db_) {
      bool now = false;
      for (const char* db : {"rpmdb.sqlite", "Packages", "Packages.db"})
        now = now || Exists(host, target_.rpm_dbpath + "/" + db);
      if (!now) return;
    }
    auto r = RunChecked(host, pkg::InstalledQuery(family, target_),
                        "package: reading the installed packages");
    if (!r.ok()) {
      st.error = r.error().message;
      return;
    }
    auto set = family == Family::kDeb ? pkg::ParseDpkgQuery(r->out) : pkg::ParseRpmQuery(r->out);
    if (!set.ok()) {
      st.error = "package: " + set.error().message;
      return;
    }
    st.installed = std::move(*set);
  }

  void QueryCandidates(Host& host, Kind kind, const std::vector<std::string>& names,
                       const std::vector<std::string>& options) {
    const std::string key = std::string(pkg::KindName(kind)) + "\x1e" + Join(options, "\x1f");
    if (kind != Kind::kApt && kind != Kind::kDnf && kind != Kind::kYum) return;
    auto r = RunChecked(host,
                        pkg::CandidateQuery(kind, target_, names,
                                            kind == Kind::kApt ? std::vector<std::string>{}
                                                               : WithReleasever(kind, options)),
                        "package: asking the " + std::string(pkg::KindName(kind)) +
                            " repositories for " + Join(names));
    if (!r.ok()) {
      candidates_.emplace(key, r.error());
      return;
    }
    candidates_.emplace(
        key, kind == Kind::kApt ? pkg::ParseAptPolicy(r->out) : pkg::ParseRepoquery(r->out));
  }

  void ReadFile(Host& host, Family family, const std::string& file) {
    if (files_.count(file)) return;
    auto r = RunChecked(host, pkg::FileQuery(family, file), "package: reading " + file);
    if (!r.ok()) {
      files_.emplace(file, r.error());
      return;
    }
    auto pf = family == Family::kDeb ? pkg::ParseDebFields(r->out) : pkg::ParseRpmFile(r->out);
    if (!pf.ok()) {
      Error e = pf.error();
      files_.emplace(file, e.Context(file));
      return;
    }
    files_.emplace(file, std::move(*pf));
  }

  void Note(const std::vector<const Queued*>& qs, bool remove, Kind kind, size_t n, bool ok) {
    std::string packages = std::to_string(n) + " package" + (n == 1 ? "" : "s");
    std::string text = ok ? std::string(remove ? "removed" : "installed") + " by one " +
                                pkg::KindName(kind) + " call for " + packages
                          : std::string("the one ") + pkg::KindName(kind) +
                                (remove ? " removal" : " install") + " call for " + packages +
                                " failed";
    for (const Queued* q : qs)
      if (q->remove == remove) notes_[q->id] = text;
  }

  pkg::Target target_;
  std::string os_family_, os_major_;
  bool has_dpkg_db_ = false, has_rpm_db_ = false, has_apt_ = false, has_dnf_ = false,
       has_yum_ = false;
  std::map<Family, FamilyState> families_;
  std::map<std::string, Result<std::map<std::string, std::string>>> candidates_;
  std::map<std::string, Result<pkg::PackageFile>> files_;
  std::vector<Queued> queue_;
  std::map<std::string, std::string> notes_;  // id -> what the flush did for it
  int calls_ = 0;
  mutable std::mutex mu_;  // guards the members above after Prefetch
};

}  // namespace

void RegisterPackage(Registry& r) {
  r.Add({
      .schema = Schema(),
      .make_provider = [] { return std::make_unique<PackageProvider>(); },
      .validate = Validate,
      .repo_paths = {"source"},
  });
}

}  // namespace keel
