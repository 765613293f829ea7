#!/bin/bash
# keel restore: replaced content goes to the backup store on apply (never on
# plan); restore puts back the newest backup, or the newest at or before --at.
. "$(dirname "$0")/lib.sh"
has_type file || skip "file type not registered"

R=$(mkroot)
STATE="$R/var/lib/keel"
cat >"$T/site.yaml" <<'Y'
vars:
  v: one
resources:
  - file: /etc/app.conf
    content: "v={{ v }}\n"
Y
printf 'original\n' >"$R/etc/app.conf"
assert_exit 0 "$KEEL" plan "$T/site.yaml" --root "$R" --var v=two
[ ! -e "$STATE" ] || fail "plan wrote backups"

assert_exit 0 "$KEEL" apply "$T/site.yaml" --root "$R"
sleep 1.1
assert_exit 0 "$KEEL" apply "$T/site.yaml" --root "$R" --var v=two
assert_file_eq "$R/etc/app.conf" "v=two
"
[ "$(wc -l <"$STATE/backup/index")" = 2 ] || fail "expected 2 backups: $(cat "$STATE/backup/index")"
first_time=$(head -1 "$STATE/backup/index" | cut -f1)

# Newest backup: "v=one".
assert_exit 0 "$KEEL" restore /etc/app.conf --root "$R"
assert_contains "$OUT" "restored /etc/app.conf"
assert_file_eq "$R/etc/app.conf" "v=one
"
# At the time of the first backup: "original".
assert_exit 0 "$KEEL" restore /etc/app.conf --root "$R" --at "$first_time"
assert_file_eq "$R/etc/app.conf" "original
"
# A prefix (the minute) works too; a time before any backup is an error.
assert_exit 0 "$KEEL" restore /etc/app.conf --root "$R" --at "${first_time:0:16}"
assert_exit 1 "$KEEL" restore /etc/app.conf --root "$R" --at 2000-01-01T00:00
assert_contains "$ERR" "no backup of /etc/app.conf at or before 2000-01-01T00:00"
assert_exit 1 "$KEEL" restore /etc/never --root "$R"
assert_contains "$ERR" "no backup of /etc/never"
assert_exit 1 "$KEEL" restore relative/path --root "$R"
assert_exit 1 "$KEEL" restore /etc/app.conf --root "$R" --at yesterday
assert_contains "$ERR" "--at expects"
echo ok
