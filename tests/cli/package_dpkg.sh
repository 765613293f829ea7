#!/bin/bash
# package with the real dpkg through the real keel binary: .deb files built
# here with dpkg-deb live in the config repo (source: resolved next to the
# manifest); a Debian-style --root tree with its own dpkg database.
#  - plan changes no byte of the tree and names what apply does;
#  - apply installs three packages with ONE dpkg call (the report says so);
#    the root's /var/log/dpkg.log has them, the host's log does not;
#  - a second apply changes nothing; keel resource output applied changes
#    nothing;
#  - upgrade with ensure VERSION from a newer file, removal;
#  - a broken package fails naming the packages and dpkg's last lines;
#  - a source outside the repo is a load error with file:line:col.
. "$(dirname "$0")/lib.sh"
has_type package || skip "package not registered"
command -v dpkg >/dev/null && command -v dpkg-deb >/dev/null || skip "no dpkg here"

REPO=$T/repo
mkdir -p "$REPO/debs"
build_deb() {  # name version [extra control lines]
  local d=$T/build/$1-$2
  mkdir -p "$d/DEBIAN" "$d/usr/share/$1"
  printf 'Package: %s\nVersion: %s\nArchitecture: all\nMaintainer: keel <k@example.org>\nDescription: keel test\n%b' \
    "$1" "$2" "${3:-}" >"$d/DEBIAN/control"
  echo "$2" >"$d/usr/share/$1/version"
  dpkg-deb --root-owner-group -b "$d" "$REPO/debs/$1_$2.deb" >/dev/null || fail "dpkg-deb $1"
}
build_deb keel-a 1.0-1
build_deb keel-b 1.0-1
build_deb keel-c 0.9-1
build_deb keel-c 0.10-1
build_deb keel-broken 1.0 'Depends: keel-not-there (>= 2)\n'

R=$(mkroot root)
mkdir -p "$R/var/lib/dpkg/info" "$R/var/lib/dpkg/updates" "$R/var/log"
: >"$R/var/lib/dpkg/status"
echo "keep me" >"$R/etc/unmanaged.conf"

cat >"$REPO/site.yaml" <<'Y'
resources:
  - package: keel-a
    source: debs/keel-a_1.0-1.deb
  - package: keel-b
    source: debs/keel-b_1.0-1.deb
  - package: keel-c
    ensure: 0.9-1
    source: debs/keel-c_0.9-1.deb
  - file: /etc/keel-a.conf
    content: "after the package\n"
    require: package[keel-a]
Y
host_log_before=$(sha256sum /var/log/dpkg.log 2>/dev/null || echo none)

before=$(tree_sum "$R")
assert_exit 2 "$KEEL" plan "$REPO/site.yaml" --root "$R" --detailed-exitcodes
assert_eq "$before" "$(tree_sum "$R")" "tree after plan"
assert_contains "$OUT" "+ package[keel-a] (would create)"
assert_contains "$OUT" "ensure: absent -> \"1.0-1\""
assert_contains "$OUT" "ensure: absent -> \"0.9-1\""
assert_contains "$OUT" "changed 4, failed 0"

assert_exit 2 "$KEEL" apply "$REPO/site.yaml" --root "$R" --state-dir "$T/state" \
  --detailed-exitcodes --report "$T/r1.json"
assert_contains "$OUT" "changed 4, failed 0"
assert_eq "installed by one dpkg call for 3 packages (1 package-manager call this run)" \
  "$(json_get "$T/r1.json" '[r for r in j["resources"] if r["id"]=="package[keel-b]"][0]["message"]')" \
  "message of package[keel-b]"
assert_eq "1.0-1 ii " "$(dpkg-query --admindir="$R/var/lib/dpkg" -W -f='${Version} ${db:Status-Abbrev}' keel-a)" "keel-a"
assert_eq "0.9-1" "$(cat "$R/usr/share/keel-c/version")" "keel-c file"
assert_eq 3 "$(grep -c ' install keel-' "$R/var/log/dpkg.log")" "root's dpkg.log"
assert_eq "$host_log_before" "$(sha256sum /var/log/dpkg.log 2>/dev/null || echo none)" "host dpkg.log"
assert_file_eq "$R/etc/unmanaged.conf" "keep me
"

after=$(tree_sum "$R")
assert_exit 0 "$KEEL" apply "$REPO/site.yaml" --root "$R" --state-dir "$T/state" --detailed-exitcodes
assert_contains "$OUT" "changed 0, failed 0"
assert_eq "$after" "$(tree_sum "$R")" "tree after second apply"

# keel resource: what is there, as a manifest that changes nothing.
assert_exit 0 "$KEEL" resource package keel-c --root "$R"
assert_contains "$OUT" "ensure: \"0.9-1\""
printf 'resources:\n%s\n' "$OUT" >"$T/res.yaml"
assert_exit 0 "$KEEL" apply "$T/res.yaml" --root "$R" --state-dir "$T/state" --detailed-exitcodes
assert_contains "$OUT" "changed 0, failed 0"

# Upgrade by VERSION (0.10 > 0.9 for dpkg), removal of another, one run.
cat >"$REPO/upgrade.yaml" <<'Y'
resources:
  - package: keel-c
    ensure: 0.10-1
    source: debs/keel-c_0.10-1.deb
  - package: keel-b
    ensure: absent
    provider: dpkg
Y
before=$(tree_sum "$R")
assert_exit 2 "$KEEL" plan "$REPO/upgrade.yaml" --root "$R" --detailed-exitcodes
assert_eq "$before" "$(tree_sum "$R")" "tree after plan (upgrade)"
assert_contains "$OUT" "~ package[keel-c]"
assert_contains "$OUT" "- package[keel-b]"
assert_exit 2 "$KEEL" apply "$REPO/upgrade.yaml" --root "$R" --state-dir "$T/state" \
  --detailed-exitcodes --report "$T/r2.json"
assert_contains "$OUT" "(2 package-manager calls this run)"
assert_eq "0.10-1" "$(cat "$R/usr/share/keel-c/version")" "keel-c upgraded"
[ ! -e "$R/usr/share/keel-b/version" ] || fail "keel-b not removed"
assert_exit 0 "$KEEL" apply "$REPO/upgrade.yaml" --root "$R" --state-dir "$T/state" --detailed-exitcodes

# A broken package: the failure names the packages and shows dpkg's words.
cat >"$REPO/broken.yaml" <<'Y'
resources:
  - package: keel-broken
    source: debs/keel-broken_1.0.deb
  - file: /etc/needs-broken
    content: "x\n"
    require: package[keel-broken]
Y
assert_exit 4 "$KEEL" apply "$REPO/broken.yaml" --root "$R" --state-dir "$T/state" --detailed-exitcodes
assert_contains "$OUT" "! package[keel-broken]"
assert_contains "$OUT" "installing keel-broken with dpkg"
assert_contains "$OUT" "keel-not-there"
assert_contains "$OUT" "? file[/etc/needs-broken]"
[ ! -e "$R/etc/needs-broken" ] || fail "dependent ran"

# A source outside the config repo is a load error with its place.
cat >"$REPO/escape.yaml" <<'Y'
resources:
  - package: keel-a
    source: ../../etc/passwd.deb
Y
assert_exit 1 "$KEEL" plan "$REPO/escape.yaml" --root "$R"
assert_contains "$ERR$OUT" "escape.yaml:3:"
echo "package_dpkg: ok"
