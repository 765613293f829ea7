// kernel_parameter: the formats on strings (kernel command line, real
// /etc/default/grub of Debian 12, CentOS 7 and RHEL 9, a CentOS 6 grub.conf,
// captured grubby --info output), then the grub2 and grub-legacy timelines
// through the real transaction on a TempRoot (symlinks to grub.conf kept),
// grub.cfg regeneration by a recording stand-in chrooted in the root.
// grubby is not in Debian: its half is tested through the argument
// construction and the parsing of captured `grubby --info=ALL` output
// (tests/unit/data/boot/grubby-info-all.*), not by running grubby.
#include <doctest/doctest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "engine/host_real.h"
#include "engine/registry.h"
#include "resources/kernel_parameter/cmdline.h"
#include "tests/unit/support/converge.h"
#include "tests/unit/support/temp_root.h"
#include "tests/unit/support/test_data.h"

using namespace keel;
using keel::kparam::Param;
using keel::testing::Converge;
using keel::testing::ConvergeAll;
using keel::testing::Converged;
using keel::testing::MakeResource;
using keel::testing::TempRoot;
using keel::testing::Timeline;
using keel::testing::TimelineAll;

namespace {

std::string Data(const std::string& name) { return keel::testing::TestData("boot/" + name); }

Param Flag(const std::string& n) { return {n, std::nullopt, false}; }
Param Val(const std::string& n, const std::string& v) { return {n, v, false}; }
Param Gone(const std::string& n) { return {n, std::nullopt, true}; }

std::string Replace(std::string s, const std::string& from, const std::string& to) {
  size_t at = s.find(from);
  REQUIRE(at != std::string::npos);
  return s.replace(at, from.size(), to);
}

std::string ReplaceAll(std::string s, const std::string& from, const std::string& to) {
  size_t at = 0;
  while ((at = s.find(from, at)) != std::string::npos) {
    s.replace(at, from.size(), to);
    at += to.size();
  }
  return s;
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
    return MakeResource(registry, "kernel_parameter", title, std::move(attrs));
  }
};

}  // namespace

TEST_CASE("kparam cmdline: add, replace, remove one token; others keep order and spacing") {
  using kparam::EditCmdline;
  CHECK(EditCmdline("ro quiet", Val("ipmi_si.ports", "0xca2")) == "ro quiet ipmi_si.ports=0xca2");
  CHECK(EditCmdline("", Flag("quiet")) == "quiet");
  CHECK(EditCmdline("ro  quiet  ", Flag("nomodeset")) == "ro  quiet nomodeset  ");
  CHECK(EditCmdline("a crashkernel=auto  b", Val("crashkernel", "256M")) ==
        "a crashkernel=256M  b");
  CHECK(EditCmdline("a crashkernel=auto b", Val("crashkernel", "auto")) == "a crashkernel=auto b");
  // Later duplicates go (the kernel takes the last one).
  CHECK(EditCmdline("x=1 a x=2 b x=3", Val("x", "1")) == "x=1 a b");
  // '-' and '_' are one character in kernel parameter names.
  CHECK(EditCmdline("ro ipmi-si.type=bt", Val("ipmi_si.type", "kcs")) == "ro ipmi_si.type=kcs");
  // flag <-> value
  CHECK(EditCmdline("ro quiet=1", Flag("quiet")) == "ro quiet");
  CHECK(EditCmdline("ro quiet", Val("quiet", "1")) == "ro quiet=1");
  // absent: every occurrence, with the blanks before it (after it when first)
  CHECK(EditCmdline("rhgb quiet ro quiet=2", Gone("quiet")) == "rhgb ro");
  CHECK(EditCmdline("quiet  ro", Gone("quiet")) == "ro");
  CHECK(EditCmdline("quiet", Gone("quiet")) == "");
  CHECK(EditCmdline("ro", Gone("quiet")) == "ro");
  CHECK(EditCmdline("quiet quiet ro", Gone("quiet")) == "ro");
  // A quoted value keeps its blanks as one token; "quietx" is another name.
  CHECK(EditCmdline("dyndbg=\"file a.c +p\" quietx", Flag("quiet")) ==
        "dyndbg=\"file a.c +p\" quietx quiet");
  CHECK(kparam::Lookup("a x=1 x=2", "x") == std::optional<std::optional<std::string>>("2"));
  CHECK(kparam::Lookup("a x", "x") ==
        std::optional<std::optional<std::string>>(std::optional<std::string>()));
  CHECK_FALSE(kparam::Lookup("a xx=1", "x"));
}

