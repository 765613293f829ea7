// Facts (SPEC 4), every file read through the Host so that --root reports
// the image. Choices where the SPEC is silent:
//
// - hostname/fqdn. Live: the kernel's node name (uname). Under --root: the
//   first line of /etc/hostname, else HOSTNAME= of /etc/sysconfig/network,
//   else /etc/HOSTNAME (SUSE), else "localhost". A dotted name is split into
//   hostname (first label) and fqdn. Otherwise the domain comes from the
//   root's /etc/hosts (a line naming the host and "host.domain"), else
//   "domain"/"search" of /etc/resolv.conf; fqdn = hostname when unknown.
//   `domain` is a fact too. No DNS query is ever made.
// - os. /etc/os-release (or /usr/lib/os-release) gives ID, ID_LIKE and
//   VERSION_ID; a more precise release of the same major from
//   /etc/redhat-release ("7.9.2009") or /etc/debian_version ("12.5") wins.
//   Else /etc/redhat-release (also centos-/fedora-/system-release), else
//   /etc/lsb-release (Ubuntu), else /etc/debian_version, else
//   /etc/alpine-release, else /etc/SuSE-release. major/minor are the first
//   two dot-separated parts of full ("7.9.2009" -> "7", "9"); all strings.
//   Unknown: family/name "unknown", release "".
// - kernel.release: live, uname. Under --root, the newest directory of the
//   root's /lib/modules (compared as versions, digit runs numerically), else
//   uname. kernel.version is the release up to the first '-' ("2.6.32").
//   kernel.builtin_modules: names from modules.builtin with '-' read as '_'
//   (the kernel's own spelling). kernel.loaded_modules: live /proc/modules,
//   [] under --root.
// - architecture: live, uname's machine. Under --root, the ELF machine of
//   the root's /bin/sh (so an aarch64 image reports aarch64), else uname.
// - init: "systemd" when the root has /usr/lib/systemd/systemd or
//   /lib/systemd/systemd and, live, /run/systemd/system exists; else
//   "sysvinit".
// - bootloader, first match wins: "grubby" (/boot/loader/entries and
//   grubby: BLS), "grub2" (/etc/default/grub,
//   /boot/grub2/grub.cfg, or /boot/grub/grub.cfg with grub2 syntax),
//   "grub-legacy" (/boot/grub/grub.conf or /boot/grub/menu.lst), "grubby"
//   (/sbin/grubby or /usr/sbin/grubby, no grub config yet), else "none".
// - networking.interfaces: live, the names in /sys/class/net; [] under --root.
// - virtual: live, a container ("docker" for /.dockerenv, "podman" for
//   /run/.containerenv, else the container= value of /proc/1/environ), else
//   the hypervisor from /sys/class/dmi/id (kvm, xen, vmware, virtualbox,
//   hyperv, gce) or /proc/xen, else "virtual" when /proc/cpuinfo has the
//   hypervisor flag, else "physical". Under --root: "unknown" (an image has
//   no hardware yet). is_virtual is true unless virtual is physical/unknown.
#include "engine/facts.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <optional>
#include <sstream>

#include "engine/json.h"
#include "engine/text_lines.h"
#include "engine/version.h"
#include "engine/yaml_value.h"

