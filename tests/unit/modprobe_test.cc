// modprobe type: the modprobe.d format on strings, the provider timeline on
// a TempRoot, the built-in module warning, and the initramfs rebuild run
// for real in a chroot (a real /bin/sh copied into the root; the one stand-
// in is update-initramfs itself, a script that records its arguments,
// since a real rebuild needs a kernel image and would take minutes).
#include <doctest/doctest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "engine/host_real.h"
#include "engine/registry.h"
#include "resources/modprobe/modprobe_conf.h"
#include "tests/unit/support/converge.h"
#include "tests/unit/support/temp_root.h"
#include "tests/unit/support/test_data.h"

using namespace keel;
using keel::modprobe::ModprobeConf;
using keel::modprobe::ModuleSpec;
using keel::testing::Converge;
using keel::testing::ConvergeAll;
using keel::testing::Converged;
using keel::testing::MakeResource;
using keel::testing::TempRoot;

namespace {

std::string DataFile(const std::string& name) {
  return keel::testing::TestData("sysfiles/" + name);
}

std::string ApplySpec(const std::string& text, const ModuleSpec& spec) {
  ModprobeConf f = ModprobeConf::Parse(text);
  f.Apply(spec);
  return f.Render();
}

struct Fixture {
  Registry registry;
  TempRoot root;
  std::unique_ptr<Host> host;
  Fixture() {
    RegisterBuiltinTypes(registry);
    auto h = OpenRealHost(root.path(), nullptr);
    REQUIRE_MESSAGE(h.ok(), (h.ok() ? "" : h.error().message));
    host = std::move(*h);
  }
  Resource Make(const std::string& title, Attrs attrs) {
    return MakeResource(registry, "modprobe", title, std::move(attrs));
  }
};

}  // namespace

TEST_CASE("modprobe_conf: parse and render give back the exact bytes of real files") {
  for (const char* name :
       {"modprobe-aliases.conf", "modprobe-systemd.conf", "modprobe.conf.ec2-centos5"}) {
    std::string text = DataFile(name);
    CHECK_MESSAGE(ModprobeConf::Parse(text).Render() == text, name);
  }
  for (std::string t : {"", "x", "install a \\\n  /bin/true\n", "options a b=1\r\n\n# c"})
    CHECK(ModprobeConf::Parse(t).Render() == t);
}

TEST_CASE("modprobe_conf: options quoting and inspection across lines, - and _ alike") {
  CHECK(modprobe::RenderOptions({{"type", "kcs"}, {"ports", "0xca2"}}) == "type=kcs ports=0xca2");
  CHECK(modprobe::RenderOptions({{"a", "x y"}}) == "a=\"x y\"");
  auto o = modprobe::ParseOptions("a=1 b=\"x y\" c");
  REQUIRE(o.size() == 3);
  CHECK(o[1] == std::pair<std::string, std::string>{"b", "x y"});
  auto s = ModprobeConf::Parse("options snd-hda a=1\noptions snd_hda b=2\nalias eth0 snd-hda\n")
               .Inspect("snd_hda");
  CHECK(s.options.size() == 2);
  CHECK(s.aliases == std::vector<std::string>{"eth0"});
  CHECK(s.mentioned);
}

TEST_CASE("modprobe_conf: options set on one line; same pairs in another order kept") {
  ModuleSpec ipmi{"ipmi_si", modprobe::Options{{"type", "kcs"}, {"ports", "0xca2"}}};
  CHECK(ApplySpec("", ipmi) == "options ipmi_si type=kcs ports=0xca2\n");
  CHECK(ApplySpec("# keep\noptions ipmi_si type=bt\nblacklist floppy\n", ipmi) ==
        "# keep\noptions ipmi_si type=kcs ports=0xca2\nblacklist floppy\n");
  std::string reordered = "options  ipmi_si\tports=0xca2 type=kcs  \n";
  CHECK(ApplySpec(reordered, ipmi) == reordered);
  CHECK(ApplySpec("options ipmi_si type=kcs\noptions ipmi_si ports=0xca2\n", ipmi) ==
        "options ipmi_si type=kcs ports=0xca2\n");
  CHECK(ApplySpec("options ipmi_si type=kcs\n", {"ipmi_si", modprobe::Options{}}) == "");
}

