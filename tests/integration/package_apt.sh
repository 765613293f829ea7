#!/bin/bash
# package with the real apt-get and apt-cache, chrooted into a --root tree
# (SPEC 3.10: apt runs chrooted). There is no debootstrap mirror here, so
# the tree is a minimal Debian made from this machine's own apt, dpkg and
# their libraries (copied with ldd), with a local repository inside it
# (deb [trusted=yes] file:/srv/repo ./, indexed with dpkg-scanpackages).
#  - provider auto picks apt (os.family Debian, apt-get in the root);
#  - plan changes no byte (apt-cache writes no cache files);
#  - two packages in ONE apt-get install call; second apply changes nothing;
#  - latest after a newer build is published (1.10 > 1.9); absent removes;
#  - keel resource output converges; a missing package names apt's error.
. "$(dirname "$0")/../cli/lib.sh"
has_type package || skip "package not registered"
for t in apt-get apt-cache dpkg dpkg-deb dpkg-scanpackages ldd chroot; do
  command -v $t >/dev/null || skip "no $t here"
done
[ "$(id -u)" = 0 ] || skip "needs root (chroot)"

R=$T/root
mkdir -p "$R/usr/bin" "$R/usr/sbin" "$R/usr/lib" "$R/usr/lib64"
ln -s usr/bin "$R/bin"; ln -s usr/sbin "$R/sbin"; ln -s usr/lib "$R/lib"; ln -s usr/lib64 "$R/lib64"
copy_libs() { ldd "$1" 2>/dev/null | grep -o '/[^ ]*' | while read -r l; do
  mkdir -p "$R$(dirname "$l")"; cp -Ln "$l" "$R$l"; done; }
for b in apt-get apt-cache apt-config dpkg dpkg-query dpkg-deb dpkg-split sh rm tar diff \
  ldconfig start-stop-daemon mv cat gzip find sed; do
  p=$(command -v $b) || continue
  mkdir -p "$R$(dirname "$p")"; cp -L "$p" "$R$p"; copy_libs "$p"
done
cp -r /usr/lib/apt "$R/usr/lib/"
for m in "$R"/usr/lib/apt/methods/*; do copy_libs "$m"; done
mkdir -p "$R/usr/share/dpkg" && cp -r /usr/share/dpkg/. "$R/usr/share/dpkg/"
mkdir -p "$R"/etc/apt/{apt.conf.d,sources.list.d,preferences.d} "$R"/var/lib/apt/lists/partial \
  "$R"/var/cache/apt/archives/partial "$R"/var/lib/dpkg/{info,updates} "$R"/var/log/apt \
  "$R/tmp" "$R/srv/repo" "$R/etc/dpkg/dpkg.cfg.d"
: >"$R/var/lib/dpkg/status"
cp /etc/dpkg/dpkg.cfg "$R/etc/dpkg/dpkg.cfg" 2>/dev/null || echo "log /var/log/dpkg.log" >"$R/etc/dpkg/dpkg.cfg"
chmod 1777 "$R/tmp"
printf 'root:x:0:0:root:/root:/bin/sh\n_apt:x:42:65534::/nonexistent:/usr/sbin/nologin\n' >"$R/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' >"$R/etc/group"
printf 'ID=debian\nNAME="Debian GNU/Linux"\nVERSION_ID="12"\n' >"$R/etc/os-release"
echo testhost >"$R/etc/hostname"
echo 'deb [trusted=yes] file:/srv/repo ./' >"$R/etc/apt/sources.list"
echo 'APT::Sandbox::User "root";' >"$R/etc/apt/apt.conf.d/00keel-test"

publish() {  # name version: build into the root's repository and re-index
  local d=$T/build/$1-$2
  mkdir -p "$d/DEBIAN" "$d/usr/share/$1"
  printf 'Package: %s\nVersion: %s\nArchitecture: all\nMaintainer: k <k@example.org>\nDescription: t\n' \
    "$1" "$2" >"$d/DEBIAN/control"
  echo "$2" >"$d/usr/share/$1/version"
  dpkg-deb --root-owner-group -b "$d" "$R/srv/repo/$1_$2_all.deb" >/dev/null || fail "dpkg-deb"
  (cd "$R/srv/repo" && dpkg-scanpackages -m . /dev/null 2>/dev/null >Packages) || fail scanpackages
  chroot "$R" apt-get update -q >/dev/null 2>&1 || fail "apt-get update"
}
publish keel-a 1.9-1
publish keel-b 1.0-1

assert_exit 0 "$KEEL" facts --root "$R" --format json
assert_eq "Debian" "$(echo "$OUT" | json_get - 'j["os"]["family"]')" "os.family"

cat >"$T/site.yaml" <<'Y'
resources:
  - package: keel-a
  - package: keel-b
    ensure: 1.0-1
Y
before=$(tree_sum "$R")
assert_exit 2 "$KEEL" plan "$T/site.yaml" --root "$R" --detailed-exitcodes
assert_eq "$before" "$(tree_sum "$R")" "tree after plan"
assert_contains "$OUT" "+ package[keel-a] (would create)"
assert_contains "$OUT" "one apt install call"
assert_exit 2 "$KEEL" apply "$T/site.yaml" --root "$R" --state-dir "$T/state" --detailed-exitcodes
assert_contains "$OUT" "installed by one apt call for 2 packages (1 package-manager call this run)"
assert_eq "1.9-1" "$(cat "$R/usr/share/keel-a/version")" "keel-a"
grep -q ' install keel-b' "$R/var/log/dpkg.log" || fail "root's dpkg.log"
after=$(tree_sum "$R")
assert_exit 0 "$KEEL" apply "$T/site.yaml" --root "$R" --state-dir "$T/state" --detailed-exitcodes
assert_eq "$after" "$(tree_sum "$R")" "tree after second apply"

assert_exit 0 "$KEEL" resource package keel-a --root "$R"
assert_contains "$OUT" "provider: apt"
printf 'resources:\n%s\n' "$OUT" >"$T/res.yaml"
assert_exit 0 "$KEEL" apply "$T/res.yaml" --root "$R" --state-dir "$T/state" --detailed-exitcodes

publish keel-a 1.10-1
cat >"$T/latest.yaml" <<'Y'
resources:
  - package: keel-a
    ensure: latest
  - package: keel-b
    ensure: absent
Y
before=$(tree_sum "$R")
assert_exit 2 "$KEEL" plan "$T/latest.yaml" --root "$R" --detailed-exitcodes
assert_eq "$before" "$(tree_sum "$R")" "tree after plan (latest)"
assert_contains "$OUT" "ensure: \"1.9-1\" -> \"1.10-1\""
assert_exit 2 "$KEEL" apply "$T/latest.yaml" --root "$R" --state-dir "$T/state" --detailed-exitcodes
assert_eq "1.10-1" "$(cat "$R/usr/share/keel-a/version")" "keel-a upgraded"
[ ! -e "$R/usr/share/keel-b/version" ] || fail "keel-b not removed"
assert_exit 0 "$KEEL" apply "$T/latest.yaml" --root "$R" --state-dir "$T/state" --detailed-exitcodes

printf 'resources:\n  - package: keel-nope\n' >"$T/nope.yaml"
assert_exit 4 "$KEEL" apply "$T/nope.yaml" --root "$R" --state-dir "$T/state" --detailed-exitcodes
assert_contains "$OUT" "installing keel-nope with apt"
assert_contains "$OUT" "Unable to locate package keel-nope"
echo "package_apt: ok"
