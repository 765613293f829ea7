#!/bin/bash
# keel version / keel --version / -V: the version, the git commit of the
# build (a commit of this repository, or "unknown" outside git) and the
# versions of the libraries it was built with.
. "$(dirname "$0")/lib.sh"

assert_exit 0 "$KEEL" version
v=$OUT
assert_exit 0 "$KEEL" --version
assert_eq "$v" "$OUT" "keel --version = keel version"
assert_exit 0 "$KEEL" -V
assert_eq "$v" "$OUT" "keel -V = keel version"

want=$(sed -n 's/^project(keel VERSION \([0-9.]*\).*/\1/p' "$KEEL_SRC/CMakeLists.txt")
assert_eq "keel $want" "$(echo "$v" | head -1)" "first line"
commit=$(echo "$v" | sed -n 's/^commit //p')
if git -C "$KEEL_SRC" rev-parse --git-dir >/dev/null 2>&1 &&
   [ "$(cd "$(git -C "$KEEL_SRC" rev-parse --show-toplevel)" && pwd -P)" = "$(cd "$KEEL_SRC" && pwd -P)" ]; then
  [[ $commit =~ ^[0-9a-f]{40}$ ]] || fail "commit line is not a full sha: [$commit]"
  git -C "$KEEL_SRC" cat-file -e "$commit^{commit}" 2>/dev/null ||
    fail "commit $commit is not a commit of $KEEL_SRC"
else
  assert_eq unknown "$commit" "commit outside git"
fi

# Library versions: each line "<name> <version>"; the shared ones match what
# is installed.
for lib in yaml-cpp libgit2 Boost fmt spdlog nlohmann-json CLI11 OpenSSL; do
  line=$(echo "$v" | grep "^$lib ") || fail "no $lib line in: $v"
  [[ $line =~ ^$lib\ [0-9]+\.[0-9]+ ]] || fail "no version number: [$line]"
done
# RE2 releases are dates (2022-06-01 is 20220601).
[[ $(echo "$v" | grep "^RE2 ") =~ ^RE2\ [0-9]{8}$|^RE2\ [0-9]+\.[0-9]+ ]] || fail "RE2 line: $v"
if pkg-config --exists libgit2 2>/dev/null; then
  assert_contains "$v" "libgit2 $(pkg-config --modversion libgit2)" "libgit2 version"
fi
if pkg-config --exists yaml-cpp 2>/dev/null; then
  assert_contains "$v" "yaml-cpp $(pkg-config --modversion yaml-cpp)" "yaml-cpp version"
fi
boost=$(sed -n 's/^#define BOOST_LIB_VERSION "\([0-9_]*\)"/\1/p' /usr/include/boost/version.hpp 2>/dev/null)
[ -z "$boost" ] || assert_contains "$v" "Boost ${boost//_/.}" "Boost version"

# `keel version` takes no arguments.
assert_exit 1 "$KEEL" version extra
echo ok
