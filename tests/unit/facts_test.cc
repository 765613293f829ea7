#include "engine/facts.h"

#include <doctest/doctest.h>
#include <sys/utsname.h>

#include <fstream>
#include <string>

#include "engine/host_real.h"
#include "engine/yaml_value.h"
#include "tests/unit/support/temp_root.h"

using namespace keel;
using keel::testing::TempRoot;

namespace {

Value FactsOf(const TempRoot& root) {
  auto host = OpenRealHost(root.path(), nullptr);
  REQUIRE_MESSAGE(host.ok(), (host.ok() ? "" : host.error().message));
  return GatherFacts(**host);
}

std::string S(const Value& facts, const char* path) {
  const Value* v = facts.Get(path);
  REQUIRE_MESSAGE(v != nullptr, path);
  REQUIRE_MESSAGE(v->is_string(), path);
  return v->as_string();
}

const List& L(const Value& facts, const char* path) {
  const Value* v = facts.Get(path);
  REQUIRE_MESSAGE(v != nullptr, path);
  REQUIRE_MESSAGE(v->is_list(), path);
  return v->as_list();
}

struct utsname Uname() {
  struct utsname u;
  REQUIRE(::uname(&u) == 0);
  return u;
}

}  // namespace

TEST_CASE("facts: CentOS 5 image (redhat-release, sysconfig/network, grub-legacy)") {
  TempRoot root;
  root.Write("/etc/redhat-release", "CentOS release 5.11 (Final)\n");
  root.Write("/etc/sysconfig/network", "NETWORKING=yes\nHOSTNAME=\"web01.example.com\"\n");
  root.Write("/boot/grub/grub.conf", "default=0\ntitle CentOS\n\tkernel /vmlinuz-2.6.18-419.el5\n");
  root.Write("/sbin/grubby", "#!/bin/sh\n", 0755);
  root.Mkdir("/lib/modules/2.6.18-398.el5");
  root.Mkdir("/lib/modules/2.6.18-419.el5");
  root.Mkdir("/lib/modules/2.6.18-92.el5");
  root.Write("/lib/modules/2.6.18-419.el5/modules.builtin",
             "kernel/drivers/char/ipmi/ipmi_si.ko\n");
  Value f = FactsOf(root);
  CHECK(S(f, "os.family") == "RedHat");
  CHECK(S(f, "os.name") == "CentOS");
  CHECK(S(f, "os.release.full") == "5.11");
  CHECK(S(f, "os.release.major") == "5");
  CHECK(S(f, "os.release.minor") == "11");
  CHECK(S(f, "hostname") == "web01");
  CHECK(S(f, "fqdn") == "web01.example.com");
  CHECK(S(f, "domain") == "example.com");
  CHECK(S(f, "bootloader") == "grub-legacy");  // grub.conf wins over grubby
  CHECK(S(f, "init") == "sysvinit");
  CHECK(S(f, "kernel.release") == "2.6.18-419.el5");  // newest by version, not "92" lexically
  CHECK(S(f, "kernel.version") == "2.6.18");
  CHECK(L(f, "kernel.builtin_modules") == List{"ipmi_si"});
  CHECK(L(f, "kernel.loaded_modules").empty());
  CHECK(L(f, "networking.interfaces").empty());
  CHECK(S(f, "virtual") == "unknown");
  CHECK(*f.Get("is_virtual") == Value(false));
}

TEST_CASE("facts: CentOS 6.3 with only /etc/redhat-release") {
  TempRoot root;
  root.Write("/etc/redhat-release", "CentOS release 6.3 (Final)\n");
  Value f = FactsOf(root);
  CHECK(S(f, "os.family") == "RedHat");
  CHECK(S(f, "os.name") == "CentOS");
  CHECK(S(f, "os.release.full") == "6.3");
  CHECK(S(f, "os.release.major") == "6");
  CHECK(S(f, "os.release.minor") == "3");
  CHECK(S(f, "hostname") == "localhost");
  CHECK(S(f, "fqdn") == "localhost");
  CHECK(S(f, "bootloader") == "none");
  CHECK(S(f, "init") == "sysvinit");
  // No /lib/modules in the image: the running kernel.
  CHECK(S(f, "kernel.release") == Uname().release);
  CHECK(S(f, "architecture") == Uname().machine);
}

