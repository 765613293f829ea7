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

# exec: a clear refusal, not 'returns: notrun'.
assert_exit 1 "$KEEL" resource exec foo --root "$R"
assert_contains "$ERR" "an exec cannot be read"
assert_not_contains "$OUT" "notrun"
echo "badinput_resource: ok"
