#!/bin/bash
# line, shellvar and ifcfg through the CLI on an image root built from real
# files: the plan shows exact diffs and changes no byte, apply converges,
# bash sourcing the result sees the values, a second apply changes nothing,
# a binary or directory target fails clearly and is left alone.
. "$(dirname "$0")/lib.sh"
has_type line && has_type shellvar && has_type ifcfg || skip "line/shellvar/ifcfg not registered"

DATA="$KEEL_SRC/tests/unit/data/realfiles"
R=$(mkroot)
mkdir -p "$R/etc/selinux" "$R/etc/default" "$R/etc/sysconfig/network-scripts"
cp "$DATA/selinux-config" "$R/etc/selinux/config"
cp "$DATA/default-grub" "$R/etc/default/grub"
cp "$DATA/ifcfg-sit1" "$R/etc/sysconfig/network-scripts/ifcfg-sit1"
cp "$DATA/sysconfig-network" "$R/etc/sysconfig/network"
chmod 0600 "$R/etc/default/grub"

cat >"$T/site.yaml" <<'Y'
resources:
  - shellvar: /etc/selinux/config:SELINUX
    value: disabled
  - shellvar: GRUB_CMDLINE_LINUX
    path: /etc/default/grub
    value: [console=ttyS0, "rd.lvm.lv=centos/root", quiet]
  - shellvar: /etc/sysconfig/network:MOTD
    value: "it's $5 for `tea` \"now\"!"
  - ifcfg: sit1
    settings:
      IPV6ADDR_SECONDARIES: ["2001:db8:1f01:a::1/64", "2001:db8:1f01:a::2/64"]
      ONBOOT: true
      MTU: 1280
  - ifcfg: eth0
    settings:
      BOOTPROTO: dhcp
      ONBOOT: true
  - line: hosts-allow
    path: /etc/hosts.allow
    line: "sshd: 192.0.2."
Y

before=$(tree_sum "$R")
assert_exit 2 "$KEEL" plan "$T/site.yaml" --root "$R" --detailed-exitcodes
assert_eq "$before" "$(tree_sum "$R")" "tree after plan"
assert_contains "$OUT" "shellvar[/etc/selinux/config:SELINUX]"
assert_contains "$OUT" "-SELINUX=enforcing"
assert_contains "$OUT" "+SELINUX=disabled"
assert_contains "$OUT" '+IPV6ADDR_SECONDARIES="2001:db8:1f01:a::1/64 2001:db8:1f01:a::2/64"'
assert_contains "$OUT" "+DEVICE=eth0"
assert_contains "$OUT" "changed 6, failed 0"

assert_exit 2 "$KEEL" apply "$T/site.yaml" --root "$R" --detailed-exitcodes
val() { bash -c 'set -a; source "$0" >/dev/null 2>&1; printf %s "${'"$2"'}"' "$1"; }
assert_eq "disabled" "$(val "$R/etc/selinux/config" SELINUX)"
assert_eq "targeted" "$(val "$R/etc/selinux/config" SELINUXTYPE)"
assert_eq "console=ttyS0 rd.lvm.lv=centos/root quiet" "$(val "$R/etc/default/grub" GRUB_CMDLINE_LINUX)"
assert_eq 'it'"'"'s $5 for `tea` "now"!' "$(val "$R/etc/sysconfig/network" MOTD)"
assert_eq "2001:db8:1f01:a::1/64 2001:db8:1f01:a::2/64" \
  "$(val "$R/etc/sysconfig/network-scripts/ifcfg-sit1" IPV6ADDR_SECONDARIES)"
assert_file_eq "$R/etc/sysconfig/network-scripts/ifcfg-eth0" "DEVICE=eth0
BOOTPROTO=dhcp
ONBOOT=yes
"
assert_file_eq "$R/etc/hosts.allow" "sshd: 192.0.2.
"
# Unmanaged bytes kept: the selinux file differs from the original in one line only.
changed_lines=$(diff "$DATA/selinux-config" "$R/etc/selinux/config" | grep -c '^[<>]' || true)
assert_eq 2 "$changed_lines" "lines changed in the selinux config"
[ "$(stat -c %a "$R/etc/default/grub")" = 600 ] || fail "grub mode not kept"
[ "$(stat -c %a "$R/etc/hosts.allow")" = 644 ] || fail "new file not 0644"

after=$(tree_sum "$R")
assert_exit 0 "$KEEL" apply "$T/site.yaml" --root "$R" --state-dir "$T/state" --detailed-exitcodes
assert_contains "$OUT" "changed 0, failed 0"
assert_eq "$after" "$(tree_sum "$R")" "tree after second apply"

# A binary file or a directory as the target: a clear failure, nothing touched.
printf 'ELF\0\0\1' >"$R/etc/binary.conf"
mkdir -p "$R/etc/adir"
cat >"$T/bad.yaml" <<'Y'
resources:
  - shellvar: /etc/binary.conf:K
    value: x
  - line: in-dir
    path: /etc/adir
    line: x
Y
before=$(tree_sum "$R")
assert_exit 4 "$KEEL" apply "$T/bad.yaml" --root "$R" --state-dir "$T/state" --detailed-exitcodes
assert_contains "$OUT$ERR" "/etc/binary.conf looks binary; refusing to edit"
assert_contains "$OUT$ERR" "/etc/adir is a directory, expected a file"
assert_eq "$before" "$(tree_sum "$R")" "tree after failed apply"
echo ok
