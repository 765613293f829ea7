// Sha256Hex against the FIPS 180-2 test vectors and sha256sum(1): the digest
// names backups and content identities, so a wrong one would orphan every
// backup a previous keel made.
#include "engine/digest.h"

#include <doctest/doctest.h>

#include <string>

namespace keel {

TEST_CASE("digest: SHA-256 of the standard test vectors") {
  CHECK(Sha256Hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(Sha256Hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK(Sha256Hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq") ==
        "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  // One million 'a': many blocks, and bytes past the first 64 KiB.
  CHECK(Sha256Hex(std::string(1000000, 'a')) ==
        "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
  // Binary bytes, NUL included.
  CHECK(Sha256Hex(std::string("\0\xff\x80", 3)) ==
        "f742b965f156c10374bc23aea96e3a8aff8facd6fc079defeaa30219ad86f211");
}

}  // namespace keel
