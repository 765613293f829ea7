#!/usr/bin/env bash
# mount live half for real through the CLI: inside a private mount
# namespace (unshare -m), keel mounts a tmpfs declared with ensure: mounted
# (fstab in a temp dir via `target`), a second apply changes nothing, then
# ensure: unmounted unmounts it. The host's mount table never sees it.
set -euo pipefail
KEEL=${KEEL:?}
[ "$(id -u)" = 0 ] || { echo "skip: needs root"; exit 77; }
unshare -m --propagation private true 2>/dev/null || { echo "skip: no mount namespaces"; exit 77; }
t=$(mktemp -d); trap 'rm -rf "$t"' EXIT
mkdir -p "$t/point"
write() {
  cat >"$t/site.yaml" <<YAML
resources:
  - mount: $t/point
    device: tmpfs
    fstype: tmpfs
    options: size=1m
    ensure: $1
    target: $t/fstab
YAML
}
write mounted
unshare -m --propagation private bash -c '
  set -e
  "$1" apply "$2/site.yaml" --state-dir "$2/state" -q >/dev/null
  [ "$(findmnt -n -o FSTYPE "$2/point")" = tmpfs ] || { echo "FAIL: not mounted"; exit 1; }
  rc=0; "$1" apply "$2/site.yaml" --state-dir "$2/state" --detailed-exitcodes -q >/dev/null || rc=$?
  [ "$rc" = 0 ] || { echo "FAIL: second apply exit $rc"; exit 1; }
  sed -i "s/ensure: mounted/ensure: unmounted/" "$2/site.yaml"
  rc=0; "$1" apply "$2/site.yaml" --state-dir "$2/state" --detailed-exitcodes -q >/dev/null || rc=$?
  [ "$rc" = 2 ] || { echo "FAIL: unmount apply exit $rc"; exit 1; }
  ! findmnt -n "$2/point" >/dev/null || { echo "FAIL: still mounted"; exit 1; }
' _ "$KEEL" "$t"
[ "$(cat "$t/fstab")" = "$(printf 'tmpfs\t%s\ttmpfs\tsize=1m\t0\t0' "$t/point")" ] || { echo "FAIL: fstab: $(cat "$t/fstab")"; exit 1; }
! findmnt -n "$t/point" >/dev/null || { echo "FAIL: visible on the host"; exit 1; }
echo "ok: mount/umount for real in a private mount namespace"
