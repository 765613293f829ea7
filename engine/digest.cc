#include "engine/digest.h"

// OpenSSL's SHA-256 functions themselves, not EVP: EVP_Digest fetches the
// algorithm from a provider, which on first use initialises the library and
// reads its configuration file (openssl.cnf), and links in most of libcrypto
// when it is linked statically (KEEL_STATIC_DEPS). These calls are
// deprecated in OpenSSL 3 only in favour of EVP; they are the same
// (assembler) implementation.
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/sha.h>

namespace keel {

std::string Sha256Hex(std::string_view data) {
  unsigned char md[SHA256_DIGEST_LENGTH];
  SHA256_CTX ctx;
  SHA256_Init(&ctx);
  SHA256_Update(&ctx, data.data(), data.size());
  SHA256_Final(md, &ctx);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(2 * SHA256_DIGEST_LENGTH, '0');
  for (int i = 0; i < SHA256_DIGEST_LENGTH; ++i) {
    out[2 * i] = kHex[md[i] >> 4];
    out[2 * i + 1] = kHex[md[i] & 15];
  }
  return out;
}

}  // namespace keel
