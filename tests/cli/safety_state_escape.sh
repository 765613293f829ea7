#!/bin/bash
# The default state dir <root>/var/lib/keel is confined to the root (SPEC 6):
# `var`, `var/lib`, `var/lib/keel`, `var/lib/keel/backup` or
# `var/lib/keel/lock` made a symlink out of the root (absolute or "../.."
# form) never makes `keel apply` or `keel restore` write (or read) outside the
# root. Each case runs with openat2 and with the walk (KEEL_NO_OPENAT2=1).
. "$(dirname "$0")/lib.sh"
has_type file || skip "file type not registered"

cat >"$T/site.yaml" <<'Y'
resources:
  - file: /etc/motd
    content: "managed motd\n"
Y

# listing DIR: every entry under DIR with type, size, link target and content.
listing() {
  (cd "$1" && find . -printf '%p %y %s %l\n' | LC_ALL=C sort && find . -type f -print0 |
    LC_ALL=C sort -z | xargs -0 -r sha256sum)
}

# plant_backup DIR: a backup store in DIR whose index offers /etc/motd with
# the content "from outside" (what a state dir followed out of the root reads).
plant_backup() {
  mkdir -p "$1"
  local sha
  sha=$(printf 'from outside\n' | sha256sum | cut -d' ' -f1)
  printf 'from outside\n' >"$1/$sha"
  printf '2020-01-01T00:00:00.000Z\t/etc/motd\t%s\n' "$sha" >"$1/index"
}

n=0
for walk in "" 1; do
  for link in var var/lib var/lib/keel var/lib/keel/backup var/lib/keel/lock; do
    for form in abs rel; do
      n=$((n + 1))
      case_name="$link ($form${walk:+, walk})"
      D="$T/case$n"
      R="$D/root"
      OUT="$D/out"
      mkdir -p "$R/etc" "$R/tmp" "$OUT"
      printf 'old\n' >"$R/etc/motd"
      # Where the state dir's backup store lands when the link is followed.
      case $link in
        var) plant_backup "$OUT/lib/keel/backup" ;;
        var/lib) plant_backup "$OUT/keel/backup" ;;
        var/lib/keel) plant_backup "$OUT/backup" ;;
        var/lib/keel/backup) plant_backup "$OUT" ;;
        var/lib/keel/lock) ;;
      esac
      parent=$(dirname "$link")
      mkdir -p "$R/$parent"
      target=$OUT
      [ "$link" = var/lib/keel/lock ] && target=$OUT/lock
      if [ "$form" = rel ]; then
        # One ".." per component of the link's path climbs from its
        # directory to $D, the directory holding both the root and $OUT.
        up=$(printf '%s' "$link" | tr -cd / | sed 's#/#../#g')
        target="../$up${target#"$D"/}"
      fi
      ln -s "$target" "$R/$link"
      before=$(listing "$OUT")

      rc=0
      KEEL_NO_OPENAT2=$walk "$KEEL" apply "$T/site.yaml" --root "$R" >"$D/apply.out" 2>&1 || rc=$?
      [ "$before" = "$(listing "$OUT")" ] ||
        fail "$case_name: apply wrote outside the root:
$(listing "$OUT")
$(cat "$D/apply.out")"
      # The state dir cannot be made or used: the run fails saying where,
      # and the managed file is left alone (no backup, no change).
      [ "$rc" != 0 ] || fail "$case_name: apply succeeded: $(cat "$D/apply.out")"
      assert_contains "$(cat "$D/apply.out")" "$R/var/lib/keel" "$case_name: apply output"
      assert_file_eq "$R/etc/motd" "old
"
      rc=0
      KEEL_NO_OPENAT2=$walk "$KEEL" restore /etc/motd --root "$R" >"$D/restore.out" 2>&1 || rc=$?
      [ "$before" = "$(listing "$OUT")" ] ||
        fail "$case_name: restore wrote outside the root: $(cat "$D/restore.out")"
      [ "$rc" != 0 ] || fail "$case_name: restore succeeded: $(cat "$D/restore.out")"
      assert_file_eq "$R/etc/motd" "old
"
      [ -L "$R/$link" ] || fail "$case_name: the link was replaced"
    done
  done
done

# A link that stays inside the root is followed like the kernel would in a
# chroot: absolute targets from the root, ".." clamped at it. (Followed
# naively, both targets name $D/srv/state, outside the root.)
for walk in "" 1; do
  for form in abs rel; do
    D=$(mktemp -d "$T/in.XXXX")
    R="$D/root"
    mkdir -p "$R/etc" "$D/srv/state"
    printf 'old\n' >"$R/etc/motd"
    if [ "$form" = abs ]; then
      inside="$R$D/srv/state"
      ln -s "$D/srv/state" "$R/var"
    else
      inside="$R/srv/state"
      ln -s ../srv/state "$R/var"
    fi
    mkdir -p "$inside"
    assert_exit 0 env KEEL_NO_OPENAT2=$walk "$KEEL" apply "$T/site.yaml" --root "$R"
    assert_file_eq "$R/etc/motd" "managed motd
"
    [ -f "$inside/lib/keel/last_run.json" ] || fail "no last_run.json inside the root ($form)"
    [ -z "$(ls -A "$D/srv/state")" ] || fail "state written outside the root ($form)"
    assert_exit 0 env KEEL_NO_OPENAT2=$walk "$KEEL" restore /etc/motd --root "$R"
    assert_file_eq "$R/etc/motd" "old
"
  done
done

# apply --git checks the config repo out under the state dir: with
# <root>/var a link out of the root, the checkout stays inside the root too.
REPO="$T/cfg.git"
git init -q -b main "$REPO"
git -C "$REPO" config user.email t@example.com
git -C "$REPO" config user.name t
cp "$T/site.yaml" "$REPO/site.yaml"
git -C "$REPO" add site.yaml
git -C "$REPO" commit -q -m one
# The link's target also exists inside the root, where confinement resolves
# it; a plain path would follow it to the host's directory instead.
D="$T/git"
R="$D/root"
mkdir -p "$R/etc" "$D/out" "$R$D/out"
printf 'old\n' >"$R/etc/motd"
ln -s "$D/out" "$R/var"
assert_exit 0 "$KEEL" apply --git "file://$REPO" --branch main --root "$R"
assert_file_eq "$R/etc/motd" "managed motd
"
[ -d "$R$D/out/lib/keel/repo" ] || fail "apply --git: no checkout inside the root"
[ -z "$(ls -A "$D/out")" ] || fail "apply --git wrote outside the root"

# An explicit --state-dir is the caller's choice: its links are followed.
D="$T/explicit"
mkdir -p "$D/root/etc" "$D/real"
printf 'old\n' >"$D/root/etc/motd"
ln -s "$D/real" "$D/state"
assert_exit 0 "$KEEL" apply "$T/site.yaml" --root "$D/root" --state-dir "$D/state"
[ -f "$D/real/last_run.json" ] || fail "--state-dir through a link: no last_run.json"
echo ok