TEST_CASE("kparam /etc/default/grub: Debian 12, CentOS 7 and RHEL 9 files, quoting kept") {
  std::string deb = Data("default-grub.debian12");
  auto r = kparam::EditDefaultGrub(deb, Val("ipmi_si.ports", "0xca2"));
  REQUIRE(r.ok());
  CHECK(*r ==
        Replace(deb, "GRUB_CMDLINE_LINUX=\"\"\n", "GRUB_CMDLINE_LINUX=\"ipmi_si.ports=0xca2\"\n"));
  CHECK(*kparam::EditDefaultGrub(*r, Val("ipmi_si.ports", "0xca2")) == *r);
  // Debian's quiet is in _DEFAULT: absent removes it there; the backquoted
  // GRUB_DISTRIBUTOR is not touched (keel reads only the cmdline variables).
  auto q = kparam::EditDefaultGrub(deb, Gone("quiet"));
  REQUIRE(q.ok());
  CHECK(*q ==
        Replace(deb, "GRUB_CMDLINE_LINUX_DEFAULT=\"quiet\"", "GRUB_CMDLINE_LINUX_DEFAULT=\"\""));
  CHECK(*kparam::DefaultGrubCmdline(deb) == "quiet");

  std::string c7 = Data("default-grub.centos7");
  auto a = kparam::EditDefaultGrub(c7, Flag("nomodeset"));
  REQUIRE(a.ok());
  CHECK(*a == Replace(c7, "rhgb quiet\"", "rhgb quiet nomodeset\""));
  auto b = kparam::EditDefaultGrub(c7, Gone("rhgb"));
  CHECK(*b == Replace(c7, " rhgb quiet\"", " quiet\""));
  auto c = kparam::EditDefaultGrub(c7, Val("crashkernel", "256M"));
  CHECK(*c == Replace(c7, "crashkernel=auto", "crashkernel=256M"));

  std::string r9 = Data("default-grub.rhel9");
  auto d = kparam::EditDefaultGrub(r9, Val("ipmi_si.type", "kcs"));
  CHECK(*d == Replace(r9, "rhgb quiet\"", "rhgb quiet ipmi_si.type=kcs\""));

  // Single quotes, bare words, export and comments are kept.
  CHECK(*kparam::EditDefaultGrub("GRUB_CMDLINE_LINUX='ro quiet' # mine\n", Flag("x")) ==
        "GRUB_CMDLINE_LINUX='ro quiet x' # mine\n");
  CHECK(*kparam::EditDefaultGrub("export GRUB_CMDLINE_LINUX=ro\n", Flag("x")) ==
        "export GRUB_CMDLINE_LINUX=\"ro x\"\n");
  CHECK(*kparam::EditDefaultGrub("GRUB_CMDLINE_LINUX=ro\r\n", Gone("ro")) ==
        "GRUB_CMDLINE_LINUX=\"\"\r\n");
  // No GRUB_CMDLINE_LINUX: appended, double-quoted.
  CHECK(*kparam::EditDefaultGrub("GRUB_TIMEOUT=5\n", Flag("quiet")) ==
        "GRUB_TIMEOUT=5\nGRUB_CMDLINE_LINUX=\"quiet\"\n");
  CHECK(*kparam::EditDefaultGrub("GRUB_TIMEOUT=5\n", Gone("quiet")) == "GRUB_TIMEOUT=5\n");
  // A conflicting value in _DEFAULT goes; the same value there stays.
  CHECK(*kparam::EditDefaultGrub(
            "GRUB_CMDLINE_LINUX_DEFAULT=\"quiet x=1\"\nGRUB_CMDLINE_LINUX=\"\"\n", Val("x", "2")) ==
        "GRUB_CMDLINE_LINUX_DEFAULT=\"quiet\"\nGRUB_CMDLINE_LINUX=\"x=2\"\n");
}

