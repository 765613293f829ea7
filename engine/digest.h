// SHA-256 of byte strings, through OpenSSL's libcrypto (SHA256_*): the only
// libcrypto user. Content identities ("{sha256}<hex>"), backup names and
// redacted values all come from here.
#pragma once

#include <string>
#include <string_view>

namespace keel {

/// Lower-case hex SHA-256 of `data` (64 characters). Never fails.
std::string Sha256Hex(std::string_view data);

}  // namespace keel