TEST_CASE("facts: CentOS 6.10 keeps its trailing zero; grubby; builtin module names") {
  TempRoot root;
  root.Write("/etc/redhat-release", "CentOS release 6.10 (Final)\n");
  root.Write("/etc/sysconfig/network", "NETWORKING=yes\nHOSTNAME=store01\n");
  root.Write("/etc/hosts", "127.0.0.1 localhost\n10.1.2.3 store01.dc1.example.net store01 # me\n");
  root.Write("/sbin/grubby", "#!/bin/sh\n", 0755);
  root.Mkdir("/lib/modules/2.6.32-71.el6.x86_64");
  root.Mkdir("/lib/modules/2.6.32-754.el6.x86_64");
  root.Write("/lib/modules/2.6.32-754.el6.x86_64/modules.builtin",
             "kernel/drivers/char/ipmi/ipmi_si.ko\nkernel/fs/ext4/ext4.ko\n\n"
             "kernel/sound/core/snd-pcm.ko\n");
  root.Write("/lib/modules/not-a-kernel", "file\n");
  Value f = FactsOf(root);
  CHECK(S(f, "os.release.full") == "6.10");
  CHECK(S(f, "os.release.major") == "6");
  CHECK(S(f, "os.release.minor") == "10");
  CHECK(S(f, "hostname") == "store01");
  CHECK(S(f, "fqdn") == "store01.dc1.example.net");
  CHECK(S(f, "bootloader") == "grubby");
  CHECK(S(f, "kernel.release") == "2.6.32-754.el6.x86_64");
  CHECK(L(f, "kernel.builtin_modules") == List{"ipmi_si", "ext4", "snd_pcm"});
}

TEST_CASE("facts: RHEL 5 and CentOS 7 release files") {
  {
    TempRoot root;
    root.Write("/etc/redhat-release", "Red Hat Enterprise Linux Server release 5.11 (Tikanga)\n");
    Value f = FactsOf(root);
    CHECK(S(f, "os.name") == "RedHat");
    CHECK(S(f, "os.family") == "RedHat");
    CHECK(S(f, "os.release.full") == "5.11");
  }
  {
    // CentOS 7: os-release says "7"; redhat-release is more precise.
    TempRoot root;
    root.Write(
        "/usr/lib/os-release",
        "NAME=\"CentOS Linux\"\nVERSION=\"7 (Core)\"\nID=\"centos\"\nID_LIKE=\"rhel fedora\"\n"
        "VERSION_ID=\"7\"\n");
    root.Symlink("/etc/os-release", "/usr/lib/os-release");  // absolute: resolved in the root
    root.Write("/etc/redhat-release", "CentOS Linux release 7.9.2009 (Core)\n");
    root.Write("/etc/hostname", "db7.example.org\n");
    root.Write("/etc/default/grub", "GRUB_TIMEOUT=5\n");
    root.Write("/sbin/grubby", "#!/bin/sh\n", 0755);
    root.Write("/usr/lib/systemd/systemd", "", 0755);
    Value f = FactsOf(root);
    CHECK(S(f, "os.name") == "CentOS");
    CHECK(S(f, "os.family") == "RedHat");
    CHECK(S(f, "os.release.full") == "7.9.2009");
    CHECK(S(f, "os.release.major") == "7");
    CHECK(S(f, "os.release.minor") == "9");
    CHECK(S(f, "hostname") == "db7");
    CHECK(S(f, "fqdn") == "db7.example.org");
    CHECK(S(f, "bootloader") == "grub2");
    CHECK(S(f, "init") == "systemd");  // not live: the binary is enough
  }
}