namespace keel {

namespace {

std::optional<std::string> Read(Host& host, const char* path) {
  auto p = HostPath::Parse(path);
  if (!p.ok()) return std::nullopt;
  auto r = host.ReadFile(*p);
  if (!r.ok()) return std::nullopt;
  return *r;
}

bool Exists(Host& host, const char* path) {
  auto p = HostPath::Parse(path);
  if (!p.ok()) return false;
  auto r = host.Stat(*p);
  return r.ok() && r->exists();
}

bool IsDir(Host& host, const std::string& path) {
  auto p = HostPath::Parse(path);
  if (!p.ok()) return false;
  auto r = host.Stat(*p);
  return r.ok() && r->type == FileType::kDirectory;
}

std::vector<std::string> List_(Host& host, const std::string& path) {
  auto p = HostPath::Parse(path);
  if (!p.ok()) return {};
  auto r = host.ListDir(*p);
  if (!r.ok()) return {};
  return *r;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

std::vector<std::string_view> Words(std::string_view line) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && std::isspace(static_cast<unsigned char>(line[i]))) ++i;
    size_t start = i;
    while (i < line.size() && !std::isspace(static_cast<unsigned char>(line[i]))) ++i;
    if (i > start) out.push_back(line.substr(start, i - start));
  }
  return out;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

/// Shell-style KEY=value lines (os-release, sysconfig/network, lsb-release):
/// quotes removed, comments and `export` skipped. Last assignment wins.
std::vector<std::pair<std::string, std::string>> ShellVars(std::string_view text) {
  std::vector<std::pair<std::string, std::string>> out;
  for (std::string_view line : SplitLines(text)) {
    line = Trim(line);
    if (line.empty() || line[0] == '#') continue;
    if (line.substr(0, 7) == "export ") line = Trim(line.substr(7));
    size_t eq = line.find('=');
    if (eq == std::string_view::npos || eq == 0) continue;
    std::string key(Trim(line.substr(0, eq)));
    std::string_view raw = Trim(line.substr(eq + 1));
    std::string val;
    if (!raw.empty() && (raw[0] == '"' || raw[0] == '\'')) {
      char q = raw[0];
      for (size_t i = 1; i < raw.size() && raw[i] != q; ++i) {
        if (q == '"' && raw[i] == '\\' && i + 1 < raw.size()) ++i;
        val += raw[i];
      }
    } else {
      size_t hash = raw.find(" #");
      val = std::string(Trim(raw.substr(0, hash)));
    }
    out.emplace_back(std::move(key), std::move(val));
  }
  return out;
}

std::string ShellVar(std::string_view text, std::string_view key) {
  std::string out;
  for (auto& [k, v] : ShellVars(text))
    if (k == key) out = v;
  return out;
}

struct Uname {
  std::string nodename, release, machine;
};

Uname GetUname() {
  Uname u;
  struct utsname buf;
  if (::uname(&buf) == 0) {
    u.nodename = buf.nodename;
    u.release = buf.release;
    u.machine = buf.machine;
  }
  return u;
}

// ---------------------------------------------------------------- hostname

std::string ConfiguredHostname(Host& host) {
  if (auto t = Read(host, "/etc/hostname")) {
    for (std::string_view line : SplitLines(*t)) {
      line = Trim(line);
      if (!line.empty() && line[0] != '#') return std::string(line);
    }
  }
  if (auto t = Read(host, "/etc/sysconfig/network")) {
    std::string h = ShellVar(*t, "HOSTNAME");
    if (!h.empty()) return h;
  }
  if (auto t = Read(host, "/etc/HOSTNAME")) {
    std::string_view line = Trim(*t);
    line = line.substr(0, line.find('\n'));
    if (!line.empty()) return std::string(Trim(line));
  }
  return "localhost";
}

std::string FindDomain(Host& host, const std::string& hostname) {
  if (auto t = Read(host, "/etc/hosts")) {
    // The first "hostname.domain" name of an entry. Only lines holding
    // "hostname." are split into words: a 500,000-line /etc/hosts costs one
    // substring search per line, no vector of its lines.
    std::string prefix = hostname + ".";
    std::string_view text = *t;
    for (size_t pos = 0; pos < text.size();) {
      size_t nl = text.find('\n', pos);
      if (nl == std::string_view::npos) nl = text.size();
      std::string_view line = text.substr(pos, nl - pos);
      pos = nl + 1;
      line = line.substr(0, line.find('#'));
      if (line.find(prefix) == std::string_view::npos) continue;
      auto w = Words(line);
      for (size_t i = 1; i < w.size(); ++i)
        if (w[i].size() > prefix.size() && w[i].substr(0, prefix.size()) == prefix)
          return std::string(w[i].substr(prefix.size()));
    }
  }
  if (auto t = Read(host, "/etc/resolv.conf")) {
    std::string domain, search;
    for (std::string_view line : SplitLines(*t)) {
      auto w = Words(line);
      if (w.size() >= 2 && w[0] == "domain") domain = std::string(w[1]);
      if (w.size() >= 2 && w[0] == "search" && search.empty()) search = std::string(w[1]);
    }
    if (!domain.empty()) return domain;
    if (!search.empty() && search != ".") return search;
  }
  return "";
}

// ---------------------------------------------------------------- os

struct OsInfo {
  std::string family = "unknown";
  std::string name = "unknown";
  std::string full;
};

std::string NameFromId(const std::string& id) {
  static const std::pair<const char*, const char*> kNames[] = {
      {"centos", "CentOS"},
      {"rhel", "RedHat"},
      {"fedora", "Fedora"},
      {"debian", "Debian"},
      {"ubuntu", "Ubuntu"},
      {"rocky", "Rocky"},
      {"almalinux", "AlmaLinux"},
      {"ol", "OracleLinux"},
      {"amzn", "Amazon"},
      {"sles", "SLES"},
      {"opensuse-leap", "OpenSuSE"},
      {"opensuse-tumbleweed", "OpenSuSE"},
      {"opensuse", "OpenSuSE"},
      {"alpine", "Alpine"},
      {"arch", "Archlinux"},
      {"gentoo", "Gentoo"},
      {"linuxmint", "LinuxMint"},
      {"raspbian", "Raspbian"},
      {"scientific", "Scientific"},
      {"virtuozzo", "Virtuozzo"},
      {"cloudlinux", "CloudLinux"},
  };
  for (auto& [k, v] : kNames)
    if (id == k) return v;
  if (id.empty()) return "unknown";
  std::string out = id;
  out[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(out[0])));
  return out;
}

