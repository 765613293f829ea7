// Key files and signatures of --verify-signature (engine/git_verify.h) and the
// ssh endpoint parsing of engine/git_transport.h. Signatures are real ones
// made with ssh-keygen; the commit-level and OpenPGP cases run end to end
// in tests/integration/git_signature.sh.
#include "engine/git_verify.h"

#include <doctest/doctest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "engine/git_transport.h"
#include "tests/unit/support/temp_root.h"

using keel::AddAllowedKeys;
using keel::AllowedKeys;
using keel::testing::TempRoot;

namespace {

std::string Sh(const std::string& cmd) {
  std::string out;
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return out;
  char buf[256];
  while (fgets(buf, sizeof buf, p)) out += buf;
  pclose(p);
  while (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

std::string Slurp(const std::string& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

constexpr const char* kKey =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFdOEHrGSRSFP1Q4Lsl+dL5MmDWlXfX3nTpn4GI0teFa";

}  // namespace

TEST_CASE("git_verify: key files are recognised by their content") {
  AllowedKeys k;
  REQUIRE(AddAllowedKeys(k, "signers",
                         std::string("# team\n\nalice@example.com ") + kKey +
                             "\nbob@example.com namespaces=\"git\" " + kKey + " bob\n")
              .ok());
  CHECK(k.allowed_signers == std::string("alice@example.com ") + kKey +
                                 "\nbob@example.com namespaces=\"git\" " + kKey + " bob\n");
  // A .pub line: the key for any principal.
  REQUIRE(AddAllowedKeys(k, "id.pub", std::string(kKey) + " me@host\r\n").ok());
  CHECK(k.allowed_signers.ends_with(std::string("* ") + kKey + " me@host\n"));
  CHECK(k.openpgp.empty());

  REQUIRE(AddAllowedKeys(k, "team.asc",
                         "-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nmDMEZ...\n-----END PGP PUBLIC "
                         "KEY BLOCK-----\n")
              .ok());
  REQUIRE(AddAllowedKeys(k, "team.gpg", std::string("\x98\x33\x04\x00", 4)).ok());
  CHECK(k.openpgp.size() == 2);
  CHECK(k.files == std::vector<std::string>{"team.asc", "team.gpg"});
}

TEST_CASE("git_verify: wrong key files are refused without echoing them") {
  AllowedKeys k;
  auto shadow = AddAllowedKeys(k, "/etc/shadow", "root:$6$secret:20228:0:99999:7:::\n");
  REQUIRE(!shadow.ok());
  CHECK(shadow.error().message.starts_with("/etc/shadow:1: neither an SSH allowed_signers line"));
  CHECK(shadow.error().message.find("secret") == std::string::npos);

  auto priv = AddAllowedKeys(k, "id", "-----BEGIN OPENSSH PRIVATE KEY-----\nb3Bl\n");
  REQUIRE(!priv.ok());
  CHECK(priv.error().message == "id: holds a private key; give the public key only");
  CHECK(!AddAllowedKeys(k, "sec.asc", "-----BEGIN PGP PRIVATE KEY BLOCK-----\n").ok());

  auto empty = AddAllowedKeys(k, "e", "# nothing\n\n");
  REQUIRE(!empty.ok());
  CHECK(empty.error().message == "e: no key in it (empty or comments only)");
  auto bin = AddAllowedKeys(k, "b", std::string("ELF\0\1\2", 6));
  REQUIRE(!bin.ok());
  CHECK(bin.error().message.find("not a key file") != std::string::npos);
  CHECK(!AddAllowedKeys(k, "t", "ssh-ed25519\n").ok());        // a type without a key
  CHECK(!AddAllowedKeys(k, "t", "alice ssh-ed25519\n").ok());  // idem, with a principal
  CHECK(k.allowed_signers.empty());
  CHECK(k.openpgp.empty());
}

TEST_CASE("git_verify: LoadAllowedKeys reads a file or a directory") {
  TempRoot t;
  std::string dir = t.path() + "/keys";
  std::filesystem::create_directories(dir);
  std::ofstream(dir + "/a") << "alice " << kKey << "\n";
  std::ofstream(dir + "/.hidden") << "not a key\n";
  std::ofstream(dir + "/b.pub") << kKey << " bob\n";
  auto k = keel::LoadAllowedKeys(dir);
  REQUIRE(k.ok());
  CHECK(k->allowed_signers ==
        std::string("alice ") + kKey + "\n* " + kKey + " bob\n");  // sorted, .hidden skipped
  CHECK(keel::LoadAllowedKeys(dir + "/a").ok());
  auto missing = keel::LoadAllowedKeys(dir + "/nope");
  REQUIRE(!missing.ok());
  CHECK(missing.error().message == "--verify-signature " + dir + "/nope: no such file");
  std::filesystem::create_directories(t.path() + "/empty");
  CHECK(!keel::LoadAllowedKeys(t.path() + "/empty").ok());
  std::ofstream(dir + "/c") << "garbage\n";
  auto bad = keel::LoadAllowedKeys(dir);
  REQUIRE(!bad.ok());
  CHECK(bad.error().message.find(dir + "/c:1:") != std::string::npos);
  std::ofstream(t.path() + "/huge") << std::string(2 << 20, 'x');
  CHECK(!keel::LoadAllowedKeys(t.path() + "/huge").ok());
}

TEST_CASE("git_verify: real SSH signatures: good, other key, changed data, wrong namespace") {
  if (Sh("command -v ssh-keygen").empty()) return;
  TempRoot t;
  std::string d = t.path();
  Sh("ssh-keygen -q -t ed25519 -N '' -C a -f " + d +
     "/good && ssh-keygen -q -t ed25519 -N '' "
     "-f " +
     d + "/other");
  std::ofstream(d + "/data") << "tree 123\n\nmessage\n";
  Sh("cd " + d +
     " && ssh-keygen -Y sign -q -f good -n git data && mv data.sig git.sig && "
     "ssh-keygen -Y sign -q -f other -n git data && mv data.sig other.sig && "
     "ssh-keygen -Y sign -q -f good -n file data && mv data.sig file.sig");
  AllowedKeys keys;
  REQUIRE(AddAllowedKeys(keys, "allowed", "alice@example.com " + Slurp(d + "/good.pub")).ok());
  std::string data = "tree 123\n\nmessage\n";

  auto good = keel::VerifySignature(Slurp(d + "/git.sig"), data, keys);
  REQUIRE_MESSAGE(good.ok(), good.error().message);
  CHECK(good->starts_with("SSH ED25519 key SHA256:"));
  CHECK(good->ends_with("(principal alice@example.com)"));

  auto other = keel::VerifySignature(Slurp(d + "/other.sig"), data, keys);
  REQUIRE(!other.ok());
  CHECK(other.error().message == "SSH signature not made by an allowed key");

  auto changed = keel::VerifySignature(Slurp(d + "/git.sig"), data + "x", keys);
  REQUIRE(!changed.ok());
  CHECK(changed.error().message.starts_with("SSH signature by an allowed key does not verify"));

  auto ns = keel::VerifySignature(Slurp(d + "/file.sig"), data, keys);
  CHECK(!ns.ok());

  AllowedKeys pgp_only;
  pgp_only.openpgp.push_back("x");
  auto none = keel::VerifySignature(Slurp(d + "/git.sig"), data, pgp_only);
  REQUIRE(!none.ok());
  CHECK(none.error().message.find("hold no SSH key") != std::string::npos);

  CHECK(!keel::VerifySignature("garbage", data, keys).ok());
  CHECK(!keel::VerifySignature("-----BEGIN SSH SIGNATURE-----\nAAAA\n-----END SSH SIGNATURE-----\n",
                               data, keys)
             .ok());
}

TEST_CASE("git_transport: ssh endpoints") {
  using keel::ParseSshEndpoint;
  auto e = ParseSshEndpoint("ssh://git@cfg.example.com:2222/site.git");
  CHECK(e.host == "cfg.example.com");
  CHECK(e.port == 2222);
  e = ParseSshEndpoint("ssh://cfg.example.com/site.git");
  CHECK(e.host == "cfg.example.com");
  CHECK(e.port == 22);
  e = ParseSshEndpoint("git@cfg.example.com:team/site.git");  // scp-like: no port
  CHECK(e.host == "cfg.example.com");
  CHECK(e.port == 22);
  e = ParseSshEndpoint("ssh://root@[::1]:2200/srv/x.git");
  CHECK(e.host == "::1");
  CHECK(e.port == 2200);
  e = ParseSshEndpoint("ssh://h:99999/x");
  CHECK(e.port == 22);
}
