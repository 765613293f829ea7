#!/bin/bash
# package with the real dnf, rpm and createrepo_c: .rpm files built here
# with rpmbuild (Debian's rpm package), a repository made with
# createrepo_c, installed with `dnf --installroot` into an EMPTY root (an
# image from nothing, as the seed's `yum --installroot` does), confirmed
# with `rpm --root -q`. plan changes no byte; one dnf call for all
# packages; second apply changes nothing; latest upgrades to the
# repository's newest (rpm ordering: 1.10 > 1.9); removal; a missing
# package fails naming it with dnf's last lines; keel resource output
# converges; manifests/package-ipmi.yaml on a CentOS 6 style root.
# yum is not in Debian: its command lines are unit-tested
# (package_version_test.cc), not run here.
. "$(dirname "$0")/../cli/lib.sh"
has_type package || skip "package not registered"
for t in dnf rpm rpmbuild createrepo_c; do
  command -v $t >/dev/null || skip "no $t here"
done

REPO=$T/repo
mkdir -p "$REPO"
build_rpm() {  # name version release
  local spec=$T/$1-$2-$3.spec
  cat >"$spec" <<S
Name: $1
Version: $2
Release: $3
Summary: keel test
License: MIT
BuildArch: noarch
%description
keel test
%install
mkdir -p %{buildroot}/usr/share/$1
echo $2-$3 > %{buildroot}/usr/share/$1/version
%files
/usr/share/$1/version
S
  rpmbuild -bb --define "_topdir $T/top" --define '__os_install_post %{nil}' "$spec" >/dev/null 2>&1 \
    || fail "rpmbuild $1"
  cp "$T/top/RPMS/noarch/$1-$2-$3.noarch.rpm" "$REPO/"
}
build_rpm keel-a 1.9 1
build_rpm keel-b 1.0 1
build_rpm OpenIPMI 2.0.16 14.el6
build_rpm ipmitool 1.8.11 30.el6
build_rpm rng-tools 5 4.el6
createrepo_c -q "$REPO" || fail createrepo_c

host_logs() { cat /var/log/dnf.log /var/log/dnf.rpm.log /var/log/hawkey.log 2>/dev/null | sha256sum; }
host_logs_before=$(host_logs)
rpmq() { rpm --root="$1" --dbpath=/var/lib/rpm -q --qf '%{VERSION}-%{RELEASE}\n' "$2"; }

R=$T/root
mkdir -p "$R"   # empty: no /etc, no database
cat >"$T/site.yaml" <<Y
resources:
  - file: /etc
    ensure: directory
  - file: /etc/yum.repos.d
    ensure: directory
  - file: /etc/yum.repos.d/keel-local.repo
    content: |
      [keel-local]
      name=keel local
      baseurl=file://$REPO
      gpgcheck=0
      metadata_expire=0
  - package: keel-a
    provider: dnf
    install_options: ["--releasever=9"]
    require: file[/etc/yum.repos.d/keel-local.repo]
  - package: keel-b
    ensure: 1.0-1
    provider: dnf
    install_options: ["--releasever=9"]
    require: file[/etc/yum.repos.d/keel-local.repo]
Y
before=$(tree_sum "$R")
assert_exit 2 "$KEEL" plan "$T/site.yaml" --root "$R" --detailed-exitcodes
assert_eq "$before" "$(tree_sum "$R")" "tree after plan"
assert_contains "$OUT" "+ package[keel-a] (would create)"
assert_contains "$OUT" "changed 5, failed 0"

assert_exit 2 "$KEEL" apply "$T/site.yaml" --root "$R" --state-dir "$T/state" --detailed-exitcodes \
  --report "$T/r1.json"
assert_contains "$OUT" "changed 5, failed 0"
assert_contains "$OUT" "installed by one dnf call for 2 packages (1 package-manager call this run)"
assert_eq "1.9-1" "$(rpmq "$R" keel-a)" "rpm -q keel-a"
assert_eq "1.0-1" "$(rpmq "$R" keel-b)" "rpm -q keel-b"
[ -f "$R/var/lib/rpm/rpmdb.sqlite" ] || [ -f "$R/var/lib/rpm/Packages" ] || fail "no rpmdb in /var/lib/rpm"
[ ! -e "$R/root/.rpmdb" ] || fail "Debian's ~/.rpmdb used inside the root"
ls "$R"/var/log/dnf*.log >/dev/null 2>&1 || fail "dnf did not log into the root"
assert_eq "$host_logs_before" "$(host_logs)" "host's dnf logs"