TEST_CASE("modprobe_conf: aliases owned by name; xen migration re-points alias eth0") {
  std::string old = "alias eth0 e1000\nalias scsi_hostadapter mptspi\nalias eth1 e1000\n";
  ModuleSpec xennet{"xennet", std::nullopt, std::vector<std::string>{"eth0"}};
  CHECK(ApplySpec(old, xennet) ==
        "alias eth0 xennet\nalias scsi_hostadapter mptspi\nalias eth1 e1000\n");
  ModuleSpec xenblk{"xenblk", std::nullopt, std::vector<std::string>{"scsi_hostadapter"}};
  CHECK(ApplySpec(ApplySpec(old, xennet), xenblk) ==
        DataFile("modprobe.conf.ec2-centos5") + "alias eth1 e1000\n");
  // Aliases of the module not listed go; new ones follow its last line.
  CHECK(ApplySpec("alias a m\n# x\nalias b m\nblacklist z\n",
                  {"m", std::nullopt, std::vector<std::string>{"a", "c"}}) ==
        "alias a m\nalias c m\n# x\nblacklist z\n");
}

TEST_CASE("modprobe_conf: blacklist, install, absent, continuation lines") {
  CHECK(ApplySpec("blacklist floppy\n", {"floppy", std::nullopt, std::nullopt, true}) ==
        "blacklist floppy\n");
  CHECK(ApplySpec("blacklist floppy\nblacklist pcspkr\n",
                  {"floppy", std::nullopt, std::nullopt, false}) == "blacklist pcspkr\n");
  CHECK(ApplySpec("", {"usb_storage", std::nullopt, std::nullopt, std::nullopt, "/bin/true"}) ==
        "install usb_storage /bin/true\n");
  CHECK(ApplySpec("install usb_storage \\\n   /bin/true\n",
                  {"usb_storage", std::nullopt, std::nullopt, std::nullopt, "/bin/true"}) ==
        "install usb_storage \\\n   /bin/true\n");
  ModuleSpec gone{"ipmi_si"};
  gone.absent = true;
  CHECK(ApplySpec("# c\noptions ipmi_si type=kcs\nalias x ipmi_si\noptions other a=1\n", gone) ==
        "# c\noptions other a=1\n");
}

TEST_CASE("modprobe_conf: logical lines are spans of the text, continuations included") {
  std::string text = "a \\\n b\nc \\\r\n\nd \\\n";
  std::vector<std::string> lines, words;
  size_t pos = 0;
  keel::edit::LineSpan line;
  std::string_view w;
  while (modprobe::NextLogicalLine(text, pos, line, w)) {
    CHECK(std::string_view(text).substr(line.begin, line.text.size()) == line.text);
    lines.emplace_back(line.text);
    words.emplace_back(w);
  }
  CHECK(lines == std::vector<std::string>{"a \\\n b", "c \\\r\n", "d \\"});
  // The last line continues past the end: its words read its final '\n'.
  CHECK(words.back() == "d \\\n");
}

TEST_CASE("modprobe_conf: a file ending in a continuation line keeps its bytes") {
  std::string text = "# x\noptions m a=1 \\\n";
  CHECK(ModprobeConf::Parse(text).Render() == text);
  CHECK(ApplySpec(text, {"m", modprobe::Options{{"a", "1"}}}) == text);
  // A new line after it: the continuation is ended first (as before).
  CHECK(ApplySpec(text, {"n", std::nullopt, std::nullopt, true}) == text + "\nblacklist n\n");
}