TEST_CASE("kparam /etc/default/grub: malformed files are errors, never a second assignment") {
  auto u = kparam::EditDefaultGrub("GRUB_TIMEOUT=5\nGRUB_CMDLINE_LINUX=\"rhgb quiet\nX=1\n",
                                   Flag("nomodeset"));
  REQUIRE_FALSE(u.ok());
  CHECK(u.error().message.find("line 2: GRUB_CMDLINE_LINUX: unterminated quote") !=
        std::string::npos);
  auto d = kparam::EditDefaultGrub("GRUB_CMDLINE_LINUX=\"$GRUB_CMDLINE_LINUX quiet\"\n", Flag("x"));
  REQUIRE_FALSE(d.ok());
  CHECK(d.error().message.find("uses shell expansion") != std::string::npos);
  CHECK_FALSE(kparam::DefaultGrubCmdline("GRUB_CMDLINE_LINUX_DEFAULT='quiet\n").ok());
}

TEST_CASE("kparam grub.conf: CentOS 6 file with three entries, all or the default one") {
  std::string g = Data("grub.conf.centos6");
  auto lines = kparam::KernelLines(g, false);
  REQUIRE(lines.ok());
  CHECK(lines->size() == 3);
  auto all = kparam::EditGrubConf(g, Val("ipmi_si.type", "kcs"), false);
  REQUIRE(all.ok());
  CHECK(*all == ReplaceAll(g, "rd_NO_DM rhgb quiet\n", "rd_NO_DM rhgb quiet ipmi_si.type=kcs\n"));
  CHECK(*kparam::EditGrubConf(*all, Val("ipmi_si.type", "kcs"), false) == *all);
  // default=0 is the first title block only.
  auto def = kparam::EditGrubConf(g, Flag("nomodeset"), true);
  REQUIRE(def.ok());
  CHECK(*def == Replace(g, "rd_NO_DM rhgb quiet\n", "rd_NO_DM rhgb quiet nomodeset\n"));
  std::string g2 = Replace(g, "default=0", "default 2");
  auto def2 = kparam::EditGrubConf(g2, Gone("rhgb"), true);
  REQUIRE(def2.ok());
  size_t last = g2.rfind("rd_NO_DM rhgb quiet");
  CHECK(*def2 == std::string(g2).replace(last, 19, "rd_NO_DM quiet"));
  // The commented example kernel line of the header is not a kernel line.
  CHECK(kparam::EditGrubConf(g, Gone("ro"), false)->find("#          kernel /vmlinuz-version ro") !=
        std::string::npos);
}

TEST_CASE("kparam grub.conf: image-only lines, options, CRLF, no final newline") {
  CHECK(*kparam::EditGrubConf("title a\nkernel /vmlinuz", Flag("quiet"), false) ==
        "title a\nkernel /vmlinuz quiet");
  CHECK(*kparam::EditGrubConf("title a\r\n\tkernel --type=linux /vmlinuz ro\r\n", Flag("quiet"),
                              false) == "title a\r\n\tkernel --type=linux /vmlinuz ro quiet\r\n");
  CHECK(*kparam::EditGrubConf("title a\nkernel /vmlinuz quiet\n", Gone("quiet"), false) ==
        "title a\nkernel /vmlinuz\n");
}

TEST_CASE("kparam grub.conf: bad files are clear errors") {
  auto none = kparam::EditGrubConf("default=0\ntimeout=5\n", Flag("quiet"), false);
  REQUIRE_FALSE(none.ok());
  CHECK(none.error().message == "no boot entry (no `title` line)");
  auto nok = kparam::EditGrubConf("title a\n\troot (hd0,0)\n", Flag("quiet"), false);
  REQUIRE_FALSE(nok.ok());
  CHECK(nok.error().message.find("no `kernel` line in any of the 1 boot entries") !=
        std::string::npos);
  std::string g = Replace(Data("grub.conf.centos6"), "default=0", "default=9");
  auto far = kparam::EditGrubConf(g, Flag("quiet"), true);
  REQUIRE_FALSE(far.ok());
  CHECK(far.error().message ==
        "default=9 names entry 9 (counted from 0), but there are 3 `title` entries");
  CHECK(kparam::EditGrubConf(g, Flag("nomodeset"), false).ok());  // all entries: default unused
  auto saved = kparam::EditGrubConf("default=saved\ntitle a\nkernel /v\n", Flag("q"), true);
  REQUIRE_FALSE(saved.ok());
  CHECK(saved.error().message.find("default=saved does not name an entry") != std::string::npos);
}