after=$(tree_sum "$R")
assert_exit 0 "$KEEL" apply "$T/site.yaml" --root "$R" --state-dir "$T/state" --detailed-exitcodes
assert_contains "$OUT" "changed 0, failed 0"
assert_eq "$after" "$(tree_sum "$R")" "tree after second apply"

# keel resource: the state, applied, changes nothing.
assert_exit 0 "$KEEL" resource package keel-a --root "$R"
assert_contains "$OUT" "0:1.9-1"
printf 'resources:\n%s\n' "$(echo "$OUT" | sed 's/provider: auto/provider: dnf/')" >"$T/res.yaml"
assert_exit 0 "$KEEL" apply "$T/res.yaml" --root "$R" --state-dir "$T/state" --detailed-exitcodes

# latest: a newer build lands in the repository; 1.10 > 1.9 (rpm's order).
build_rpm keel-a 1.10 1
createrepo_c -q --update "$REPO" || fail createrepo_c
cat >"$T/latest.yaml" <<Y
resources:
  - package: keel-a
    ensure: latest
    provider: dnf
    install_options: ["--releasever=9"]
  - package: keel-b
    ensure: absent
    provider: dnf
    install_options: ["--releasever=9"]
Y
before=$(tree_sum "$R")
assert_exit 2 "$KEEL" plan "$T/latest.yaml" --root "$R" --detailed-exitcodes
assert_eq "$before" "$(tree_sum "$R")" "tree after plan (latest)"
assert_contains "$OUT" "ensure: \"0:1.9-1\" -> \"0:1.10-1\""
assert_contains "$OUT" "- package[keel-b] (would remove)"
assert_exit 2 "$KEEL" apply "$T/latest.yaml" --root "$R" --state-dir "$T/state" --detailed-exitcodes
assert_contains "$OUT" "(2 package-manager calls this run)"
assert_eq "1.10-1" "$(rpmq "$R" keel-a)" "keel-a upgraded"
rpm --root="$R" --dbpath=/var/lib/rpm -q keel-b >/dev/null 2>&1 && fail "keel-b still installed"
after=$(tree_sum "$R")
assert_exit 0 "$KEEL" apply "$T/latest.yaml" --root "$R" --state-dir "$T/state" --detailed-exitcodes
assert_eq "$after" "$(tree_sum "$R")" "tree after second apply (latest)"

# A package the repository does not have: named, with dnf's own words.
cat >"$T/missing.yaml" <<Y
resources:
  - package: keel-nope
    provider: dnf
    install_options: ["--releasever=9"]
  - package: keel-b
    provider: dnf
    install_options: ["--releasever=9"]
Y
assert_exit 4 "$KEEL" apply "$T/missing.yaml" --root "$R" --state-dir "$T/state" --detailed-exitcodes
assert_contains "$OUT" "! package[keel-nope]"
assert_contains "$OUT" "installing keel-nope, keel-b with dnf"
assert_contains "$OUT" "keel-nope"
assert_contains "$OUT" "No match for argument: keel-nope"
assert_contains "$OUT" "Unable to find a match: keel-nope"
assert_contains "$OUT" "the one dnf install call for 2 packages failed"

# The seed's packages (manifests/package-ipmi.yaml) on a CentOS 6 style
# root that has its repository configured; dnf stands in for yum.
C=$(mkroot centos)
echo "CentOS release 6.10 (Final)" >"$C/etc/redhat-release"
mkdir -p "$C/etc/yum.repos.d"
printf '[keel-local]\nname=keel local\nbaseurl=file://%s\ngpgcheck=0\n' "$REPO" >"$C/etc/yum.repos.d/local.repo"
before=$(tree_sum "$C")
assert_exit 2 "$KEEL" plan "$KEEL_SRC/manifests/package-ipmi.yaml" --root "$C" --var provider=dnf \
  --detailed-exitcodes
assert_eq "$before" "$(tree_sum "$C")" "tree after plan (ipmi)"
assert_exit 2 "$KEEL" apply "$KEEL_SRC/manifests/package-ipmi.yaml" --root "$C" --var provider=dnf \
  --state-dir "$T/cstate" --detailed-exitcodes
assert_contains "$OUT" "installed by one dnf call for 3 packages"
assert_eq "1.8.11-30.el6" "$(rpmq "$C" ipmitool)" "ipmitool"
assert_eq "5-4.el6" "$(rpmq "$C" rng-tools)" "rng-tools"
assert_exit 0 "$KEEL" apply "$KEEL_SRC/manifests/package-ipmi.yaml" --root "$C" --var provider=dnf \
  --state-dir "$T/cstate" --detailed-exitcodes
echo "package_dnf: ok"
