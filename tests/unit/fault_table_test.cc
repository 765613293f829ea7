// Fault table over every type converged so far: for each scenario, count
// the writes and commands a clean apply makes, then fail each one in turn
// with ENOSPC, EIO, EROFS and EACCES (FaultyHost) and check, through the
// real transaction:
//  - the fault surfaces as a failed resource whose error names the errno
//    (and a path or command), never as a success or a crash;
//  - every resource requiring a failed one is skipped;
//  - no file is left partial or missing: each path holds its content from
//    before the run or from a clean apply, and no temp file is left;
//  - the report lists every resource;
//  - a later clean run converges to exactly the clean apply's tree, and
//    the run after it changes nothing.
#include <doctest/doctest.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "engine/host_real.h"
#include "engine/registry.h"
#include "engine/report.h"
#include "tests/unit/support/converge.h"
#include "tests/unit/support/faulty_host.h"
#include "tests/unit/support/temp_root.h"

using namespace keel;
using namespace keel::testing;
using Op = FaultyHost::Op;

namespace {

struct Scenario {
  std::string name;
  std::function<void(TempRoot&)> seed;
  // Resources in manifest order; the last one is the dependent, which
  // requires the one before it.
  std::function<std::vector<Resource>(const Registry&)> resources;
  // Paths whose content carries the time of the run (a package manager's
  // log): compared by existence and type, not content.
  std::set<std::string> timestamped = {};
};

// The snapshot with the content of `timestamped` paths left out.
std::map<std::string, std::string> Comparable(std::map<std::string, std::string> snap,
                                              const std::set<std::string>& timestamped) {
  for (const auto& p : timestamped)
    if (auto it = snap.find(p); it != snap.end()) {
      size_t cut = 0;  // "type mode uid gid " kept
      for (int fields = 0; fields < 4 && cut != std::string::npos; ++fields)
        cut = it->second.find(' ', cut == 0 ? 0 : cut + 1);
      if (cut != std::string::npos) it->second.resize(cut);
    }
  return snap;
}

// A .deb built once per test binary (dpkg-deb), outside every root; "" when
// this machine has no dpkg.
std::string FaultDeb() {
  static std::string path = [] {
    if (std::system("command -v dpkg-deb >/dev/null 2>&1 && command -v dpkg >/dev/null 2>&1") != 0)
      return std::string();
    static TempRoot dir;
    std::string tree = dir.path() + "/t";
    std::filesystem::create_directories(tree + "/DEBIAN");
    std::filesystem::create_directories(tree + "/usr/share/keel-fault");
    std::ofstream(tree + "/DEBIAN/control") << "Package: keel-fault\nVersion: 1.0-1\n"
                                               "Architecture: all\nMaintainer: k <k@e.org>\n"
                                               "Description: fault table\n";
    std::ofstream(tree + "/usr/share/keel-fault/f") << "f\n";
    std::string out = dir.path() + "/keel-fault_1.0-1.deb";
    if (std::system(
            ("dpkg-deb --root-owner-group -b " + tree + " " + out + " >/dev/null").c_str()) != 0)
      return std::string();
    return out;
  }();
  return path;
}

Resource WithRequire(Resource r, const Resource& dep) {
  r.require.push_back({dep.ref, 1, 1});
  return r;
}

// A file resource that requires `dep`: skipped when `dep` fails.
Resource Dependent(const Registry& reg, const Resource& dep) {
  return WithRequire(MakeResource(reg, "file", "/dependent", {{"content", "dep\n"}}), dep);
}

std::vector<Scenario> Scenarios() {
  std::vector<Scenario> s;
  s.push_back({"file",
               [](TempRoot& r) {
                 r.Write("/etc/motd", "old motd\n");
                 r.Write("/etc/old-dir/keep", "k\n");
               },
               [](const Registry& reg) {
                 std::vector<Resource> rs;
                 rs.push_back(MakeResource(reg, "file", "/etc/motd",
                                           {{"content", "new motd\n"}, {"mode", "0600"}}));
                 rs.push_back(MakeResource(reg, "file", "/etc/app", {{"ensure", "directory"}}));
                 rs.push_back(MakeResource(reg, "file", "/etc/link", {{"target", "/etc/motd"}}));
                 rs.push_back(MakeResource(reg, "file", "/etc/app/app.conf", {{"content", "c\n"}}));
                 rs.push_back(Dependent(reg, rs.back()));
                 return rs;
               }});
  s.push_back(
      {"line", [](TempRoot& r) { r.Write("/etc/f", "keep\n"); },
       [](const Registry& reg) {
         std::vector<Resource> rs;
         rs.push_back(MakeResource(reg, "line", "a", {{"path", "/etc/f"}, {"line", "one"}}));
         rs.push_back(
             MakeResource(reg, "line", "b", {{"path", "/etc/new.d/x.conf"}, {"line", "hello"}}));
         rs.push_back(Dependent(reg, rs.back()));
         return rs;
       }});
  s.push_back({"shellvar",
               [](TempRoot& r) {
                 r.Write("/etc/selinux/config",
                         "# keep\nSELINUX=enforcing\nSELINUXTYPE=targeted\n");
               },
               [](const Registry& reg) {
                 std::vector<Resource> rs;
                 rs.push_back(MakeResource(reg, "shellvar", "/etc/selinux/config:SELINUX",
                                           {{"value", "disabled"}}));
                 rs.push_back(Dependent(reg, rs.back()));
                 return rs;
               }});
  s.push_back({"ifcfg", [](TempRoot& r) { r.Mkdir("/etc/sysconfig"); },
               [](const Registry& reg) {
                 std::vector<Resource> rs;
                 rs.push_back(
                     MakeResource(reg, "ifcfg", "eth0",
                                  {{"settings", Map{{"BOOTPROTO", "dhcp"}, {"ONBOOT", true}}}}));
                 rs.push_back(Dependent(reg, rs.back()));
                 return rs;
               }});
  s.push_back({"host", [](TempRoot& r) { r.Write("/etc/hosts", "127.0.0.1 localhost\n"); },
               [](const Registry& reg) {
                 std::vector<Resource> rs;
                 rs.push_back(MakeResource(reg, "host", "web", {{"ip", "10.0.0.5"}}));
                 rs.push_back(Dependent(reg, rs.back()));
                 return rs;
               }});
  s.push_back({"mount",
               [](TempRoot& r) { r.Write("/etc/fstab", "/dev/sda1 / ext4 defaults 1 1\n"); },
               [](const Registry& reg) {
                 std::vector<Resource> rs;
                 rs.push_back(MakeResource(reg, "mount", "/data",
                                           {{"device", "/dev/sdb1"}, {"fstype", "ext4"}}));
                 rs.push_back(Dependent(reg, rs.back()));
                 return rs;
               }});
  s.push_back({"sysctl", [](TempRoot& r) { r.Mkdir("/etc"); },
               [](const Registry& reg) {
                 std::vector<Resource> rs;
                 rs.push_back(MakeResource(reg, "sysctl", "net.ipv4.ip_forward", {{"value", "1"}}));
                 rs.push_back(Dependent(reg, rs.back()));
                 return rs;
               }});
  s.push_back(
      {"modprobe", [](TempRoot& r) { r.Write("/etc/modprobe.d/other.conf", "options x y=1\n"); },
       [](const Registry& reg) {
         std::vector<Resource> rs;
         rs.push_back(MakeResource(reg, "modprobe", "ipmi_si",
                                   {{"options", Map{{"type", "kcs"}, {"ports", "0xca2"}}}}));
         rs.push_back(Dependent(reg, rs.back()));
         return rs;
       }});
  s.push_back({"kernel_parameter",
               [](TempRoot& r) {
                 r.Write("/boot/grub/grub.conf",
                         "default=0\ntimeout=5\ntitle CentOS (2.6.32-754.el6.x86_64)\n"
                         "\troot (hd0,0)\n"
                         "\tkernel /vmlinuz-2.6.32-754.el6.x86_64 ro root=/dev/sda1 quiet\n"
                         "\tinitrd /initramfs-2.6.32-754.el6.x86_64.img\n");
               },
               [](const Registry& reg) {
                 std::vector<Resource> rs;
                 rs.push_back(MakeResource(reg, "kernel_parameter", "ipmi_si.ports",
                                           {{"value", "0xca2"}, {"bootloader", "grub-legacy"}}));
                 rs.push_back(Dependent(reg, rs.back()));
                 return rs;
               }});
  s.push_back(
      {"audit_rule",
       [](TempRoot& r) { r.Write("/etc/audit/rules.d/keel.rules", "-w /tmp/foreign -p wa\n"); },
       [](const Registry& reg) {
         std::vector<Resource> rs;
         rs.push_back(
             MakeResource(reg, "audit_rule", "cache",
                          {{"rule", "-a exit,never -F dir=/home/user/.cache/"}, {"order", 10}}));
         rs.push_back(MakeResource(reg, "audit_rule", "home", {{"rule", "-w /home/user/ -p wa"}}));
         rs.push_back(Dependent(reg, rs.back()));
         return rs;
       }});
  s.push_back({"iptables_rule",
               [](TempRoot& r) {
                 r.Write("/etc/iptables/rules.v4",
                         "*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n"
                         ":OUTPUT ACCEPT [0:0]\n-A INPUT -i lo -j ACCEPT\nCOMMIT\n");
               },
               [](const Registry& reg) {
                 std::vector<Resource> rs;
                 rs.push_back(MakeResource(reg, "iptables_chain", "filter:INPUT",
                                           {{"policy", "DROP"}, {"family", "both"}}));
                 rs.push_back(MakeResource(
                     reg, "iptables_rule", "100 allow http",
                     {{"proto", "tcp"}, {"dport", "80"}, {"jump", "ACCEPT"}, {"family", "both"}}));
                 rs.push_back(Dependent(reg, rs.back()));
                 return rs;
               }});
  s.push_back({"exec", [](TempRoot& r) { r.Mkdir("/etc"); },
               [](const Registry& reg) {
                 std::vector<Resource> rs;
                 // Runs on the build machine (chroot: false), creating a
                 // file inside the root through KEEL_ROOT.
                 rs.push_back(MakeResource(reg, "exec", "mark",
                                           {{"command", "echo ran > \"$KEEL_ROOT/etc/marker\""},
                                            {"creates", "/etc/marker"},
                                            {"chroot", false}}));
                 rs.push_back(Dependent(reg, rs.back()));
                 return rs;
               }});
  s.push_back({"service",
               [](TempRoot& r) {
                 // As `chkconfig --add rngd` leaves a `-` script: K links everywhere.
                 r.Write("/etc/init.d/rngd", "#!/bin/sh\n# chkconfig: - 13 87\n# description: x\n",
                         0755);
                 for (int l = 0; l <= 6; ++l)
                   r.Symlink("/etc/rc" + std::to_string(l) + ".d/K87rngd", "../init.d/rngd");
               },
               [](const Registry& reg) {
                 std::vector<Resource> rs;
                 rs.push_back(MakeResource(reg, "service", "rngd",
                                           {{"enable", true}, {"provider", "sysvinit"}}));
                 rs.push_back(Dependent(reg, rs.back()));
                 return rs;
               }});
  if (!FaultDeb().empty())
    s.push_back(
        {"package",
         [](TempRoot& r) {
           r.Write("/var/lib/dpkg/status", "");
           r.Mkdir("/var/lib/dpkg/info");
           r.Mkdir("/var/lib/dpkg/updates");
           r.Mkdir("/var/log");
         },
         [](const Registry& reg) {
           std::vector<Resource> rs;
           rs.push_back(MakeResource(reg, "package", "keel-fault", {{"source", FaultDeb()}}));
           rs.push_back(Dependent(reg, rs.back()));
           return rs;
         },
         {"/var/log/dpkg.log"}});
  return s;
}

std::unique_ptr<Host> Open(const TempRoot& root) {
  auto h = OpenRealHost(root.path(), nullptr);
  REQUIRE_MESSAGE(h.ok(), (h.ok() ? "" : h.error().message));
  return std::move(*h);
}

// The ids required (directly or not) by nothing: for each resource, the
// ids of what it requires, transitively, within `rs`.
bool Requires(const std::vector<Resource>& rs, size_t i, size_t j) {
  std::set<size_t> seen;
  std::vector<size_t> stack{i};
  while (!stack.empty()) {
    size_t k = stack.back();
    stack.pop_back();
    for (const auto& req : rs[k].require)
      for (size_t m = 0; m < rs.size(); ++m)
        if (rs[m].ref == req.ref() && seen.insert(m).second) {
          if (m == j) return true;
          stack.push_back(m);
        }
  }
  return false;
}

}  // namespace

