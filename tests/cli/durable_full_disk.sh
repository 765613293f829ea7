#!/bin/bash
# A full state dir (issue 12 items 4 and 5), on a real small tmpfs mounted in
# a private mount namespace (unshare -m; the host's mounts are untouched):
#  - a state dir too full for the reserve: the run fails before changing
#    anything, exit 1; once space is freed the next run changes the file and
#    delivers the refresh;
#  - the disk filling up during the run (an exec fills it): the owed refresh
#    and the report are still written (the reserve is released for them);
#  - a last_run.json that can be neither replaced nor removed: the run
#    fails before changing anything (an old report never passes for a new one);
#  - temp files left in the state dir by a killed run are swept.
. "$(dirname "$0")/lib.sh"
has_type file && has_type exec || skip "file and exec types not registered"
[ "$(id -u)" = 0 ] || skip "needs root for unshare -m and mount"
unshare -m true 2>/dev/null || skip "unshare -m not permitted here"

R=$(mkroot)
S="$T/state"
mkdir -p "$S"
export R S T KEEL
unshare -m --propagation private bash -eu -c '
. "$KEEL_SRC/tests/cli/lib.sh"
mount -t tmpfs -o size=512k tmpfs "$S"

cat >"$T/site.yaml" <<Y
resources:
  - file: /etc/app.conf
    content: "new\n"
    notify: exec[restart]
  - exec: restart
    command: "echo restart >> \$KEEL_ROOT/restarts"
    refreshonly: true
    chroot: false
Y
printf "old\n" >"$R/etc/app.conf"

# 1. Full before the run: nothing changes, exit 1, a clear message.
dd if=/dev/zero of="$S/filler" bs=4k 2>/dev/null || true
set +e
"$KEEL" apply "$T/site.yaml" --root "$R" --state-dir "$S" >"$T/out" 2>"$T/err"
rc=$?
set -e
[ "$rc" = 1 ] || fail "full state dir: exit $rc, expected 1: $(cat "$T/err")"
assert_contains "$(cat "$T/err")" "No space left on device"
assert_contains "$(cat "$T/err")" "nothing changed"
assert_file_eq "$R/etc/app.conf" "old
"
[ ! -e "$R/restarts" ] || fail "a refresh ran"

# Space freed: the change and its refresh.
rm -f "$S/filler"
assert_exit 0 "$KEEL" apply "$T/site.yaml" --root "$R" --state-dir "$S"
assert_file_eq "$R/etc/app.conf" "new
"
assert_file_eq "$R/restarts" "restart
"
[ ! -e "$S/.reserve" ] || fail "the reserve was left behind"

# 2. The disk fills during the run: the owed refresh of the failing exec is
# still recorded (and the report written), thanks to the reserve.
cat >"$T/fill.yaml" <<Y
resources:
  - exec: fill
    command: "dd if=/dev/zero of=$S/filler bs=4k 2>/dev/null; true"
    chroot: false
  - file: /etc/app.conf
    content: "newer\n"
    backup: false
    notify: exec[restart]
    require: exec[fill]
  - exec: restart
    command: "exit 1"
    refreshonly: true
    chroot: false
Y
set +e
"$KEEL" apply "$T/fill.yaml" --root "$R" --state-dir "$S" --format json >"$T/fill.json" 2>"$T/err"
rc=$?
set -e
[ "$rc" = 1 ] || fail "filled disk: exit $rc, expected 1: $(cat "$T/err")"
assert_contains "$(cat "$S/owed_refreshes")" "exec[restart]"
assert_eq "failed" "$(json_get "$S/last_run.json" "j[\"resources\"][2][\"status\"]")" "report written"
rm -f "$S/filler"
assert_exit 0 "$KEEL" apply "$T/site.yaml" --root "$R" --state-dir "$S"
assert_file_eq "$R/restarts" "restart
restart
"
[ ! -e "$S/owed_refreshes" ] || fail "still owed: $(cat "$S/owed_refreshes")"

# 3. last_run.json can be neither replaced nor removed: fail before changing.
rm -f "$S/last_run.json"
mkdir -p "$S/last_run.json/x"
printf "old\n" >"$R/etc/app.conf"
set +e
"$KEEL" apply "$T/site.yaml" --root "$R" --state-dir "$S" >"$T/out" 2>"$T/err"
rc=$?
set -e
[ "$rc" = 1 ] || fail "unwritable last_run.json: exit $rc"
assert_contains "$(cat "$T/err")" "last_run.json"
assert_file_eq "$R/etc/app.conf" "old
"
rm -rf "$S/last_run.json"

# 4. Temp files of a killed run are swept by the next run.
mkdir -p "$S/backup"
: >"$S/.keel-owed_refreshes.0123456789ab"
: >"$S/.keel-last_run.json.0123456789ab"
: >"$S/backup/.keel-$(printf %064d 0).0123456789ab"
assert_exit 0 "$KEEL" apply "$T/site.yaml" --root "$R" --state-dir "$S"
left=$(find "$S" -name ".keel-*")
[ -z "$left" ] || fail "temp files not swept: $left"
echo inner-ok
' || fail "the namespaced part failed"
echo ok
