#!/bin/bash
# The seed's EC2 image end to end ("Creating a CentOS AMI" with the IPMI,
# rngd and firewall notes): one `keel apply --root` builds a CentOS 6 style
# image from an almost empty tree with the real dnf, rpm and createrepo_c:
#  - packages (centos-release, the rc.d layout, OpenIPMI, ipmitool,
#    rng-tools, firstboot) installed by ONE `dnf --installroot` call from a
#    repository of .rpm files built here with rpmbuild;
#  - rngd enabled as `chkconfig rngd on` makes it (S13 in 2345, K87 in
#    016) and firstboot off as `chkconfig firstboot off` (K95 everywhere):
#    the link sets the real chkconfig 1.33 made (tests/unit/data/service);
#  - the image's fstab, ifcfg-eth0, NETWORKING, xen modprobe aliases,
#    SELinux off (manifests/ec2-centos-image.yaml), and the HTTP firewall
#    rule persisted to /etc/sysconfig/iptables (manifests/firewall-http.yaml);
#  - plan changes no byte; a second apply changes nothing (exit 0 under
#    --detailed-exitcodes, the tree byte-identical); nothing is started.
# The rpm packages carry no scriptlets (no /bin/sh in this image) and the
# root is seeded with /root and /etc/redhat-release only, so facts say RedHat 6 from
# the first run, as the seed's build host does.
. "$(dirname "$0")/../cli/lib.sh"
for t in service package iptables_rule; do has_type $t || skip "$t not registered"; done
for t in dnf rpm rpmbuild createrepo_c; do command -v $t >/dev/null || skip "no $t here"; done
DATA="$KEEL_SRC/tests/unit/data/service"

REPO=$T/repo
mkdir -p "$REPO" "$T/src"
cp "$DATA/rngd.init" "$DATA/firstboot.init" "$T/src/"
# build_rpm NAME VERSION RELEASE INSTALL FILES: a noarch package whose
# %install runs INSTALL (SRC = the test's source files) and owns FILES.
build_rpm() {
  local spec=$T/$1.spec
  cat >"$spec" <<S
Name: $1
Version: $2
Release: $3
Summary: keel seed image test
License: MIT
BuildArch: noarch
AutoReqProv: no
%description
keel seed image test
%install
B=%{buildroot}; SRC=$T/src
mkdir -p \$B
$4
%files
$5
S
  rpmbuild -bb --define "_topdir $T/top" --define '__os_install_post %{nil}' "$spec" \
    >"$T/rpmbuild.log" 2>&1 || { cat "$T/rpmbuild.log"; fail "rpmbuild $1"; }
  cp "$T/top/RPMS/noarch/$1-$2-$3.noarch.rpm" "$REPO/"
}
build_rpm centos-release 6 10.el6 \
  'mkdir -p $B/etc; echo "CentOS release 6.10 (Final)" >$B/etc/redhat-release' \
  '/etc/redhat-release'
layout='mkdir -p $B/etc/rc.d/init.d; ln -s rc.d/init.d $B/etc/init.d
for l in 0 1 2 3 4 5 6; do mkdir -p $B/etc/rc.d/rc$l.d; ln -s rc.d/rc$l.d $B/etc/rc$l.d; done'
build_rpm chkconfig 1.3.49.5 1.el6 "$layout" \
  '/etc/rc.d
/etc/init.d
/etc/rc0.d
/etc/rc1.d
/etc/rc2.d
/etc/rc3.d
/etc/rc4.d
/etc/rc5.d
/etc/rc6.d'
# The packages' %post would run `chkconfig --add` (no /bin/sh in this image):
# they carry the links it leaves instead, as recorded from the real chkconfig.
addlinks() {  # NAME: shell lines making NAME's `chkconfig --add` links under $B
  sed 's|^\([0-6]\):\([^-]*\)->\(.*\)$|mkdir -p $B/etc/rc.d/rc\1.d; ln -s \3 $B/etc/rc.d/rc\1.d/\2|' \
    "$DATA/chkconfig-1.33/$1-add"
}
addfiles() { sed 's|^\([0-6]\):\([^-]*\)->.*$|/etc/rc.d/rc\1.d/\2|' "$DATA/chkconfig-1.33/$1-add"; }
build_rpm rng-tools 5 4.el6 \
  "mkdir -p \$B/etc/rc.d/init.d; install -m0755 \$SRC/rngd.init \$B/etc/rc.d/init.d/rngd
$(addlinks rngd)" \
  "/etc/rc.d/init.d/rngd
$(addfiles rngd)"
build_rpm firstboot 1.110.15 4.el6 \
  "mkdir -p \$B/etc/rc.d/init.d; install -m0755 \$SRC/firstboot.init \$B/etc/rc.d/init.d/firstboot
$(addlinks firstboot)" \
  "/etc/rc.d/init.d/firstboot
$(addfiles firstboot)"
for p in OpenIPMI ipmitool; do
  build_rpm $p 2.0 1.el6 "mkdir -p \$B/usr/share/$p; echo $p >\$B/usr/share/$p/README" \
    "/usr/share/$p/README"
done
createrepo_c -q "$REPO" || fail createrepo_c

R=$T/ami
mkdir -p "$R/etc" "$R/root"
echo "CentOS release 6.10 (Final)" >"$R/etc/redhat-release"