std::string FamilyFromIds(const std::string& id, const std::string& id_like) {
  std::vector<std::string> ids{id};
  for (auto w : Words(id_like)) ids.emplace_back(w);
  for (const auto& i : ids) {
    if (i == "rhel" || i == "fedora" || i == "centos" || i == "amzn" || i == "ol" || i == "rocky" ||
        i == "almalinux" || i == "scientific")
      return "RedHat";
    if (i == "debian" || i == "ubuntu") return "Debian";
    if (i == "suse" || i == "sles" || i.rfind("opensuse", 0) == 0) return "Suse";
    if (i == "alpine") return "Alpine";
    if (i == "arch") return "Archlinux";
    if (i == "gentoo") return "Gentoo";
  }
  return "unknown";
}

/// "CentOS release 6.3 (Final)", "CentOS Linux release 7.9.2009 (Core)",
/// "Red Hat Enterprise Linux Server release 5.11 (Tikanga)".
bool ParseRedhatRelease(std::string_view text, OsInfo& os) {
  text = Trim(text.substr(0, text.find('\n')));
  if (text.empty()) return false;
  auto w = Words(text);
  os.family = "RedHat";
  std::string lower = Lower(text);
  static const std::pair<const char*, const char*> kPrefixes[] = {
      {"centos stream", "CentOS"},  {"centos", "CentOS"},         {"red hat", "RedHat"},
      {"fedora", "Fedora"},         {"scientific", "Scientific"}, {"oracle", "OracleLinux"},
      {"rocky", "Rocky"},           {"almalinux", "AlmaLinux"},   {"amazon", "Amazon"},
      {"cloudlinux", "CloudLinux"}, {"virtuozzo", "Virtuozzo"},
  };
  os.name = w.empty() ? "unknown" : std::string(w[0]);
  for (auto& [p, n] : kPrefixes) {
    if (lower.rfind(p, 0) == 0) {
      os.name = n;
      break;
    }
  }
  for (size_t i = 0; i + 1 < w.size(); ++i) {
    if (w[i] == "release" && IsDottedVersion(w[i + 1])) {
      os.full = std::string(w[i + 1]);
      return true;
    }
  }
  for (auto word : w) {
    if (IsDottedVersion(word)) {
      os.full = std::string(word);
      return true;
    }
  }
  return true;
}

std::optional<std::string> RedhatReleaseText(Host& host) {
  for (const char* f : {"/etc/redhat-release", "/etc/centos-release", "/etc/fedora-release",
                        "/etc/system-release"}) {
    if (auto t = Read(host, f)) return t;
  }
  return std::nullopt;
}

// A more precise release from a distribution file when it extends os-release's.
std::string Refine(const std::string& full, const std::string& precise) {
  if (IsDottedVersion(precise) && (full.empty() || precise.rfind(full + ".", 0) == 0))
    return precise;
  return full;
}