TEST_CASE("modprobe: load-time checks") {
  Registry r;
  RegisterBuiltinTypes(r);
  CHECK_THROWS_WITH(MakeResource(r, "modprobe", "ipmi si", {}), doctest::Contains("module name"));
  CHECK_THROWS_WITH(MakeResource(r, "modprobe", "m", {{"options", Value(Map{{"a b", "1"}})}}),
                    doctest::Contains("not a parameter name"));
  CHECK_THROWS_WITH(MakeResource(r, "modprobe", "m", {{"blacklist", "yes"}}),
                    doctest::Contains("expects bool"));
}

TEST_CASE_FIXTURE(Fixture, "modprobe: timeline: ipmi_si options, plan exact, idempotent") {
  Resource ipmi = Make("ipmi_si", {{"options", Value(Map{{"type", "kcs"}, {"ports", "0xca2"}})}});
  auto before = root.Snapshot();
  auto plan = Converge(registry, ipmi, *host, true);
  CHECK(plan.status == Converged::kChanged);
  CHECK(root.Snapshot() == before);
  CHECK(plan.changes[0].attr == "options");
  auto r = Converge(registry, ipmi, *host);
  CHECK_MESSAGE(r.status == Converged::kChanged, r.error);
  CHECK(root.Read("/etc/modprobe.d/ipmi_si.conf") == "options ipmi_si type=kcs ports=0xca2\n");
  CHECK(root.Mode("/etc/modprobe.d") == 0755);
  CHECK(Converge(registry, ipmi, *host).status == Converged::kUnchanged);

  Resource gone = Make("ipmi_si", {{"ensure", "absent"}});
  CHECK(Converge(registry, gone, *host).status == Converged::kChanged);
  CHECK_FALSE(root.Exists("/etc/modprobe.d/ipmi_si.conf"));
  CHECK(Converge(registry, gone, *host).status == Converged::kUnchanged);
}

TEST_CASE_FIXTURE(Fixture, "modprobe: a file ending in a continuation line stays unchanged") {
  std::string seed = "options ipmi_si type=kcs \\\n";
  root.Write("/etc/modprobe.d/ipmi_si.conf", seed);
  Resource ipmi = Make("ipmi_si", {{"options", Value(Map{{"type", "kcs"}})}});
  for (int run = 0; run < 2; ++run) {
    CHECK(Converge(registry, ipmi, *host).status == Converged::kUnchanged);
    CHECK(root.Read("/etc/modprobe.d/ipmi_si.conf") == seed);
  }
}

TEST_CASE_FIXTURE(Fixture,
                  "modprobe: shared /etc/modprobe.conf keeps foreign lines byte for byte") {
  std::string seed =
      "# generated by anaconda\r\nalias eth0 e1000\nalias scsi_hostadapter mptspi\n"
      "options  bonding   max_bonds=2\ninstall pcspkr /bin/true";
  root.Write("/etc/modprobe.conf", seed, 0600);
  std::vector<Resource> rs = {
      Make("xennet", {{"aliases", Value(List{"eth0"})}, {"file", "/etc/modprobe.conf"}}),
      Make("xenblk",
           {{"aliases", Value(List{"scsi_hostadapter"})}, {"file", "/etc/modprobe.conf"}}),
      Make("floppy", {{"blacklist", true}, {"file", "/etc/modprobe.conf"}})};
  auto before = root.Snapshot();
  auto plan = ConvergeAll(registry, rs, *host, true);
  for (const auto& p : plan) CHECK(p.status == Converged::kChanged);
  CHECK(root.Snapshot() == before);
  auto res = ConvergeAll(registry, rs, *host);
  for (const auto& p : res) CHECK_MESSAGE(p.status == Converged::kChanged, p.error);
  CHECK(root.Read("/etc/modprobe.conf") ==
        "# generated by anaconda\r\nalias eth0 xennet\nalias scsi_hostadapter xenblk\n"
        "options  bonding   max_bonds=2\ninstall pcspkr /bin/true\nblacklist floppy\n");
  CHECK(root.Mode("/etc/modprobe.conf") == 0600);
  for (const auto& p : ConvergeAll(registry, rs, *host)) CHECK(p.status == Converged::kUnchanged);
}