TEST_CASE("facts: Debian 12 and Ubuntu from os-release") {
  {
    TempRoot root;
    root.Write("/etc/os-release",
               "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nNAME=\"Debian GNU/Linux\"\n"
               "VERSION_ID=\"12\"\nVERSION=\"12 (bookworm)\"\nID=debian\n");
    root.Write("/etc/debian_version", "12.5\n");
    root.Write("/etc/hostname", "# comment\ndeb12\n");
    root.Write("/etc/resolv.conf", "search corp.example\nnameserver 10.0.0.1\n");
    root.Write("/lib/systemd/systemd", "", 0755);
    root.Write("/boot/grub/grub.cfg",
               "### BEGIN /etc/grub.d/00_header ###\nmenuentry 'Debian' {\n}\n");
    Value f = FactsOf(root);
    CHECK(S(f, "os.family") == "Debian");
    CHECK(S(f, "os.name") == "Debian");
    CHECK(S(f, "os.release.full") == "12.5");
    CHECK(S(f, "os.release.major") == "12");
    CHECK(S(f, "os.release.minor") == "5");
    CHECK(S(f, "hostname") == "deb12");
    CHECK(S(f, "fqdn") == "deb12.corp.example");
    CHECK(S(f, "init") == "systemd");
    CHECK(S(f, "bootloader") == "grub2");
  }
  {
    TempRoot root;
    root.Write("/etc/os-release",
               "NAME=\"Ubuntu\"\nID=ubuntu\nID_LIKE=debian\nVERSION_ID=\"22.04\"\n");
    root.Write("/etc/debian_version", "bookworm/sid\n");
    Value f = FactsOf(root);
    CHECK(S(f, "os.family") == "Debian");
    CHECK(S(f, "os.name") == "Ubuntu");
    CHECK(S(f, "os.release.full") == "22.04");
    CHECK(S(f, "os.release.minor") == "04");
  }
  {
    // Only /etc/debian_version (old Debian).
    TempRoot root;
    root.Write("/etc/debian_version", "6.0.10\n");
    Value f = FactsOf(root);
    CHECK(S(f, "os.family") == "Debian");
    CHECK(S(f, "os.release.full") == "6.0.10");
    CHECK(S(f, "os.release.major") == "6");
    CHECK(S(f, "os.release.minor") == "0");
  }
}

TEST_CASE("facts: hostname precedence under --root") {
  TempRoot root;
  root.Write("/etc/sysconfig/network", "HOSTNAME=from-sysconfig\n");
  CHECK(S(FactsOf(root), "hostname") == "from-sysconfig");
  root.Write("/etc/hostname", "from-etc-hostname\n");
  CHECK(S(FactsOf(root), "hostname") == "from-etc-hostname");
}

TEST_CASE("facts: an empty root gives neutral values, never an error") {
  TempRoot root;
  Value f = FactsOf(root);
  CHECK(S(f, "os.family") == "unknown");
  CHECK(S(f, "os.name") == "unknown");
  CHECK(S(f, "os.release.full") == "");
  CHECK(S(f, "os.release.major") == "");
  CHECK(S(f, "hostname") == "localhost");
  CHECK(S(f, "bootloader") == "none");
  CHECK(S(f, "init") == "sysvinit");
  CHECK(L(f, "kernel.builtin_modules").empty());
  // Unreadable or odd files are ignored, not fatal.
  root.Mkdir("/etc/os-release");  // a directory where a file is expected
  root.Write("/etc/redhat-release", "\n");
  Value g = FactsOf(root);
  CHECK(S(g, "os.family") == "unknown");
}

TEST_CASE("facts: merged /usr with absolute symlinks stays inside the root") {
  TempRoot root;
  root.Symlink("/lib", "/usr/lib");  // absolute: must not resolve on the build machine
  root.Mkdir("/usr/lib/modules/5.14.0-362.el9.x86_64");
  root.Mkdir("/usr/lib/modules/5.14.0-70.el9.x86_64");
  root.Write("/usr/lib/modules/5.14.0-362.el9.x86_64/modules.builtin",
             "kernel/drivers/md/dm-mod.ko\n");
  root.Write("/usr/lib/systemd/systemd", "", 0755);
  Value f = FactsOf(root);
  CHECK(S(f, "kernel.release") == "5.14.0-362.el9.x86_64");
  CHECK(L(f, "kernel.builtin_modules") == List{"dm_mod"});
  CHECK(S(f, "init") == "systemd");
}

TEST_CASE("facts: architecture of an image from the ELF header of /bin/sh") {
  TempRoot root;
  std::string elf(
      "\x7f"
      "ELF\x02\x01\x01\x00",
      8);
  elf += std::string(8, '\0');
  elf += std::string("\x02\x00\xb7\x00", 4);  // e_type EXEC, e_machine AArch64
  elf += std::string(40, '\0');
  root.Write("/bin/sh", elf, 0755);
  CHECK(S(FactsOf(root), "architecture") == "aarch64");
}