TEST_CASE("kparam grubby: captured --info=ALL output (RHEL 9, CentOS 7) and the commands") {
  auto r9 = kparam::ParseGrubbyInfo(Data("grubby-info-all.rhel9"));
  REQUIRE(r9.size() == 3);
  CHECK(r9[0].index == 0);
  CHECK(r9[0].kernel == "/boot/vmlinuz-5.14.0-427.13.1.el9_4.x86_64");
  CHECK(r9[2].args.substr(0, 20) == "ro crashkernel=1G-4G");
  CHECK(r9[0].args.find("$tuned_params") != std::string::npos);
  auto c7 = kparam::ParseGrubbyInfo(Data("grubby-info-all.centos7"));
  REQUIRE(c7.size() == 3);
  CHECK(c7[0].kernel == "/boot/vmlinuz-3.10.0-1160.el7.x86_64");  // old grubby: bare values
  CHECK(c7[0].linux);
  CHECK_FALSE(c7[2].linux);

  std::vector<std::string> args;
  for (const auto& e : r9) args.push_back(e.args);
  using V = std::vector<std::vector<std::string>>;
  CHECK(kparam::GrubbyCommands(args, Val("ipmi_si.ports", "0xca2"), false) ==
        V{{"grubby", "--update-kernel=ALL", "--args=ipmi_si.ports=0xca2"}});
  CHECK(kparam::GrubbyCommands(args, Flag("quiet"), false).empty());
  CHECK(kparam::GrubbyCommands(args, Gone("rhgb"), true) ==
        V{{"grubby", "--update-kernel=DEFAULT", "--remove-args=rhgb"}});
  CHECK(kparam::GrubbyCommands(args, Gone("nosuch"), false).empty());
  CHECK(kparam::GrubbyCommands(args, Val("crashkernel", "auto"), false) ==
        V{{"grubby", "--update-kernel=ALL", "--args=crashkernel=auto"}});
  // A flag replacing name=value: remove, then add.
  CHECK(kparam::GrubbyCommands({"ro quiet=1"}, Flag("quiet"), false) ==
        V{{"grubby", "--update-kernel=ALL", "--remove-args=quiet"},
          {"grubby", "--update-kernel=ALL", "--args=quiet"}});
  // Entries that differ: one command for all.
  CHECK(kparam::GrubbyCommands({"ro x=1", "ro"}, Val("x", "1"), false).size() == 1);
}

TEST_CASE("kernel_parameter: load-time checks and duplicates") {
  Registry r;
  RegisterBuiltinTypes(r);
  CHECK_THROWS_WITH(MakeResource(r, "kernel_parameter", "a b", {}),
                    doctest::Contains("not a kernel parameter name"));
  CHECK_THROWS_WITH(MakeResource(r, "kernel_parameter", "x", {{"value", "a b"}}),
                    doctest::Contains("not supported in a value"));
  CHECK_THROWS_WITH(
      MakeResource(r, "kernel_parameter", "x", {{"value", "1"}, {"ensure", "absent"}}),
      doctest::Contains("drop value"));
  CHECK_THROWS_WITH(MakeResource(r, "kernel_parameter", "x", {{"bootloader", "lilo"}}),
                    doctest::Contains("lilo"));
  const TypeInfo& t = *r.Find("kernel_parameter");
  auto a = MakeResource(r, "kernel_parameter", "ipmi_si.ports", {{"value", "0xca2"}});
  auto b = MakeResource(r, "kernel_parameter", "ipmi-si.ports", {{"value", "0xca8"}});
  auto c = MakeResource(r, "kernel_parameter", "ipmi_si.ports",
                        {{"value", "0xca2"}, {"bootloader", "grubby"}});
  CHECK(ResourceIdentity(t, a) == ResourceIdentity(t, b));
  CHECK(ResourceIdentity(t, a) != ResourceIdentity(t, c));
}

TEST_CASE_FIXTURE(Fixture, "kernel_parameter grub-legacy: timeline, /etc/grub.conf link kept") {
  std::string g = Data("grub.conf.centos6");
  root.Write("/boot/grub/grub.conf", g, 0600);
  root.Symlink("/etc/grub.conf", "../boot/grub/grub.conf");
  root.Symlink("/boot/grub/menu.lst", "./grub.conf");
  std::vector<Resource> rs = {
      Make("ipmi_si.type", {{"value", "kcs"}, {"bootloader", "grub-legacy"}}),
      Make("ipmi_si.ports", {{"value", "0xca2"}, {"bootloader", "grub-legacy"}})};
  auto res = TimelineAll(registry, rs, *host, root);
  for (const auto& r : res) CHECK_MESSAGE(r.status == Converged::kChanged, r.error);
  CHECK(root.Read("/boot/grub/grub.conf") ==
        ReplaceAll(g, "rd_NO_DM rhgb quiet\n",
                   "rd_NO_DM rhgb quiet ipmi_si.type=kcs ipmi_si.ports=0xca2\n"));
  CHECK(root.Mode("/boot/grub/grub.conf") == 0600);
  auto st = std::filesystem::symlink_status(root.Real("/etc/grub.conf"));
  CHECK(std::filesystem::is_symlink(st));
  CHECK(std::filesystem::is_symlink(
      std::filesystem::symlink_status(root.Real("/boot/grub/menu.lst"))));
  // The changes name the properties.
  bool ensure = false;
  for (const auto& c : res[0].changes) ensure = ensure || c.attr == "ensure";
  CHECK(ensure);
}