TEST_CASE_FIXTURE(Fixture, "modprobe: warns when options target a built-in module") {
  RunContext ctx;
  ctx.facts = Value(
      Map{{"kernel", Value(Map{{"builtin_modules", Value(List{"kernel/drivers/char/ipmi/ipmi_si.ko",
                                                              "kernel/fs/ext4/ext4.ko"})}})}});
  Resource ipmi = Make("ipmi_si", {{"options", Value(Map{{"type", "kcs"}, {"ports", "0xca2"}})}});
  Converge(registry, ipmi, *host, true, &ctx);
  auto w = ctx.TakeWarnings();
  REQUIRE(w.size() == 1);
  CHECK(w[0] ==
        "modprobe[ipmi_si]: options in modprobe.d do nothing for built-in module ipmi_si: use "
        "kernel_parameter ipmi_si.type=kcs ipmi_si.ports=0xca2");
  RunContext ctx2;
  ctx2.facts = ctx.facts;
  Converge(registry, Make("e1000", {{"options", Value(Map{{"a", "1"}})}}), *host, true, &ctx2);
  CHECK(ctx2.TakeWarnings().empty());
}

TEST_CASE_FIXTURE(Fixture, "modprobe: initramfs rebuilt once per run, chrooted; never in a plan") {
  if (geteuid() != 0) {
    MESSAGE("skipped: chroot needs root");
    return;
  }
  // A minimal chroot: a real dash and its libraries.
  namespace fs = std::filesystem;
  for (const char* lib : {"/lib/x86_64-linux-gnu/libc.so.6", "/lib64/ld-linux-x86-64.so.2"}) {
    if (!fs::exists(lib)) {
      MESSAGE("skipped: no " << lib);
      return;
    }
    fs::create_directories(fs::path(root.Real(lib)).parent_path());
    fs::copy_file(fs::canonical(lib), root.Real(lib));
  }
  fs::create_directories(root.Real("/bin"));
  fs::copy_file("/bin/dash", root.Real("/bin/sh"));
  ::chmod(root.Real("/bin/sh").c_str(), 0755);
  // Stand-in for update-initramfs: records how it was called.
  root.Write("/usr/sbin/update-initramfs", "#!/bin/sh\necho \"$@\" >> /var/log/initramfs.log\n",
             0755);
  root.Mkdir("/var/log");
  RunContext ctx;
  ctx.facts = Value(Map{{"kernel", Value(Map{{"release", "6.1.0-keel"}})}});
  std::vector<Resource> rs = {
      Make("xennet", {{"aliases", Value(List{"eth0"})}, {"initramfs", true}}),
      Make("xenblk", {{"aliases", Value(List{"scsi_hostadapter"})}, {"initramfs", true}})};
  ConvergeAll(registry, rs, *host, true, &ctx);
  CHECK_FALSE(root.Exists("/var/log/initramfs.log"));
  RunContext ctx2;
  ctx2.facts = ctx.facts;
  auto res = ConvergeAll(registry, rs, *host, false, &ctx2);
  for (const auto& r : res) CHECK_MESSAGE(r.status == Converged::kChanged, r.error);
  CHECK(root.Read("/var/log/initramfs.log") == "-u -k 6.1.0-keel\n");
  RunContext ctx3;
  ctx3.facts = ctx.facts;
  ConvergeAll(registry, rs, *host, false, &ctx3);  // nothing changed: no rebuild
  CHECK(root.Read("/var/log/initramfs.log") == "-u -k 6.1.0-keel\n");
}

TEST_CASE_FIXTURE(Fixture, "modprobe: no initramfs tool is a warning, not a failure") {
  RunContext ctx;
  auto r =
      Converge(registry, Make("xennet", {{"aliases", Value(List{"eth0"})}, {"initramfs", true}}),
               *host, false, &ctx);
  CHECK(r.status == Converged::kChanged);
  auto w = ctx.TakeWarnings();
  REQUIRE(w.size() == 1);
  CHECK(w[0].find("no dracut, update-initramfs or mkinitrd") != std::string::npos);
}
