#!/bin/bash
# Issue 11 item 15: `keel resource TYPE TITLE` prints a manifest that, applied
# to the same tree, changes nothing; types whose state is a property given
# in a manifest (shellvar value, host ip, mount device) are read, not
# refused; exec says it cannot be read; binary or large content is a
# checksum in a comment, never raw bytes.
. "$(dirname "$0")/lib.sh"

R=$(mkroot)
mkdir -p "$R/etc/sysconfig"
printf '# keep\nNETWORKING=yes\nHOSTNAME="store01.example.com"\n' >"$R/etc/sysconfig/network"
printf '127.0.0.1 localhost\n10.0.0.5 db01 db\n' >"$R/etc/hosts"
printf '/dev/sda1 / ext4 defaults 1 1\n/dev/sdb1 /data xfs noatime 0 2\n' >"$R/etc/fstab"
head -c 300000 /dev/urandom >"$R/etc/blob"
printf 'plain text\n' >"$R/etc/motd"

# roundtrip TYPE TITLE: keel resource, then apply its output: nothing changes.
roundtrip() {
  local type=$1 title=$2
  has_type "$type" || return 0
  assert_exit 0 "$KEEL" resource "$type" "$title" --root "$R"
  RES=$OUT
  RES_BYTES=$(wc -c <"$T/.out")
  printf 'resources:\n' >"$T/rt.yaml"
  printf '%s\n' "$RES" | grep -v '^#' | sed 's/^/  /' >>"$T/rt.yaml"
  local sum
  sum=$(tree_sum "$R/etc")
  run "$KEEL" apply "$T/rt.yaml" --root "$R" --detailed-exitcodes
  assert_eq 0 "$RC" "apply of 'keel resource $type $title' output:
$(cat "$T/rt.yaml")
$OUT
$ERR"
  assert_eq "$sum" "$(tree_sum "$R/etc")" "tree after applying 'keel resource $type $title'"
}

roundtrip shellvar /etc/sysconfig/network:HOSTNAME
assert_contains "$RES" "store01.example.com"
roundtrip shellvar /etc/sysconfig/network:MISSING
roundtrip host db01
assert_contains "$RES" "10.0.0.5"
roundtrip mount /data
assert_contains "$RES" "/dev/sdb1"
roundtrip file /etc/motd
assert_contains "$RES" "plain text"

# A binary file: a checksum note, no raw bytes, and the output still applies.
roundtrip file /etc/blob
[ "$RES_BYTES" -lt 2000 ] || fail "keel resource file on a binary file printed $RES_BYTES bytes"
assert_contains "$RES" "# content not shown (300000 bytes, large): sha256:$(sha256sum "$R/etc/blob" | cut -d' ' -f1)"

# Every other type, each on something that exists and something that does
# not: the output applied changes nothing.
mkdir -p "$R/etc/sysctl.d" "$R/etc/modprobe.d" "$R/etc/sysconfig/network-scripts" \
  "$R/etc/audit/rules.d" "$R/boot/grub" "$R/etc/rc.d/init.d" "$R/etc/dir"
printf 'net.ipv4.ip_forward = 1\n' >"$R/etc/sysctl.conf"
printf 'options ipmi_si type=kcs ports=0xca2\n' >"$R/etc/modprobe.d/ipmi.conf"
printf 'DEVICE=eth0\nBOOTPROTO=dhcp\nONBOOT=yes\n' >"$R/etc/sysconfig/network-scripts/ifcfg-eth0"
printf -- '-w /etc/passwd -p wa -k identity\n' >"$R/etc/audit/rules.d/keel.rules"
printf 'default=0\ntimeout=5\ntitle CentOS\n\troot (hd0,0)\n\tkernel /vmlinuz-2.6.32 ro root=/dev/sda1 quiet\n\tinitrd /initramfs-2.6.32.img\n' \
  >"$R/boot/grub/grub.conf"
printf '#!/bin/sh\n# chkconfig: 2345 90 10\n# description: test\nexit 0\n' >"$R/etc/rc.d/init.d/keeltest"
chmod 755 "$R/etc/rc.d/init.d/keeltest"
ln -s rc.d/init.d "$R/etc/init.d"
# Enabled as chkconfig leaves it: S in 2345, K in 016.
for l in 0 1 2 3 4 5 6; do
  mkdir -p "$R/etc/rc.d/rc$l.d"
  case $l in
    [2345]) ln -s ../init.d/keeltest "$R/etc/rc.d/rc$l.d/S90keeltest" ;;
    *) ln -s ../init.d/keeltest "$R/etc/rc.d/rc$l.d/K10keeltest" ;;
  esac
done
ln -s motd "$R/etc/motd-link"
printf 'NAME="CentOS"\nID="centos"\nVERSION_ID="6"\n' >"$R/etc/os-release"
roundtrip sysctl net.ipv4.ip_forward
assert_contains "$RES" "value: \"1\""
assert_contains "$RES" "file: /etc/sysctl.conf"
roundtrip sysctl kernel.not_set_here
roundtrip modprobe ipmi_si
roundtrip modprobe not_configured
roundtrip ifcfg eth0
assert_contains "$RES" "BOOTPROTO"
roundtrip ifcfg eth7
roundtrip kernel_parameter quiet
roundtrip kernel_parameter nomodeset
roundtrip audit_rule identity
roundtrip service keeltest
assert_contains "$RES" "enable: true"
roundtrip line "/etc/motd:plain text"
assert_contains "$RES" "ensure: present"
roundtrip line "/etc/motd:not there"
assert_contains "$RES" "ensure: absent"
roundtrip line "/etc/nofile:x"
roundtrip file /etc/dir
roundtrip file /etc/motd-link
roundtrip file /etc/nothing-here
# The persisted rules of a CentOS root (with none, declaring a chain writes
# the file: the firewall types' choice).
printf '*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n-A INPUT -p tcp -m tcp --dport 22 -m comment --comment "022 ssh" -j ACCEPT\nCOMMIT\n' \
  >"$R/etc/sysconfig/iptables"
roundtrip iptables_chain filter:INPUT
roundtrip iptables_rule "022 ssh"
assert_contains "$RES" "dport"
roundtrip iptables_rule "100 web"
roundtrip package keel-not-installed
roundtrip host not-in-hosts
roundtrip mount /not-mounted
# A type missing from this loop is a test to write.
for t in $("$KEEL" types | awk '{print $1}'); do
  grep -q "^roundtrip $t " "$0" || [ "$t" = exec ] || fail "type $t has no 'keel resource' roundtrip here"
done

# exec: a clear refusal, not 'returns: notrun'.
assert_exit 1 "$KEEL" resource exec foo --root "$R"
assert_contains "$ERR" "an exec cannot be read"
assert_not_contains "$OUT" "notrun"
echo "badinput_resource: ok"
