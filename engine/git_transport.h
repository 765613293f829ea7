// How a config-repo fetch talks to its remote (SPEC 7): credentials for
// ssh://, the ssh host key checked against known_hosts files, the CAs that
// https:// certificates must chain to. The only libssh2 user (its
// known_hosts parser and matcher: hashed names, [host]:port entries).
#pragma once

#include <string>

#include "engine/result.h"

struct git_remote_callbacks;

namespace keel {

struct TransportOptions {
  std::string url;
  std::string ssh_key;      // private key file for ssh:// (else ssh-agent)
  std::string known_hosts;  // "" = ~/.ssh/known_hosts and /etc/ssh/ssh_known_hosts
  std::string ca_file;      // https: PEM file (or directory) of the CAs to trust;
                            // "" = $SSL_CERT_FILE / $SSL_CERT_DIR, else the system's
};

/// `host` and port of an ssh URL (ssh://[user@]host[:port]/path,
/// [user@]host:path); port 22 when not given. Pure, for tests.
struct SshEndpoint {
  std::string host;
  int port = 22;
};
SshEndpoint ParseSshEndpoint(const std::string& url);

/// The callbacks of one fetch. Keep it alive until the fetch returns.
class GitTransport {
 public:
  explicit GitTransport(TransportOptions options) : o_(std::move(options)) {}

  /// Checks the options before any connection: kNotFound when --ssh-key,
  /// --known-hosts or --ca-file names no file; kInvalid when the CA file
  /// cannot be loaded. For https:// sets libgit2's CA locations (a process
  /// setting: libgit2 has no per-remote one).
  Result<void> Prepare();

  /// Installs the credential and certificate callbacks into `callbacks`.
  /// ssh: the host key must match an entry of the known_hosts files (an
  /// unknown or changed key refuses the connection, naming the key's
  /// SHA256 fingerprint); the key is offered once (a refused key fails the
  /// fetch instead of looping). https: a certificate that does not chain
  /// to the trusted CAs refuses the connection.
  void Install(git_remote_callbacks* callbacks);

  /// Called by the libgit2 callbacks.
  int OnCredentials(void* out, const char* user_from_url, unsigned int allowed);
  int OnCertificate(void* cert, int valid, const char* host);

 private:
  std::string KnownHostsNames() const;
  TransportOptions o_;
  int key_offers_ = 0;
};

}  // namespace keel