TEST_CASE_FIXTURE(Fixture, "kernel_parameter grub-legacy: grub.conf itself a link to menu.lst") {
  root.Write("/boot/grub/menu.lst", "default=0\ntitle a\n\tkernel /vmlinuz ro\n");
  root.Symlink("/boot/grub/grub.conf", "menu.lst");
  auto r = Timeline(registry, Make("quiet", {{"bootloader", "grub-legacy"}}), *host, root);
  CHECK_MESSAGE(r.status == Converged::kChanged, r.error);
  CHECK(std::filesystem::is_symlink(
      std::filesystem::symlink_status(root.Real("/boot/grub/grub.conf"))));
  CHECK(root.Read("/boot/grub/menu.lst") == "default=0\ntitle a\n\tkernel /vmlinuz ro quiet\n");
}

TEST_CASE_FIXTURE(Fixture, "kernel_parameter grub-legacy: bad grub.conf fails, file untouched") {
  std::string g = Replace(Data("grub.conf.centos6"), "default=0", "default=9");
  root.Write("/boot/grub/grub.conf", g);
  auto r = Converge(registry,
                    Make("quiet", {{"bootloader", "grub-legacy"}, {"entries", "default"}}), *host);
  CHECK(r.status == Converged::kFailed);
  CHECK(r.error.find("/boot/grub/grub.conf: default=9 names entry 9") != std::string::npos);
  CHECK(root.Read("/boot/grub/grub.conf") == g);
  // A binary file is refused by the editing layer.
  root.Write("/boot/grub/grub.conf", std::string("title a\0kernel /v\n", 18));
  auto b = Converge(registry, Make("quiet", {{"bootloader", "grub-legacy"}}), *host);
  CHECK(b.status == Converged::kFailed);
  // Missing: an error for present, nothing to do for absent.
  std::filesystem::remove(root.Real("/boot/grub/grub.conf"));
  auto m = Converge(registry, Make("quiet", {{"bootloader", "grub-legacy"}}), *host);
  CHECK(m.status == Converged::kFailed);
  CHECK(m.error.find("does not exist") != std::string::npos);
  auto g2 = Converge(registry, Make("quiet", {{"bootloader", "grub-legacy"}, {"ensure", "absent"}}),
                     *host);
  CHECK(g2.status == Converged::kUnchanged);
  CHECK_FALSE(root.Exists("/boot/grub/grub.conf"));
}

TEST_CASE_FIXTURE(Fixture, "kernel_parameter grub2: timeline, regeneration pending warning") {
  std::string deb = Data("default-grub.debian12");
  root.Write("/etc/default/grub", deb);
  RunContext ctx;
  ctx.facts = Value(Map{{"bootloader", Value("grub2")}});
  Resource p = Make("ipmi_si.ports", {{"value", "0xca2"}});
  auto before = root.Snapshot();
  RunContext plan_ctx;  // a plan's edit session holds its staged edits
  plan_ctx.facts = ctx.facts;
  auto plan = Converge(registry, p, *host, true, &plan_ctx);
  CHECK(plan.status == Converged::kChanged);
  CHECK(root.Snapshot() == before);
  CHECK_FALSE(plan_ctx.reboot_required.load());
  auto r = Converge(registry, p, *host, false, &ctx);
  CHECK_MESSAGE(r.status == Converged::kChanged, r.error);
  CHECK(ctx.reboot_required.load());
  CHECK(root.Read("/etc/default/grub") ==
        Replace(deb, "GRUB_CMDLINE_LINUX=\"\"", "GRUB_CMDLINE_LINUX=\"ipmi_si.ports=0xca2\""));
  auto w = ctx.TakeWarnings();
  REQUIRE(w.size() == 1);
  CHECK(w[0].find("regenerating grub.cfg is pending") != std::string::npos);
  RunContext ctx2;
  ctx2.facts = ctx.facts;
  auto again = Converge(registry, p, *host, false, &ctx2);
  CHECK(again.status == Converged::kUnchanged);
  CHECK_FALSE(ctx2.reboot_required.load());
  CHECK(ctx2.TakeWarnings().empty());
}

