#!/bin/bash
# Issue 11 items 12 and 7, in the run's own files:
#  - `keel restore PATH` without --at puts back the content from before the
#    last keel run that changed PATH; running it twice does not undo the
#    first restore (the backups restore makes are not picked by default);
#  - a refresh is a change: a run whose only action is an owed refresh, and
#    a plan with an owed refresh pending, exit 2 under --detailed-exitcodes
#    and count it as changed.
. "$(dirname "$0")/lib.sh"
has_type file && has_type exec || skip "file and exec types not registered"

R=$(mkroot)
printf 'v1\n' >"$R/etc/app.conf"
for v in v2 v3; do
  cat >"$T/site.yaml" <<Y
resources:
  - file: /etc/app.conf
    content: "$v\n"
Y
  assert_exit 0 "$KEEL" apply "$T/site.yaml" --root "$R"
done
assert_file_eq "$R/etc/app.conf" "v3
"
# Before the last run that changed it: v2.
assert_exit 0 "$KEEL" restore /etc/app.conf --root "$R"
assert_file_eq "$R/etc/app.conf" "v2
"
# Twice: still v2 (not v3, the backup the first restore made).
assert_exit 0 "$KEEL" restore /etc/app.conf --root "$R"
assert_file_eq "$R/etc/app.conf" "v2
"
# The restore's own backup (v3) stays reachable with --at.
assert_contains "$(cut -f4 "$R/var/lib/keel/backup/index")" "restore"

# A refresh only: exit 2, counted as changed.
cat >"$T/refresh.yaml" <<'Y'
resources:
  - file: /etc/app.conf
    content: "v4\n"
    notify: exec[restart]
  - exec: restart
    command: "echo restart >> $KEEL_ROOT/restarts; exit $(cat $KEEL_ROOT/fail 2>/dev/null || echo 0)"
    refreshonly: true
    chroot: false
Y
echo 1 >"$R/fail"
assert_exit 6 "$KEEL" apply "$T/refresh.yaml" --root "$R" --detailed-exitcodes
rm "$R/fail"
# The plan with the owed refresh pending: a change.
assert_exit 2 "$KEEL" plan "$T/refresh.yaml" --root "$R" --detailed-exitcodes --format json
assert_eq "changed" "$(echo "$OUT" | json_get - 'j["resources"][1]["status"]')" "plan: refresh"
assert_eq 1 "$(echo "$OUT" | json_get - 'j["summary"]["changed"]')" "plan: counted"
# The run whose only action is the owed refresh.
assert_exit 2 "$KEEL" apply "$T/refresh.yaml" --root "$R" --detailed-exitcodes --format json
assert_eq 1 "$(echo "$OUT" | json_get - 'j["summary"]["changed"]')" "refresh counted"
assert_eq "true" "$(echo "$OUT" | json_get - 'j["resources"][1]["refreshed"]')" "refreshed"
assert_eq "unchanged" "$(echo "$OUT" | json_get - 'j["resources"][0]["status"]')" "file unchanged"
# And then nothing.
assert_exit 0 "$KEEL" apply "$T/refresh.yaml" --root "$R" --detailed-exitcodes
assert_file_eq "$R/restarts" "restart
restart
"
echo ok