TEST_CASE("fault table: every injected write or command fault fails safe, for every type") {
  Registry reg;
  RegisterBuiltinTypes(reg);
  int injected = 0;
  for (const auto& sc : Scenarios()) {
    CAPTURE(sc.name);
    // A clean apply: what the tree should become, and how many calls it makes.
    TempRoot clean_root;
    sc.seed(clean_root);
    const auto seeded = Comparable(clean_root.Snapshot(), sc.timestamped);
    auto clean_base = Open(clean_root);
    FaultyHost counter(*clean_base);
    auto rs = sc.resources(reg);
    auto clean = ConvergeAll(reg, rs, counter);
    for (const auto& c : clean) REQUIRE_MESSAGE(c.error == "", c.error);
    const auto converged = Comparable(clean_root.Snapshot(), sc.timestamped);
    REQUIRE(converged != seeded);
    const int writes = counter.Count(Op::kWrite);
    const int runs = counter.Count(Op::kRun);
    REQUIRE(writes + runs > 0);

    for (Op op : {Op::kWrite, Op::kRun}) {
      const int n_max = op == Op::kWrite ? writes : runs;
      for (int n = 1; n <= n_max; ++n) {
        for (int err : {ENOSPC, EIO, EROFS, EACCES}) {
          CAPTURE(n);
          CAPTURE(err);
          CAPTURE(op == Op::kWrite ? "write" : "command");
          TempRoot root;
          sc.seed(root);
          auto base = Open(root);
          FaultyHost host(*base);
          host.FailNth(op, n, err);
          Report report;
          auto got = ConvergeAll(reg, rs, host, false, nullptr, &report);
          REQUIRE(host.Failures() == 1);
          ++injected;

          // The report lists every resource; the fault is a failure naming the errno.
          CHECK(report.resources.size() == rs.size());
          bool named = false;
          for (const auto& g : got)
            if (g.status == Converged::kFailed &&
                g.error.find(std::strerror(err)) != std::string::npos)
              named = true;
          CHECK_MESSAGE(named, "no failure names " << std::strerror(err));
          // Dependents of a failed resource are skipped.
          for (size_t i = 0; i < rs.size(); ++i)
            for (size_t j = 0; j < rs.size(); ++j)
              if (got[j].status == Converged::kFailed && Requires(rs, i, j))
                CHECK_MESSAGE(got[i].status == Converged::kSkipped,
                              rs[i].id() << " ran although " << rs[j].id() << " failed");

          // Every path holds its old or its new state; nothing else exists.
          auto now = Comparable(root.Snapshot(), sc.timestamped);
          for (const auto& [path, desc] : now) {
            auto old_it = seeded.find(path);
            auto new_it = converged.find(path);
            bool is_old = old_it != seeded.end() && old_it->second == desc;
            bool is_new = new_it != converged.end() && new_it->second == desc;
            CHECK_MESSAGE((is_old || is_new), path << " is neither old nor new: " << desc);
          }
          for (const auto& [path, desc] : seeded)
            if (converged.count(path)) CHECK_MESSAGE(now.count(path), path << " went missing");

          // A clean run converges to the clean tree; the next changes nothing.
          FaultyHost again(*base);
          for (const auto& g : ConvergeAll(reg, rs, again))
            CHECK_MESSAGE(g.status != Converged::kFailed, g.error);
          CHECK(Comparable(root.Snapshot(), sc.timestamped) == converged);
          for (const auto& g : ConvergeAll(reg, rs, again))
            CHECK(g.status == Converged::kUnchanged);
        }
      }
    }
  }
  // Every scenario injected at least one fault per errno.
  CHECK(injected >= 4 * static_cast<int>(Scenarios().size()));
}