TEST_CASE_FIXTURE(Fixture, "kernel_parameter grub2: bad /etc/default/grub fails, untouched") {
  std::string bad = "GRUB_TIMEOUT=5\nGRUB_CMDLINE_LINUX=\"rhgb quiet\n";
  root.Write("/etc/default/grub", bad);
  auto r = Converge(registry, Make("quiet", {{"bootloader", "grub2"}}), *host);
  CHECK(r.status == Converged::kFailed);
  CHECK(r.error.find("/etc/default/grub: line 2: GRUB_CMDLINE_LINUX: unterminated quote") !=
        std::string::npos);
  CHECK(root.Read("/etc/default/grub") == bad);
}

TEST_CASE_FIXTURE(Fixture, "kernel_parameter: auto without a usable bootloader fact is an error") {
  RunContext ctx;
  ctx.facts = Value(Map{{"bootloader", Value("none")}});
  auto r = Converge(registry, Make("quiet", {}), *host, false, &ctx);
  CHECK(r.status == Converged::kFailed);
  CHECK(r.error.find("no supported boot loader was found (fact bootloader is 'none')") !=
        std::string::npos);
}

TEST_CASE_FIXTURE(Fixture, "kernel_parameter grub2: grub.cfg regenerated once per run, chrooted") {
  if (geteuid() != 0) {
    MESSAGE("skipped: chroot needs root");
    return;
  }
  // The real grub2-mkconfig needs grub-probe and a boot device, which a test
  // root cannot have: a recording stand-in placed in the root takes its
  // place, run chrooted by keel (a real dash and its libraries copied in).
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
  root.Write("/usr/sbin/grub2-mkconfig", "#!/bin/sh\necho \"$@\" >> /var/log/mkconfig.log\n", 0755);
  root.Mkdir("/var/log");
  root.Write("/etc/default/grub", Data("default-grub.centos7"));
  root.Write("/boot/grub2/grub.cfg", "### BEGIN /etc/grub.d/10_linux ###\nmenuentry 'x' {\n}\n");
  root.Write("/boot/efi/EFI/centos/grub.cfg", "menuentry 'CentOS' {\n}\n");
  // RHEL 9's EFI stub only chains to /boot/grub2: regenerating it would break it.
  root.Write("/boot/efi/EFI/redhat/grub.cfg",
             "search --no-floppy --fs-uuid --set=dev 1234\nset prefix=($dev)/grub2\n"
             "export $prefix\nconfigfile $prefix/grub.cfg\n");
  std::vector<Resource> rs = {Make("ipmi_si.type", {{"value", "kcs"}, {"bootloader", "grub2"}}),
                              Make("ipmi_si.ports", {{"value", "0xca2"}, {"bootloader", "grub2"}})};
  RunContext plan;
  ConvergeAll(registry, rs, *host, true, &plan);
  CHECK_FALSE(root.Exists("/var/log/mkconfig.log"));
  RunContext ctx;
  auto res = ConvergeAll(registry, rs, *host, false, &ctx);
  for (const auto& r : res) CHECK_MESSAGE(r.status == Converged::kChanged, r.error);
  CHECK(root.Read("/var/log/mkconfig.log") ==
        "-o /boot/grub2/grub.cfg\n-o /boot/efi/EFI/centos/grub.cfg\n");
  CHECK(ctx.TakeWarnings().empty());
  CHECK(
      root.Read("/etc/default/grub").find("rhgb quiet ipmi_si.type=kcs ipmi_si.ports=0xca2\"\n") !=
      std::string::npos);
  RunContext again;
  ConvergeAll(registry, rs, *host, false, &again);  // nothing changed: no regeneration
  CHECK(root.Read("/var/log/mkconfig.log") ==
        "-o /boot/grub2/grub.cfg\n-o /boot/efi/EFI/centos/grub.cfg\n");
  CHECK_FALSE(again.reboot_required.load());
}