OsInfo DetectOs(Host& host) {
  OsInfo os;
  auto os_release = Read(host, "/etc/os-release");
  if (!os_release) os_release = Read(host, "/usr/lib/os-release");
  if (os_release) {
    std::string id = Lower(ShellVar(*os_release, "ID"));
    std::string like = Lower(ShellVar(*os_release, "ID_LIKE"));
    if (!id.empty()) {
      os.name = NameFromId(id);
      os.family = FamilyFromIds(id, like);
      os.full = ShellVar(*os_release, "VERSION_ID");
      if (os.family == "RedHat") {
        if (auto t = RedhatReleaseText(host)) {
          OsInfo rh;
          ParseRedhatRelease(*t, rh);
          os.full = Refine(os.full, rh.full);
        }
      } else if (id == "debian") {
        if (auto t = Read(host, "/etc/debian_version"))
          os.full = Refine(os.full, std::string(Trim(*t)));
      } else if (id == "alpine" && os.full.empty()) {
        if (auto t = Read(host, "/etc/alpine-release")) os.full = std::string(Trim(*t));
      }
      return os;
    }
  }
  if (auto t = RedhatReleaseText(host)) {
    if (ParseRedhatRelease(*t, os)) return os;
  }
  if (auto t = Read(host, "/etc/lsb-release")) {
    std::string id = ShellVar(*t, "DISTRIB_ID");
    if (!id.empty()) {
      os.name = NameFromId(Lower(id));
      os.family = FamilyFromIds(Lower(id), "");
      os.full = ShellVar(*t, "DISTRIB_RELEASE");
      return os;
    }
  }
  if (auto t = Read(host, "/etc/debian_version")) {
    os.family = "Debian";
    os.name = "Debian";
    os.full = std::string(Trim(*t));
    return os;
  }
  if (auto t = Read(host, "/etc/alpine-release")) {
    os.family = "Alpine";
    os.name = "Alpine";
    os.full = std::string(Trim(*t));
    return os;
  }
  if (auto t = Read(host, "/etc/SuSE-release")) {
    os.family = "Suse";
    os.name = Lower(*t).find("opensuse") != std::string::npos ? "OpenSuSE" : "SLES";
    std::string version = ShellVar(*t, "VERSION"), patch = ShellVar(*t, "PATCHLEVEL");
    os.full = patch.empty() || patch == "0" ? version : version + "." + patch;
    return os;
  }
  return os;
}

// ---------------------------------------------------------------- kernel, hardware

std::string NewestModulesDir(Host& host) {
  std::string best;
  for (const auto& name : List_(host, "/lib/modules")) {
    if (name.empty() || !std::isdigit(static_cast<unsigned char>(name[0]))) continue;
    if (!IsDir(host, "/lib/modules/" + name)) continue;
    if (best.empty() || CompareVersions(name, best) > 0) best = name;
  }
  return best;
}

Value BuiltinModules(Host& host, const std::string& release) {
  List out;
  if (release.empty() || release.find('/') != std::string::npos) return Value(std::move(out));
  auto p = HostPath::Parse("/lib/modules/" + release + "/modules.builtin");
  if (!p.ok()) return Value(std::move(out));
  auto text = host.ReadFile(*p);
  if (!text.ok() || !*text) return Value(std::move(out));
  for (std::string_view line : SplitLines(**text)) {
    line = Trim(line);
    if (line.empty()) continue;
    size_t slash = line.rfind('/');
    std::string_view base = slash == std::string_view::npos ? line : line.substr(slash + 1);
    size_t ko = base.find(".ko");
    if (ko != std::string_view::npos) base = base.substr(0, ko);
    std::string name(base);
    std::replace(name.begin(), name.end(), '-', '_');
    if (!name.empty()) out.emplace_back(std::move(name));
  }
  return Value(std::move(out));
}

Value LoadedModules(Host& host) {
  List out;
  if (auto t = Read(host, "/proc/modules")) {
    for (std::string_view line : SplitLines(*t)) {
      auto w = Words(line);
      if (!w.empty()) out.emplace_back(std::string(w[0]));
    }
  }
  return Value(std::move(out));
}