TEST_CASE("facts: live host") {
  auto host = OpenRealHost("/", nullptr);
  REQUIRE(host.ok());
  Value f = GatherFacts(**host);
  struct utsname u = Uname();
  std::string node = u.nodename;
  CHECK(S(f, "hostname") == node.substr(0, node.find('.')));
  CHECK(S(f, "kernel.release") == u.release);
  CHECK(S(f, "architecture") == u.machine);
  CHECK(S(f, "virtual") != "unknown");
  L(f, "kernel.loaded_modules");  // a list, maybe empty (no /proc/modules in a container)
  std::ifstream net("/sys/class/net/lo/ifindex");
  if (net) {
    bool has_lo = false;
    for (const auto& i : L(f, "networking.interfaces")) has_lo |= i == Value("lo");
    CHECK(has_lo);
  }
  std::string init = S(f, "init");
  CHECK((init == "systemd" || init == "sysvinit"));
}

TEST_CASE("facts: --facts FILE merges deeply; JSON and YAML output") {
  TempRoot root;
  root.Write("/etc/redhat-release", "CentOS release 6.3 (Final)\n");
  Value f = FactsOf(root);

  TempRoot files;
  files.Write("/over.yaml",
              "os:\n  release:\n    major: '7'\n    full: \"7.9\"\nextra: [1, two]\n");
  REQUIRE(MergeFactsFile(f, files.Real("/over.yaml")).ok());
  CHECK(S(f, "os.family") == "RedHat");  // kept
  CHECK(S(f, "os.name") == "CentOS");
  CHECK(S(f, "os.release.major") == "7");  // replaced
  CHECK(S(f, "os.release.full") == "7.9");
  CHECK(S(f, "os.release.minor") == "3");  // kept
  CHECK(*f.Get("extra") == Value(List{1, "two"}));

  files.Write("/over.json",
              "{\"hostname\": \"planned\", \"networking\": {\"interfaces\": [\"eth0\"]}}");
  REQUIRE(MergeFactsFile(f, files.Real("/over.json")).ok());
  CHECK(S(f, "hostname") == "planned");
  CHECK(L(f, "networking.interfaces") == List{"eth0"});

  files.Write("/empty.yaml", "");
  CHECK(MergeFactsFile(f, files.Real("/empty.yaml")).ok());

  auto missing = MergeFactsFile(f, files.Real("/nope.yaml"));
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error().code == ErrorCode::kNotFound);
  CHECK(missing.error().message.find(files.Real("/nope.yaml")) == 0);

  files.Write("/bad.yaml", "os:\n  family: [RedHat\n");
  auto bad = MergeFactsFile(f, files.Real("/bad.yaml"));
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().message.find(files.Real("/bad.yaml") + ":") == 0);
  CHECK(bad.error().message.find(":3:") != std::string::npos);

  files.Write("/list.yaml", "- a\n- b\n");
  auto list = MergeFactsFile(f, files.Real("/list.yaml"));
  REQUIRE_FALSE(list.ok());
  CHECK(list.error().message.find("must hold a map") != std::string::npos);
  CHECK(S(f, "hostname") == "planned");  // a failed merge changed nothing

  std::string json = FactsToJson(f);
  CHECK(json.find("\"os\": {\n") != std::string::npos);
  auto from_json = ParseYaml(json, "facts.json");
  REQUIRE(from_json.ok());
  CHECK(*from_json == f);
  auto from_yaml = ParseYaml(FactsToYaml(f), "facts.yaml");
  REQUIRE(from_yaml.ok());
  CHECK(*from_yaml == f);
  // Keys in gathering order.
  CHECK(json.find("\"hostname\"") < json.find("\"os\""));
}

TEST_CASE("facts: RHEL 9 with BLS entries and grubby is bootloader grubby") {
  TempRoot root;
  root.Write("/etc/redhat-release", "Red Hat Enterprise Linux release 9.4 (Plow)\n");
  root.Write("/etc/default/grub", "GRUB_ENABLE_BLSCFG=true\n");
  root.Write("/boot/grub2/grub.cfg", "blscfg\n");
  root.Write("/boot/loader/entries/abc-5.14.0.conf", "title RHEL\n");
  root.Write("/usr/sbin/grubby", "#!/bin/sh\n", 0755);
  CHECK(S(FactsOf(root), "bootloader") == "grubby");
  std::filesystem::remove(root.Real("/usr/sbin/grubby"));  // no grubby: grub2
  CHECK(S(FactsOf(root), "bootloader") == "grub2");
}
