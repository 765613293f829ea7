#!/bin/bash
# The Debian package: `cpack -G DEB` in the build directory makes keel's
# .deb (dependencies from dpkg-shlibdeps); it is installed with
# `dpkg --root` into a fresh, empty dpkg database made here (this machine's
# own dpkg database and /usr are never touched), its keel runs `version` and
# validates the packaged examples and manifests, the man page and completion
# are where man and bash-completion look, every dependency is a package
# this machine has, and `dpkg --root -r` removes it all again.
. "$KEEL_SRC/tests/cli/lib.sh"
BUILD=$(cd "$(dirname "$KEEL")" && pwd)
[ -f "$BUILD/CPackConfig.cmake" ] || skip "$KEEL is not in a CMake build directory with CPack"
for t in cpack dpkg dpkg-deb dpkg-shlibdeps; do
  command -v $t >/dev/null || skip "$t is not installed (dpkg-dev, cmake)"
done

(cd "$T" && cpack -G DEB -B "$T/pkg" --config "$BUILD/CPackConfig.cmake") >"$T/cpack.log" 2>&1 ||
  { cat "$T/cpack.log" >&2; fail "cpack -G DEB failed"; }
deb=$(ls "$T"/pkg/keel_*.deb 2>/dev/null | head -1)
[ -n "$deb" ] || { cat "$T/cpack.log" >&2; fail "no keel_*.deb made"; }

assert_eq keel "$(dpkg-deb -f "$deb" Package)" "Package"
assert_eq admin "$(dpkg-deb -f "$deb" Section)" "Section"
deps=$(dpkg-deb -f "$deb" Depends)
# The libraries keel loads on first use (dlopen: engine/lazy_lib.h), which
# dpkg-shlibdeps cannot see and CMake adds: libgit2, gpgme, libssh2,
# librpmio, libapt-pkg. The rest depends on KEEL_STATIC_DEPS (the default):
# linked in, libstdc++, libyaml, RE2, libcrypto and libaudit are not
# dependencies; linked shared, they are (from dpkg-shlibdeps).
for lib in libc6 libgit2 libgpgme libssh2 librpmio libapt-pkg; do
  assert_contains "$deps" "$lib" "Depends (shlibdeps and the lazy libraries)"
done
if grep -q '^KEEL_STATIC_DEPS:BOOL=ON' "$BUILD/CMakeCache.txt" && ! sanitized; then
  for lib in libyaml-0 libre2 libssl3 libaudit1 libspdlog libfmt; do
    case "$deps" in *"$lib"*) fail "Depends names $lib, which a KEEL_STATIC_DEPS build links in: $deps" ;; esac
  done
else
  for lib in libyaml-0 libstdc++6 libre2; do
    assert_contains "$deps" "$lib" "Depends (shlibdeps of a shared build)"
  done
fi
# Every dependency is a package installed here (the package runs on the
# machine it was built for).
# (Or a virtual package one of them provides: libspdlog1.10-fmt9.)
provided=$(dpkg-query -W -f='${Status}|${Provides}\n' | sed -n 's/^install ok installed|//p' |
  tr ',' '\n' | sed 's/^ *//; s/ .*//')
for p in $(echo "$deps" | tr ',' '\n' | sed 's/^ *//; s/ .*//; s/:.*//'); do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -c "install ok installed" >/dev/null ||
    grep -qx "$p" <<<"$provided" || fail "dependency $p is not installed on this machine"
done
files=$(dpkg-deb -c "$deb")
for f in ./usr/bin/keel ./usr/share/man/man1/keel.1 ./usr/share/bash-completion/completions/keel \
         ./usr/share/doc/keel/examples/site.yaml ./usr/share/doc/keel/systemd/keel.timer \
         ./usr/share/doc/keel/docs/README.md; do
  assert_contains "$files" "$f" "package contents"
done

# A fresh root with an empty dpkg database. Its dependencies are this
# machine's libraries, not packages of the fresh root: --force-depends.
R="$T/root"
mkdir -p "$R/var/lib/dpkg/info" "$R/var/lib/dpkg/updates" "$R/var/lib/dpkg/triggers" "$R/var/log"
touch "$R/var/lib/dpkg/status" "$R/var/lib/dpkg/available"
dpkg --root="$R" --log="$R/var/log/dpkg.log" --force-depends --force-script-chrootless -i "$deb" \
  >"$T/dpkg.log" 2>&1 || { cat "$T/dpkg.log" >&2; fail "dpkg --root -i failed"; }
grep -q "^Package: keel$" "$R/var/lib/dpkg/status" || fail "keel is not in the fresh root's status"
[ -x "$R/usr/bin/keel" ] || fail "usr/bin/keel not installed"
[ -f "$R/usr/share/man/man1/keel.1" ] || fail "man page not installed"
[ -f "$R/usr/share/bash-completion/completions/keel" ] || fail "completion not installed"

assert_exit 0 "$R/usr/bin/keel" version
assert_contains "$OUT" "keel $(dpkg-deb -f "$deb" Version | sed 's/-.*//')" "packaged keel version"
W=$(mkroot work)  # the examples are for CentOS: a CentOS 6 image's facts
echo "CentOS release 6.3 (Final)" >"$W/etc/redhat-release"
assert_exit 0 "$R/usr/bin/keel" validate "$R/usr/share/doc/keel/examples" --root "$W"
assert_contains "$OUT" "ok: " "validate the packaged examples"
for m in "$R"/usr/share/doc/keel/manifests/*.yaml; do
  assert_exit 0 "$R/usr/bin/keel" validate "$m" --root "$W"
done
if command -v man >/dev/null; then
  page=$(MANPATH="$R/usr/share/man" man -P cat keel 2>/dev/null) || true
  [ -z "$page" ] || assert_contains "$page" "EXIT STATUS" "man keel from the package"
fi
got=$(bash -c '. "$1"; COMP_WORDS=(keel describe fil); COMP_CWORD=2; _keel; echo "${COMPREPLY[*]}"' _ \
  "$R/usr/share/bash-completion/completions/keel")
assert_eq "file" "$got" "packaged completion"

dpkg --root="$R" --log="$R/var/log/dpkg.log" --force-script-chrootless -r keel >"$T/dpkg-r.log" 2>&1 ||
  { cat "$T/dpkg-r.log" >&2; fail "dpkg --root -r failed"; }
[ ! -e "$R/usr/bin/keel" ] || fail "usr/bin/keel left after removal"
[ ! -e "$R/usr/share/man/man1/keel.1" ] || fail "man page left after removal"
left=$(find "$R/usr" -type f 2>/dev/null | head -3)
assert_eq "" "$left" "files left under usr after removal"
echo ok