std::string ElfMachine(Host& host) {
  auto t = Read(host, "/bin/sh");
  if (!t || t->size() < 20 ||
      t->compare(0, 4,
                 "\x7f"
                 "ELF") != 0)
    return "";
  const unsigned char* b = reinterpret_cast<const unsigned char*>(t->data());
  bool little = b[5] == 1;
  bool is64 = b[4] == 2;
  unsigned machine = little ? (b[18] | (b[19] << 8)) : ((b[18] << 8) | b[19]);
  switch (machine) {
    case 0x3E:
      return "x86_64";
    case 0x03:
      return "i686";
    case 0xB7:
      return "aarch64";
    case 0x28:
      return "armv7l";
    case 0x15:
      return little ? "ppc64le" : "ppc64";
    case 0x16:
      return "s390x";
    case 0xF3:
      return is64 ? "riscv64" : "riscv32";
    default:
      return "";
  }
}

std::string Bootloader(Host& host) {
  // BLS (RHEL 8+, Fedora): /etc/default/grub exists too, but kernel
  // arguments live in the entries and grubby edits them.
  if (IsDir(host, "/boot/loader/entries") &&
      (Exists(host, "/sbin/grubby") || Exists(host, "/usr/sbin/grubby")))
    return "grubby";
  if (Exists(host, "/etc/default/grub") || Exists(host, "/boot/grub2/grub.cfg")) return "grub2";
  if (auto cfg = Read(host, "/boot/grub/grub.cfg")) {
    if (cfg->find("menuentry") != std::string::npos ||
        cfg->find("### BEGIN") != std::string::npos || cfg->find("insmod") != std::string::npos)
      return "grub2";
  }
  if (Exists(host, "/boot/grub/grub.conf") || Exists(host, "/boot/grub/menu.lst"))
    return "grub-legacy";
  if (Exists(host, "/sbin/grubby") || Exists(host, "/usr/sbin/grubby")) return "grubby";
  return "none";
}

std::string Virtual(Host& host) {
  if (!host.live()) return "unknown";
  if (Exists(host, "/.dockerenv")) return "docker";
  if (Exists(host, "/run/.containerenv")) return "podman";
  if (auto env = Read(host, "/proc/1/environ")) {
    std::string_view e(*env);
    size_t pos = 0;
    while (pos < e.size()) {
      size_t end = e.find('\0', pos);
      if (end == std::string_view::npos) end = e.size();
      std::string_view kv = e.substr(pos, end - pos);
      if (kv.substr(0, 10) == "container=" && kv.size() > 10) return std::string(kv.substr(10));
      pos = end + 1;
    }
  }
  std::string product, vendor;
  if (auto t = Read(host, "/sys/class/dmi/id/product_name")) product = Lower(Trim(*t));
  if (auto t = Read(host, "/sys/class/dmi/id/sys_vendor")) vendor = Lower(Trim(*t));
  auto has = [&](const char* needle) {
    return product.find(needle) != std::string::npos || vendor.find(needle) != std::string::npos;
  };
  if (has("vmware")) return "vmware";
  if (has("virtualbox")) return "virtualbox";
  if (has("kvm") || has("qemu") || has("amazon ec2") || has("openstack")) return "kvm";
  if (has("hvm domu") || has("xen")) return "xen";
  if (has("google")) return "gce";
  if (vendor.find("microsoft") != std::string::npos &&
      product.find("virtual machine") != std::string::npos)
    return "hyperv";
  if (Exists(host, "/proc/xen")) return "xen";
  if (auto t = Read(host, "/proc/cpuinfo")) {
    for (std::string_view line : SplitLines(*t)) {
      if (line.substr(0, 5) != "flags") continue;
      for (auto w : Words(line))
        if (w == "hypervisor") return "virtual";
      break;
    }
  }
  return "physical";
}

}  // namespace

