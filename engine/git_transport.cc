#include "engine/git_transport.h"

#include <pwd.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <vector>

#include "engine/lazy_git.h"  // last: redefines the library calls

namespace keel {
namespace {

namespace fs = std::filesystem;

std::string Base64NoPad(const unsigned char* p, size_t n) {
  static const char* k = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  for (size_t i = 0; i < n; i += 3) {
    unsigned v = p[i] << 16 | (i + 1 < n ? p[i + 1] << 8 : 0) | (i + 2 < n ? p[i + 2] : 0);
    out += k[(v >> 18) & 63];
    out += k[(v >> 12) & 63];
    if (i + 1 < n) out += k[(v >> 6) & 63];
    if (i + 2 < n) out += k[v & 63];
  }
  return out;
}

std::string HomeDir() {
  const char* h = std::getenv("HOME");
  if (h && *h) return h;
  struct passwd* pw = ::getpwuid(::getuid());
  return pw && pw->pw_dir ? pw->pw_dir : "/";
}

std::string LocalUser() {
  struct passwd* pw = ::getpwuid(::getuid());
  return pw && pw->pw_name ? pw->pw_name : "root";
}

int SshKeyBits(git_cert_ssh_raw_type_t t) {
  switch (t) {
    case GIT_CERT_SSH_RAW_TYPE_RSA:
      return LIBSSH2_KNOWNHOST_KEY_SSHRSA;
    case GIT_CERT_SSH_RAW_TYPE_DSS:
      return LIBSSH2_KNOWNHOST_KEY_SSHDSS;
    case GIT_CERT_SSH_RAW_TYPE_KEY_ECDSA_256:
      return LIBSSH2_KNOWNHOST_KEY_ECDSA_256;
    case GIT_CERT_SSH_RAW_TYPE_KEY_ECDSA_384:
      return LIBSSH2_KNOWNHOST_KEY_ECDSA_384;
    case GIT_CERT_SSH_RAW_TYPE_KEY_ECDSA_521:
      return LIBSSH2_KNOWNHOST_KEY_ECDSA_521;
    case GIT_CERT_SSH_RAW_TYPE_KEY_ED25519:
      return LIBSSH2_KNOWNHOST_KEY_ED25519;
    default:
      return 0;
  }
}

int Refuse(int klass, const std::string& msg, int code) {
  git_error_set_str(klass, msg.c_str());
  return code;
}

}  // namespace

SshEndpoint ParseSshEndpoint(const std::string& url) {
  SshEndpoint ep;
  std::string rest = url;
  bool scheme = false;
  for (const char* s : {"ssh://", "ssh+git://", "git+ssh://"}) {
    if (url.starts_with(s)) {
      rest = url.substr(std::string(s).size());
      scheme = true;
      break;
    }
  }
  std::string authority = scheme ? rest.substr(0, rest.find('/')) : rest;
  if (size_t at = authority.rfind('@'); at != std::string::npos)
    authority = authority.substr(at + 1);
  if (!authority.empty() && authority[0] == '[') {
    size_t close = authority.find(']');
    ep.host = authority.substr(1, close == std::string::npos ? std::string::npos : close - 1);
    if (close != std::string::npos && scheme && close + 1 < authority.size() &&
        authority[close + 1] == ':')
      ep.port = std::atoi(authority.c_str() + close + 2);
  } else {
    size_t colon = authority.find(':');
    ep.host = authority.substr(0, colon);
    if (scheme && colon != std::string::npos) ep.port = std::atoi(authority.c_str() + colon + 1);
  }
  if (ep.port <= 0 || ep.port > 65535) ep.port = 22;
  return ep;
}

std::string GitTransport::KnownHostsNames() const {
  if (!o_.known_hosts.empty()) return o_.known_hosts;
  return HomeDir() + "/.ssh/known_hosts and /etc/ssh/ssh_known_hosts";
}

Result<void> GitTransport::Prepare() {
  std::error_code ec;
  if (!o_.ssh_key.empty() && !fs::is_regular_file(o_.ssh_key, ec))
    return MakeError(ErrorCode::kNotFound, "--ssh-key " + o_.ssh_key + ": no such file");
  if (!o_.known_hosts.empty() && !fs::is_regular_file(o_.known_hosts, ec))
    return MakeError(ErrorCode::kNotFound, "--known-hosts " + o_.known_hosts + ": no such file");
  if (!o_.url.starts_with("https://")) return {};
  std::string file = o_.ca_file, dir;
  if (!file.empty()) {
    if (!fs::exists(file, ec))
      return MakeError(ErrorCode::kNotFound, "--ca-file " + file + ": no such file");
    if (fs::is_directory(file, ec)) std::swap(file, dir);
  } else {
    const char* f = std::getenv("SSL_CERT_FILE");
    const char* d = std::getenv("SSL_CERT_DIR");
    file = f ? f : "";
    dir = d ? d : "";
    if (file.empty() && dir.empty()) return {};  // libgit2's default: the system's CAs
  }
  if (git_libgit2_opts(GIT_OPT_SET_SSL_CERT_LOCATIONS, file.empty() ? nullptr : file.c_str(),
                       dir.empty() ? nullptr : dir.c_str()) != 0) {
    const git_error* e = git_error_last();
    return MakeError(ErrorCode::kInvalid, "CA certificates " + (file.empty() ? dir : file) + ": " +
                                              (e && e->message ? e->message : "cannot be loaded"));
  }
  return {};
}

void GitTransport::Install(git_remote_callbacks* cb) {
  cb->payload = this;
  cb->credentials = [](git_credential** out, const char*, const char* user, unsigned int allowed,
                       void* payload) {
    return static_cast<GitTransport*>(payload)->OnCredentials(out, user, allowed);
  };
  cb->certificate_check = [](git_cert* cert, int valid, const char* host, void* payload) {
    return static_cast<GitTransport*>(payload)->OnCertificate(cert, valid, host);
  };
}

int GitTransport::OnCredentials(void* out_v, const char* user_from_url, unsigned int allowed) {
  auto** out = static_cast<git_credential**>(out_v);
  // As ssh does: the URL's user, else the local user name.
  std::string user = user_from_url && *user_from_url ? user_from_url : LocalUser();
  if (allowed & GIT_CREDENTIAL_USERNAME) return git_credential_username_new(out, user.c_str());
  if (allowed & GIT_CREDENTIAL_SSH_KEY) {
    // libgit2 asks again after every refusal, forever: offer the key once.
    if (++key_offers_ > 1)
      return Refuse(
          GIT_ERROR_SSH,
          "ssh: the server refused " +
              (o_.ssh_key.empty() ? std::string("the ssh-agent's keys") : "the key " + o_.ssh_key) +
              " for user " + user,
          GIT_EAUTH);
    if (!o_.ssh_key.empty())
      return git_credential_ssh_key_new(out, user.c_str(), nullptr, o_.ssh_key.c_str(), nullptr);
    return git_credential_ssh_key_from_agent(out, user.c_str());
  }
  return GIT_PASSTHROUGH;
}

int GitTransport::OnCertificate(void* cert_v, int valid, const char* host_c) {
  auto* cert = static_cast<git_cert*>(cert_v);
  std::string host = host_c ? host_c : "?";
  if (cert->cert_type == GIT_CERT_X509) {
    if (valid) return 0;
    std::string cas = !o_.ca_file.empty()            ? "the CAs of " + o_.ca_file
                      : std::getenv("SSL_CERT_FILE") ? "the CAs of $SSL_CERT_FILE"
                                                     : "the system's CAs";
    return Refuse(GIT_ERROR_SSL,
                  "the TLS certificate of " + host + " is not trusted by " + cas +
                      " (give the CA with --ca-file)",
                  GIT_ECERTIFICATE);
  }
  if (cert->cert_type != GIT_CERT_HOSTKEY_LIBSSH2) return GIT_PASSTHROUGH;
  auto* hk = reinterpret_cast<git_cert_hostkey*>(cert);
  if (!(hk->type & GIT_CERT_SSH_RAW) || SshKeyBits(hk->raw_type) == 0)
    return Refuse(GIT_ERROR_SSH, "ssh: host key of " + host + " is of an unsupported type",
                  GIT_ECERTIFICATE);
  std::string fingerprint =
      (hk->type & GIT_CERT_SSH_SHA256) ? "SHA256:" + Base64NoPad(hk->hash_sha256, 32) : "?";
  SshEndpoint ep = ParseSshEndpoint(o_.url);
  std::string name = ep.port == 22 ? host : "[" + host + "]:" + std::to_string(ep.port);

  std::vector<std::string> files;
  if (!o_.known_hosts.empty())
    files = {o_.known_hosts};
  else
    files = {HomeDir() + "/.ssh/known_hosts", "/etc/ssh/ssh_known_hosts"};
  LIBSSH2_SESSION* session = libssh2_session_init();
  if (!session) return Refuse(GIT_ERROR_SSH, "ssh: out of memory", -1);
  LIBSSH2_KNOWNHOSTS* known = libssh2_knownhost_init(session);
  int check = LIBSSH2_KNOWNHOST_CHECK_FAILURE;
  if (known) {
    // Line by line: libssh2's whole-file reader gives up at the first line
    // it does not know (@cert-authority, sk- keys), dropping the rest.
    for (const auto& f : files) {
      std::ifstream in(f);
      for (std::string line; std::getline(in, line);)
        (void)libssh2_knownhost_readline(known, line.c_str(), line.size(),
                                         LIBSSH2_KNOWNHOST_FILE_OPENSSH);
    }
    check = libssh2_knownhost_checkp(
        known, host.c_str(), ep.port, hk->hostkey, hk->hostkey_len,
        LIBSSH2_KNOWNHOST_TYPE_PLAIN | LIBSSH2_KNOWNHOST_KEYENC_RAW | SshKeyBits(hk->raw_type),
        nullptr);
    libssh2_knownhost_free(known);
  }
  libssh2_session_free(session);
  switch (check) {
    case LIBSSH2_KNOWNHOST_CHECK_MATCH:
      return 0;
    case LIBSSH2_KNOWNHOST_CHECK_MISMATCH:
      return Refuse(GIT_ERROR_SSH,
                    "ssh: the host key of " + name + " (" + fingerprint +
                        ") DIFFERS from the one in " + KnownHostsNames() +
                        ": refused (the host was reinstalled, or someone is in the middle)",
                    GIT_ECERTIFICATE);
    case LIBSSH2_KNOWNHOST_CHECK_NOTFOUND:
      return Refuse(GIT_ERROR_SSH,
                    "ssh: the host key of " + name + " (" + fingerprint + ") is not in " +
                        KnownHostsNames() +
                        ": refused (add it, e.g. from ssh-keyscan, after "
                        "checking the fingerprint)",
                    GIT_ECERTIFICATE);
    default:
      return Refuse(GIT_ERROR_SSH, "ssh: cannot check the host key of " + name, GIT_ECERTIFICATE);
  }
}

}  // namespace keel
