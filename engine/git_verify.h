// Signed config-repo commits (SPEC 7, `--verify-signature KEYS`): the only
// gpgme user. A commit is accepted when its signature (the `gpgsig` header,
// extracted with libgit2) was made by one of the allowed keys:
//   - SSH signatures are checked by `ssh-keygen -Y find-principals` and
//     `ssh-keygen -Y verify -n git` against an allowed_signers file (as git
//     itself does);
//   - OpenPGP signatures through gpgme, in a private GNUPGHOME made for the
//     check from the allowed public keys only (the host's keyrings, trust
//     database and key servers are never consulted).
// KEYS is a file or a directory of files (see docs/git-signatures.md); each
// file is either an OpenPGP public key (armored or binary) or SSH
// allowed_signers lines (a bare `ssh-ed25519 AAAA... comment` line, as in a
// .pub file, allows that key for any principal).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "engine/result.h"

struct git_repository;

namespace keel {

/// The allowed keys read from KEYS.
struct AllowedKeys {
  std::string allowed_signers;       // SSH: allowed_signers lines, one per key
  std::vector<std::string> openpgp;  // OpenPGP public key blocks (armored or binary)
  std::vector<std::string> files;    // the files they came from (for messages)
};

/// Adds the keys of one file's content. kInvalid (naming `name`) when it is
/// neither an OpenPGP public key nor allowed_signers lines, or when it holds
/// a private key.
Result<void> AddAllowedKeys(AllowedKeys& keys, const std::string& name, std::string_view text);

/// Reads KEYS: a file, or every regular file directly inside a directory
/// (names starting with '.' skipped). kNotFound when KEYS does not exist,
/// kInvalid when a file is not a key file or when no key was found at all.
Result<AllowedKeys> LoadAllowedKeys(const std::string& path);

/// Checks `signature` (the armored text of a commit's gpgsig header) over
/// `signed_data` (the commit without that header). Returns who signed
/// ("SSH key SHA256:... (principal x)", "OpenPGP key <fingerprint>"); an
/// error saying why it is refused otherwise: an unknown key, a signature
/// that does not match the data, an unsupported format, a tool missing.
Result<std::string> VerifySignature(std::string_view signature, std::string_view signed_data,
                                    const AllowedKeys& keys);

/// Extracts the signature of commit `sha` in `repo` and checks it against
/// the keys read from `keys_path`. The error names the commit and ends with
/// "nothing applied" (or says it is unsigned).
Result<std::string> VerifyCommitSignature(git_repository* repo, const std::string& sha,
                                          const std::string& keys_path);

}  // namespace keel