Value GatherFacts(Host& host) {
  Uname u = GetUname();
  bool live = host.live();

  std::string name = live && !u.nodename.empty() ? u.nodename : ConfiguredHostname(host);
  std::string hostname = name, domain;
  if (size_t dot = name.find('.'); dot != std::string::npos && dot > 0) {
    hostname = name.substr(0, dot);
    domain = name.substr(dot + 1);
  } else {
    domain = FindDomain(host, hostname);
  }
  std::string fqdn = domain.empty() ? hostname : hostname + "." + domain;

  OsInfo os = DetectOs(host);
  std::string major, minor;
  if (!os.full.empty()) {
    size_t d1 = os.full.find('.');
    major = os.full.substr(0, d1);
    if (d1 != std::string::npos) {
      size_t d2 = os.full.find('.', d1 + 1);
      minor = os.full.substr(d1 + 1, d2 == std::string::npos ? d2 : d2 - d1 - 1);
    }
  }

  std::string release = live ? u.release : NewestModulesDir(host);
  if (release.empty()) release = u.release;
  std::string arch = live ? u.machine : ElfMachine(host);
  if (arch.empty()) arch = u.machine.empty() ? "unknown" : u.machine;

  bool has_systemd =
      Exists(host, "/usr/lib/systemd/systemd") || Exists(host, "/lib/systemd/systemd");
  if (live && has_systemd) has_systemd = Exists(host, "/run/systemd/system");

  List interfaces;
  if (live)
    for (auto& n : List_(host, "/sys/class/net")) interfaces.emplace_back(n);

  std::string virt = Virtual(host);

  Map facts;
  facts.Set("hostname", hostname);
  facts.Set("domain", domain);
  facts.Set("fqdn", fqdn);
  facts.Set(
      "os",
      Value(Map{{"family", os.family},
                {"name", os.name},
                {"release", Value(Map{{"full", os.full}, {"major", major}, {"minor", minor}})}}));
  facts.Set("kernel", Value(Map{{"release", release},
                                {"version", release.substr(0, release.find('-'))},
                                {"builtin_modules", BuiltinModules(host, release)},
                                {"loaded_modules", live ? LoadedModules(host) : Value(List{})}}));
  facts.Set("architecture", arch);
  facts.Set("init", has_systemd ? "systemd" : "sysvinit");
  facts.Set("bootloader", Bootloader(host));
  facts.Set("networking", Value(Map{{"interfaces", Value(std::move(interfaces))}}));
  facts.Set("virtual", virt);
  facts.Set("is_virtual", virt != "physical" && virt != "unknown");
  return Value(std::move(facts));
}

Result<void> MergeFactsFile(Value& facts, const std::string& file) {
  // A FIFO, a device or a directory given as the facts file is refused, not
  // read (a FIFO or /dev/zero never ends; a directory read as empty).
  constexpr off_t kMaxFactsFile = 64 << 20;
  int fd = ::open(file.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) {
    int err = errno;
    return MakeError(err == ENOENT ? ErrorCode::kNotFound : ErrorCode::kIo,
                     file + ": cannot read facts file: " + std::strerror(err));
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return MakeError(ErrorCode::kInvalid, file + ": facts file is not a regular file");
  }
  if (st.st_size > kMaxFactsFile) {
    ::close(fd);
    return MakeError(ErrorCode::kInvalid, file + ": facts file is larger than 64 MiB");
  }
  std::string text;
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int err = errno;
      ::close(fd);
      return MakeError(ErrorCode::kIo, file + ": cannot read facts file: " + std::strerror(err));
    }
    if (n == 0) break;
    text.append(buf, static_cast<size_t>(n));
    if (text.size() > static_cast<size_t>(kMaxFactsFile)) {
      ::close(fd);
      return MakeError(ErrorCode::kInvalid, file + ": facts file is larger than 64 MiB");
    }
  }
  ::close(fd);
  auto parsed = ParseYaml(text, file);
  if (!parsed.ok()) return parsed.error();
  if (parsed->is_null()) return {};
  if (!parsed->is_map()) {
    return MakeError(ErrorCode::kInvalid,
                     file + ": facts file must hold a map, not a " + KindName(parsed->kind()));
  }
  if (!facts.is_map()) facts = Value(Map{});
  DeepMerge(facts, *parsed);
  return {};
}

// No final newline: the caller ends the line.
std::string FactsToJson(const Value& facts) { return JsonPretty(facts); }

std::string FactsToYaml(const Value& facts) { return ToYaml(facts); }

}  // namespace keel
