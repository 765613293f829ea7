#!/usr/bin/env bash
# Every manifest of manifests/ (and the examples/ repo) on a prepared CentOS 6
# image root: plan changes no byte, apply converges, a second apply changes
# nothing (detailed exit 0), and the result is checked with real readers.
set -euo pipefail
src=${KEEL_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
keel=${KEEL:?KEEL must name the keel binary}
work=$(mktemp -d /tmp/keel-lib-XXXXXX)
trap 'rm -rf "$work"' EXIT

seed_root() {  # $1 = root: a minimal CentOS 6.3 image
  local r=$1
  mkdir -p "$r"/etc/{selinux,sysconfig/network-scripts,modprobe.d} "$r/root"
  echo "CentOS release 6.3 (Final)" >"$r/etc/redhat-release"
  printf 'NETWORKING=no\nHOSTNAME=store01\n' >"$r/etc/sysconfig/network"
  printf '# keep this comment\nSELINUX=enforcing\nSELINUXTYPE=targeted\n' >"$r/etc/selinux/config"
  printf '127.0.0.1 localhost\n' >"$r/etc/hosts"
  printf '# aliases\npostmaster: root\n' >"$r/etc/aliases"
  # rngd and firstboot installed, with the links `chkconfig --add` leaves
  # (service manifests); CentOS keeps rc dirs under /etc/rc.d.
  mkdir -p "$r/etc/rc.d/init.d" && ln -s rc.d/init.d "$r/etc/init.d"
  install -m 0755 "$src/tests/unit/data/service/rngd.init" "$r/etc/rc.d/init.d/rngd"
  install -m 0755 "$src/tests/unit/data/service/firstboot.init" "$r/etc/rc.d/init.d/firstboot"
  local l
  for l in 0 1 2 3 4 5 6; do
    mkdir -p "$r/etc/rc.d/rc$l.d" && ln -s "rc.d/rc$l.d" "$r/etc/rc$l.d"
    ln -s ../init.d/rngd "$r/etc/rc.d/rc$l.d/K87rngd"
    case $l in 3 | 5) ln -s ../init.d/firstboot "$r/etc/rc.d/rc$l.d/S99firstboot" ;;
      *) ln -s ../init.d/firstboot "$r/etc/rc.d/rc$l.d/K95firstboot" ;; esac
  done
}
tree_sum() { (cd "$1" && find . -printf '%p %m %y %s\n' | sort; find . -type f -exec sha256sum {} + | sort) | sha256sum; }

run_case() {  # $1 = manifest path
  local m=$1 name root state rc
  name=$(basename "$m" .yaml)
  root=$work/$name/root; state=$work/$name/state
  seed_root "$root"
  local before; before=$(tree_sum "$root")
  set +e
  "$keel" plan "$m" --root "$root" --state-dir "$state" --detailed-exitcodes >"$work/$name.plan" 2>&1
  rc=$?
  set -e
  [ "$rc" = 2 ] || { cat "$work/$name.plan"; echo "FAIL $name: plan exit $rc, want 2"; exit 1; }
  [ "$(tree_sum "$root")" = "$before" ] || { echo "FAIL $name: plan changed the tree"; exit 1; }
  [ ! -e "$state" ] || { echo "FAIL $name: plan created the state dir"; exit 1; }
  set +e
  "$keel" apply "$m" --root "$root" --state-dir "$state" --detailed-exitcodes >"$work/$name.apply" 2>&1
  rc=$?
  set -e
  [ "$rc" = 2 ] || { cat "$work/$name.apply"; echo "FAIL $name: apply exit $rc, want 2"; exit 1; }
  set +e
  "$keel" apply "$m" --root "$root" --state-dir "$state" --detailed-exitcodes >"$work/$name.again" 2>&1
  rc=$?
  set -e
  [ "$rc" = 0 ] || { cat "$work/$name.again"; echo "FAIL $name: second apply exit $rc, want 0"; exit 1; }
  echo "ok $name"
}

for m in "$src"/manifests/*.yaml; do
  # Package manifests need repositories: their own tests build them.
  if head -1 "$m" | grep -c '^# needs: package repositories' >/dev/null; then
    echo "skip $(basename "$m") (needs package repositories)"
    continue
  fi
  run_case "$m"
done
run_case "$src/examples"

# Real readers on the results.
r=$work/selinux-disabled/root
got=$(bash -c 'source "$1/etc/selinux/config"; printf %s "$SELINUX"' _ "$r")
[ "$got" = disabled ] || { echo "FAIL: SELINUX=$got"; exit 1; }
grep -q '^# keep this comment$' "$r/etc/selinux/config" || { echo "FAIL: comment lost"; exit 1; }

r=$work/ec2-centos-image/root
findmnt --fstab --tab-file "$r/etc/fstab" -n -o TARGET,SOURCE,FSTYPE,OPTIONS /dev/pts \
  | grep -Eq '^/dev/pts +devpts +devpts +gid=5,mode=620$' || { echo "FAIL: fstab /dev/pts"; exit 1; }
got=$(bash -c 'source "$1/etc/sysconfig/network-scripts/ifcfg-eth0"; printf %s "$BOOTPROTO/$ONBOOT"' _ "$r")
[ "$got" = dhcp/yes ] || { echo "FAIL: ifcfg-eth0 gives $got"; exit 1; }
if command -v modprobe >/dev/null; then
  modprobe -c -C "$r/etc/modprobe.conf" | grep -c '^alias eth0 xennet$' >/dev/null || { echo "FAIL: modprobe alias"; exit 1; }
fi
[ "$(stat -c %a "$r/root/.ssh")" = 700 ] || { echo "FAIL: /root/.ssh mode"; exit 1; }

r=$work/ipv6-tunnel/root
got=$(bash -c 'source "$1/etc/sysconfig/network-scripts/ifcfg-sit1"; printf %s "$IPV6ADDR_SECONDARIES"' _ "$r")
[ "$got" = "2001:db8:beef::1/64" ] || { echo "FAIL: sit1 secondaries '$got'"; exit 1; }

r=$work/ipmi-kcs-port/root
if command -v modprobe >/dev/null; then
  modprobe -c -C "$r/etc/modprobe.d" | grep -c '^options ipmi_si type=kcs ports=0xca2$' >/dev/null \
    || { echo "FAIL: ipmi options"; exit 1; }
fi
r=$work/service-rngd/root
[ "$(cd "$r/etc/rc.d" && ls rc?.d/*rngd | tr '\n' ' ')" = "rc0.d/K87rngd rc1.d/K87rngd rc2.d/S13rngd rc3.d/S13rngd rc4.d/S13rngd rc5.d/S13rngd rc6.d/K87rngd " ] \
  || { echo "FAIL: rngd links"; exit 1; }
r=$work/service-firstboot-off/root
[ "$(cd "$r/etc/rc.d" && ls rc?.d/*firstboot | tr '\n' ' ')" = "rc0.d/K95firstboot rc1.d/K95firstboot rc2.d/K95firstboot rc3.d/K95firstboot rc4.d/K95firstboot rc5.d/K95firstboot rc6.d/K95firstboot " ] \
  || { echo "FAIL: firstboot links"; exit 1; }
echo "manifests library: all ok"