# The config repo: the ready manifests plus the image's packages and
# services, as an administrator would write site.yaml.
C=$T/cfg
mkdir -p "$C"
cp "$KEEL_SRC/manifests/ec2-centos-image.yaml" "$KEEL_SRC/manifests/firewall-http.yaml" \
  "$KEEL_SRC/manifests/service-firstboot-off.yaml" "$C/"
cat >"$C/site.yaml" <<Y
include:
  - ec2-centos-image.yaml
  - firewall-http.yaml
  - service-firstboot-off.yaml
resources:
  - file: /etc/yum.repos.d
    ensure: directory
  - file: /etc/yum.repos.d/image.repo
    content: |
      [image]
      name=image packages
      baseurl=file://$REPO
      gpgcheck=0
      metadata_expire=0
  - package: centos-release
    provider: dnf
    install_options: ["--releasever=6"]
    require: file[/etc/yum.repos.d/image.repo]
  - package: chkconfig
    provider: dnf
    install_options: ["--releasever=6"]
    require: file[/etc/yum.repos.d/image.repo]
  - package: OpenIPMI
    provider: dnf
    install_options: ["--releasever=6"]
    require: file[/etc/yum.repos.d/image.repo]
  - package: ipmitool
    provider: dnf
    install_options: ["--releasever=6"]
    require: file[/etc/yum.repos.d/image.repo]
  - package: rng-tools
    provider: dnf
    install_options: ["--releasever=6"]
    require: file[/etc/yum.repos.d/image.repo]
  - package: firstboot
    provider: dnf
    install_options: ["--releasever=6"]
    require: file[/etc/yum.repos.d/image.repo]
  - service: rngd
    ensure: running
    enable: true
    require:
      - package[rng-tools]
      - package[chkconfig]
Y
# firstboot's service resource requires package[firstboot] by name; all
# packages are flushed in one call before the first service runs.

before=$(tree_sum "$R")
assert_exit 2 "$KEEL" plan "$C/site.yaml" --root "$R" --detailed-exitcodes
assert_eq "$before" "$(tree_sum "$R")" "tree after plan"
assert_contains "$OUT" "package[rng-tools]"

assert_exit 2 "$KEEL" apply "$C/site.yaml" --root "$R" --state-dir "$T/state" --detailed-exitcodes \
  --report "$T/r1.json"
assert_contains "$OUT" "failed 0"
assert_contains "$OUT" "installed by one dnf call for 6 packages (1 package-manager call this run)"
rpmq() { rpm --root="$R" --dbpath=/var/lib/rpm -q --qf '%{NAME}-%{VERSION}\n' "$@"; }
assert_eq "$(printf 'rng-tools-5\nfirstboot-1.110.15\nOpenIPMI-2.0\nipmitool-2.0')" \
  "$(rpmq rng-tools firstboot OpenIPMI ipmitool)" "rpm -q in the image"

links() {  # "level:entry->target" of NAME's rc links, as the chkconfig recordings
  local n=$1 l f
  for l in 0 1 2 3 4 5 6; do
    for f in "$R/etc/rc.d/rc$l.d/"[SK][0-9][0-9]"$n"; do
      [ -L "$f" ] && echo "$l:${f##*/}->$(readlink "$f")"
    done
  done
}
assert_eq "$(cat "$DATA/chkconfig-1.33/rngd-on")" "$(links rngd)" "rngd links (chkconfig rngd on)"
assert_eq "$(cat "$DATA/chkconfig-1.33/firstboot-off")" "$(links firstboot)" \
  "firstboot links (chkconfig firstboot off)"
[ ! -e "$R/var/run/rngd.pid" ] || fail "rngd was started in an image"
pgrep -f "$R" >/dev/null && fail "a process runs from the image"

grep -qE '^/dev/sda1[[:space:]]+/[[:space:]]+ext3' "$R/etc/fstab" || fail "fstab: $(cat "$R/etc/fstab")"
(set -e; . "$R/etc/sysconfig/network-scripts/ifcfg-eth0"; [ "$BOOTPROTO" = dhcp ] && [ "$DEVICE" = eth0 ]) \
  || fail "ifcfg-eth0 does not source: $(cat "$R/etc/sysconfig/network-scripts/ifcfg-eth0")"
grep -qx 'SELINUX=disabled' "$R/etc/selinux/config" || fail "selinux config"
grep -q 'alias eth0 xennet' "$R/etc/modprobe.conf" || fail "modprobe.conf: $(cat "$R/etc/modprobe.conf")"
ipt=$R/etc/sysconfig/iptables
[ -f "$ipt" ] || fail "no persisted firewall"
http=$(grep -n -- '--dport 80 ' "$ipt" | cut -d: -f1)
reject=$(grep -n -- '-j REJECT --reject-with icmp-host-prohibited' "$ipt" | cut -d: -f1)
[ -n "$http" ] && [ -n "$reject" ] && [ "$http" -lt "$reject" ] || fail "http rule not before REJECT: $(cat "$ipt")"
grep -- '--dport 80 ' "$ipt" | grep -c -- 'state' >/dev/null && fail "http rule depends on connection state"

after=$(tree_sum "$R")
assert_exit 0 "$KEEL" apply "$C/site.yaml" --root "$R" --state-dir "$T/state" --detailed-exitcodes
assert_contains "$OUT" "changed 0, failed 0"
assert_eq "$after" "$(tree_sum "$R")" "tree after second apply"
assert_exit 0 "$KEEL" plan "$C/site.yaml" --root "$R" --detailed-exitcodes
echo "ok: seed image end to end"
