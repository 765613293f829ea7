#include "engine/git_verify.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "engine/lazy_git.h"  // last: redefines the library calls
#include "engine/subprocess.h"

namespace keel {
namespace {

namespace fs = std::filesystem;

constexpr size_t kMaxKeyFile = 1 << 20;  // a key file is small; more is a wrong path
constexpr size_t kMaxKeyFiles = 1000;

bool IsSshKeyType(std::string_view t) {
  for (std::string_view p : {"ssh-", "ecdsa-sha2-", "sk-ssh-", "sk-ecdsa-"})
    if (t.substr(0, p.size()) == p && t.size() > p.size()) return true;
  return false;
}

std::vector<std::string> Fields(std::string_view line) {
  std::vector<std::string> out;
  std::istringstream in{std::string(line)};
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

// A temporary directory (0700) removed with everything in it.
class TempDir {
 public:
  static Result<TempDir> Make(const char* prefix) {
    const char* tmp = std::getenv("TMPDIR");
    std::string tmpl = std::string(tmp && *tmp ? tmp : "/tmp") + "/" + prefix + "XXXXXX";
    if (!::mkdtemp(tmpl.data()))
      return MakeError(ErrorCode::kIo, "cannot create a temporary directory in " +
                                           fs::path(tmpl).parent_path().string());
    return TempDir(tmpl);
  }
  TempDir(TempDir&& o) noexcept : path_(std::move(o.path_)) { o.path_.clear(); }
  TempDir(const TempDir&) = delete;
  ~TempDir() {
    std::error_code ec;
    if (!path_.empty()) fs::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }
  Result<std::string> Write(const std::string& name, std::string_view data) const {
    std::string p = path_ + "/" + name;
    std::ofstream out(p, std::ios::binary | std::ios::trunc);
    out.write(data.data(), static_cast<std::streamsize>(data.size()));
    out.close();
    if (!out) return MakeError(ErrorCode::kIo, "cannot write " + p);
    return p;
  }

 private:
  explicit TempDir(std::string p) : path_(std::move(p)) {}
  std::string path_;
};

std::string FirstLine(const std::string& s) {
  std::string t = s.substr(0, s.find('\n'));
  while (!t.empty() && (t.back() == '\r' || t.back() == ' ')) t.pop_back();
  return t;
}

Result<CommandResult> SshKeygen(std::vector<std::string> args, std::string stdin_data = {}) {
  args.insert(args.begin(), "ssh-keygen");
  ProcessSpec spec{.argv = std::move(args),
                   .env = {{"PATH", kDefaultCommandPath}},
                   .stdin_data = std::move(stdin_data),
                   .timeout_s = 60};
  auto r = RunProcess(spec);
  if (!r.ok() && r.error().code == ErrorCode::kNotFound)
    return MakeError(ErrorCode::kUnsupported,
                     "ssh-keygen not found: SSH signatures need it (Debian: openssh-client)");
  return r;
}

Result<std::string> VerifySsh(std::string_view signature, std::string_view data,
                              const AllowedKeys& keys) {
  if (keys.allowed_signers.empty())
    return MakeError(ErrorCode::kInvalid,
                     "signed with an SSH key, and the allowed keys hold no SSH key");
  auto dir = TempDir::Make("keel-sshsig-");
  if (!dir.ok()) return dir.error();
  auto allowed = dir->Write("allowed_signers", keys.allowed_signers);
  if (!allowed.ok()) return allowed.error();
  auto sig = dir->Write("commit.sig", signature);
  if (!sig.ok()) return sig.error();
  // As git does: which principals does the signing key belong to, then a
  // verification (key, namespace "git", the data) for each of them.
  auto found = SshKeygen({"-Y", "find-principals", "-f", *allowed, "-s", *sig});
  if (!found.ok()) return found.error();
  if (found->exit_code != 0 || found->out.empty()) {
    std::string why = FirstLine(found->err);
    return MakeError(ErrorCode::kInvalid,
                     "SSH signature not made by an allowed key" +
                         (why.empty() || why == "No principal matched." ? "" : " (" + why + ")"));
  }
  std::vector<std::string> principals;
  std::istringstream lines(found->out);
  for (std::string line; std::getline(lines, line);) {
    std::istringstream parts(line);
    for (std::string p; std::getline(parts, p, ',');)
      if (!p.empty()) principals.push_back(p);
  }
  std::string last_err;
  for (const auto& principal : principals) {
    auto v = SshKeygen({"-Y", "verify", "-f", *allowed, "-I", principal, "-n", "git", "-s", *sig},
                       std::string(data));
    if (!v.ok()) return v.error();
    // ssh-keygen says `Good "git" signature for P with ED25519 key SHA256:...`.
    if (v->exit_code == 0 && v->out.find("Good \"git\" signature") != std::string::npos) {
      std::string good = FirstLine(v->out);
      size_t with = good.find(" with ");
      return "SSH " + (with == std::string::npos ? good : good.substr(with + 6)) + " (principal " +
             principal + ")";
    }
    last_err = FirstLine(v->err.empty() ? v->out : v->err);
  }
  return MakeError(ErrorCode::kInvalid,
                   "SSH signature by an allowed key does not verify (the commit was changed "
                   "after signing, or the key is not allowed for namespace git)" +
                       (last_err.empty() ? "" : ": " + last_err));
}

// One gpgme context on a private GNUPGHOME holding only the allowed keys.
class Gpg {
 public:
  ~Gpg() {
    if (ctx_) gpgme_release(ctx_);
    if (home_) {
      // gpg may have started an agent on this home: stop it before removing.
      ProcessSpec spec{.argv = {"gpgconf", "--homedir", home_->path(), "--kill", "all"},
                       .env = {{"PATH", kDefaultCommandPath}},
                       .timeout_s = 10};
      (void)RunProcess(spec);
    }
  }
  Result<void> Open() {
    gpgme_check_version(nullptr);
    auto home = TempDir::Make("keel-gpg-");
    if (!home.ok()) return home.error();
    home_.emplace(std::move(home).value());
    if (gpgme_engine_check_version(GPGME_PROTOCOL_OpenPGP) != 0)
      return MakeError(ErrorCode::kUnsupported,
                       "OpenPGP signatures need gpg (Debian: gnupg): not found");
    if (auto e = gpgme_new(&ctx_); e != 0) return Fail("gpgme", e);
    gpgme_set_protocol(ctx_, GPGME_PROTOCOL_OpenPGP);
    if (auto e =
            gpgme_ctx_set_engine_info(ctx_, GPGME_PROTOCOL_OpenPGP, nullptr, home_->path().c_str());
        e != 0)
      return Fail("gpgme home", e);
    gpgme_set_offline(ctx_, 1);  // never fetch keys from a key server
    return {};
  }
  Result<void> Import(const std::string& blob, const std::string& name) {
    gpgme_data_t d = nullptr;
    if (auto e = gpgme_data_new_from_mem(&d, blob.data(), blob.size(), 0); e != 0)
      return Fail("gpgme data", e);
    gpgme_error_t e = gpgme_op_import(ctx_, d);
    gpgme_data_release(d);
    if (e != 0) return Fail("importing the OpenPGP key of " + name, e);
    gpgme_import_result_t r = gpgme_op_import_result(ctx_);
    if (!r || r->considered == 0)
      return MakeError(ErrorCode::kInvalid, name + ": no OpenPGP public key in it");
    return {};
  }
  Result<std::string> Verify(std::string_view signature, std::string_view data) {
    gpgme_data_t sig = nullptr, text = nullptr;
    if (auto e = gpgme_data_new_from_mem(&sig, signature.data(), signature.size(), 0); e != 0)
      return Fail("gpgme data", e);
    if (auto e = gpgme_data_new_from_mem(&text, data.data(), data.size(), 0); e != 0) {
      gpgme_data_release(sig);
      return Fail("gpgme data", e);
    }
    gpgme_error_t e = gpgme_op_verify(ctx_, sig, text, nullptr);
    gpgme_data_release(sig);
    gpgme_data_release(text);
    if (e != 0) return Fail("OpenPGP signature unreadable", e, ErrorCode::kInvalid);
    gpgme_verify_result_t r = gpgme_op_verify_result(ctx_);
    if (!r || !r->signatures)
      return MakeError(ErrorCode::kInvalid, "OpenPGP signature holds no signature");
    std::string why;
    for (gpgme_signature_t s = r->signatures; s; s = s->next) {
      std::string fpr = s->fpr ? s->fpr : "?";
      switch (gpgme_err_code(s->status)) {
        case GPG_ERR_NO_ERROR:
          if (s->summary & (GPGME_SIGSUM_KEY_REVOKED | GPGME_SIGSUM_KEY_EXPIRED |
                            GPGME_SIGSUM_SIG_EXPIRED | GPGME_SIGSUM_RED)) {
            why = "OpenPGP signature by " + fpr + " is not valid (key revoked or expired)";
            break;
          }
          return "OpenPGP key " + fpr;
        case GPG_ERR_NO_PUBKEY:
          why = "OpenPGP signature by key " + fpr + ", which is not an allowed key";
          break;
        case GPG_ERR_BAD_SIGNATURE:
          why = "bad OpenPGP signature by " + fpr + " (the commit was changed after signing)";
          break;
        case GPG_ERR_KEY_EXPIRED:
        case GPG_ERR_SIG_EXPIRED:
          why = "OpenPGP signature by " + fpr + ": key or signature expired";
          break;
        case GPG_ERR_CERT_REVOKED:
          why = "OpenPGP signature by " + fpr + ": key revoked";
          break;
        default:
          why = "OpenPGP signature by " + fpr + " not valid: " + gpgme_strerror(s->status);
      }
    }
    return MakeError(ErrorCode::kInvalid, why);
  }

 private:
  static Error Fail(const std::string& what, gpgme_error_t e, ErrorCode code = ErrorCode::kIo) {
    return MakeError(code, what + ": " + gpgme_strerror(e));
  }
  std::optional<TempDir> home_;
  gpgme_ctx_t ctx_ = nullptr;
};

Result<std::string> VerifyOpenPgp(std::string_view signature, std::string_view data,
                                  const AllowedKeys& keys) {
  if (keys.openpgp.empty())
    return MakeError(ErrorCode::kInvalid,
                     "signed with OpenPGP, and the allowed keys hold no OpenPGP key");
  Gpg gpg;
  if (auto o = gpg.Open(); !o.ok()) return o.error();
  for (size_t i = 0; i < keys.openpgp.size(); ++i) {
    std::string name = i < keys.files.size() ? keys.files[i] : "an OpenPGP key";
    if (auto imp = gpg.Import(keys.openpgp[i], name); !imp.ok()) return imp.error();
  }
  return gpg.Verify(signature, data);
}

}  // namespace

Result<void> AddAllowedKeys(AllowedKeys& keys, const std::string& name, std::string_view text) {
  if (text.find("PRIVATE KEY") != std::string_view::npos)
    return MakeError(ErrorCode::kInvalid, name + ": holds a private key; give the public key only");
  if (text.find("-----BEGIN PGP PUBLIC KEY BLOCK-----") != std::string_view::npos) {
    keys.openpgp.emplace_back(text);
    keys.files.push_back(name);
    return {};
  }
  // A binary OpenPGP public key starts with a public-key packet: old format
  // tag 6 (0x98..0x9b) or new format 0xc6.
  auto first = text.empty() ? 0 : static_cast<unsigned char>(text[0]);
  if ((first >= 0x98 && first <= 0x9b) || first == 0xc6) {
    keys.openpgp.emplace_back(text);
    keys.files.push_back(name);
    return {};
  }
  if (text.find('\0') != std::string_view::npos)
    return MakeError(ErrorCode::kInvalid,
                     name + ": not a key file (binary, and not an OpenPGP public key)");
  std::string out;
  size_t line_no = 0, found = 0;
  std::istringstream in{std::string(text)};
  for (std::string line; std::getline(in, line);) {
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    auto f = Fields(line);
    if (f.empty() || f[0][0] == '#') continue;
    // The file's own content is not echoed: KEYS may be a wrong path.
    std::string where = name + ":" + std::to_string(line_no);
    if (IsSshKeyType(f[0])) {
      if (f.size() < 2)
        return MakeError(ErrorCode::kInvalid, where + ": an SSH key type without a key");
      out += "* " + line + "\n";  // a bare public key (.pub): any principal
    } else {
      auto type = std::find_if(f.begin() + 1, f.end(),
                               [](const std::string& w) { return IsSshKeyType(w); });
      if (type == f.end() || type + 1 == f.end())
        return MakeError(ErrorCode::kInvalid,
                         where +
                             ": neither an SSH allowed_signers line (principals [options] "
                             "key-type key) nor a public key; OpenPGP keys must be exported "
                             "public keys");
      out += line + "\n";
    }
    ++found;
  }
  if (found == 0)
    return MakeError(ErrorCode::kInvalid, name + ": no key in it (empty or comments only)");
  keys.allowed_signers += out;
  return {};
}

Result<AllowedKeys> LoadAllowedKeys(const std::string& path) {
  std::error_code ec;
  std::vector<fs::path> files;
  auto st = fs::status(path, ec);
  if (ec || !fs::exists(st))
    return MakeError(ErrorCode::kNotFound, "--verify-signature " + path + ": no such file");
  if (fs::is_directory(st)) {
    for (const auto& e : fs::directory_iterator(path, ec)) {
      if (e.path().filename().string().starts_with(".")) continue;
      if (!e.is_regular_file(ec)) continue;
      files.push_back(e.path());
      if (files.size() > kMaxKeyFiles)
        return MakeError(ErrorCode::kInvalid, "--verify-signature " + path + ": over " +
                                                  std::to_string(kMaxKeyFiles) + " files");
    }
    if (ec) return MakeError(ErrorCode::kIo, "--verify-signature " + path + ": " + ec.message());
    std::sort(files.begin(), files.end());
  } else if (fs::is_regular_file(st)) {
    files.push_back(path);
  } else {
    return MakeError(ErrorCode::kInvalid,
                     "--verify-signature " + path + ": not a file or directory");
  }
  AllowedKeys keys;
  for (const auto& f : files) {
    std::ifstream in(f, std::ios::binary);
    if (!in) return MakeError(ErrorCode::kIo, "--verify-signature: cannot read " + f.string());
    std::string text(kMaxKeyFile + 1, '\0');
    in.read(text.data(), static_cast<std::streamsize>(text.size()));
    text.resize(static_cast<size_t>(in.gcount()));
    if (in.bad()) return MakeError(ErrorCode::kIo, "--verify-signature: cannot read " + f.string());
    if (text.size() > kMaxKeyFile)
      return MakeError(ErrorCode::kInvalid,
                       "--verify-signature " + f.string() + ": over 1 MiB, not a key file");
    if (auto a = AddAllowedKeys(keys, f.string(), text); !a.ok())
      return a.error().Context("--verify-signature");
  }
  if (keys.allowed_signers.empty() && keys.openpgp.empty())
    return MakeError(ErrorCode::kInvalid, "--verify-signature " + path + ": no key file in it");
  return keys;
}

Result<std::string> VerifySignature(std::string_view signature, std::string_view signed_data,
                                    const AllowedKeys& keys) {
  if (signature.find("-----BEGIN SSH SIGNATURE-----") != std::string_view::npos)
    return VerifySsh(signature, signed_data, keys);
  if (signature.find("-----BEGIN PGP SIGNATURE-----") != std::string_view::npos)
    return VerifyOpenPgp(signature, signed_data, keys);
  if (signature.find("-----BEGIN SIGNED MESSAGE-----") != std::string_view::npos)
    return MakeError(ErrorCode::kUnsupported, "X.509 (gpgsm) signatures are not supported");
  return MakeError(ErrorCode::kInvalid, "the signature is in no known format");
}

Result<std::string> VerifyCommitSignature(git_repository* repo, const std::string& sha,
                                          const std::string& keys_path) {
  std::string what = "commit " + sha.substr(0, 12);
  auto refuse = [&](const Error& e) {
    return MakeError(e.code, what + " refused: " + e.message + "; nothing applied");
  };
  auto keys = LoadAllowedKeys(keys_path);
  if (!keys.ok()) return refuse(keys.error());
  git_oid oid;
  if (git_oid_fromstr(&oid, sha.c_str()) != 0)
    return refuse(MakeError(ErrorCode::kInvalid, "not a commit id"));
  git_buf sig = GIT_BUF_INIT, data = GIT_BUF_INIT;
  int rc = git_commit_extract_signature(&sig, &data, repo, &oid, nullptr);
  if (rc != 0) {
    git_buf_dispose(&sig);
    git_buf_dispose(&data);
    if (rc == GIT_ENOTFOUND) return refuse(MakeError(ErrorCode::kInvalid, "it is not signed"));
    const git_error* e = git_error_last();
    return refuse(MakeError(ErrorCode::kIo, std::string("reading its signature: ") +
                                                (e && e->message ? e->message : "git error")));
  }
  auto v = VerifySignature(std::string_view(sig.ptr, sig.size),
                           std::string_view(data.ptr, data.size), *keys);
  git_buf_dispose(&sig);
  git_buf_dispose(&data);
  if (!v.ok()) return refuse(v.error());
  return v;
}

}  // namespace keel
