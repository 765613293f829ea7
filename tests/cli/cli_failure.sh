#!/bin/bash
# Failure and skip propagation, refresh once, owed refreshes across runs,
# sensitive redaction, the lock naming a running keel's pid — end to end.
. "$(dirname "$0")/lib.sh"
has_type file && has_type exec || skip "file and exec types not registered"

R=$(mkroot)
STATE="$R/var/lib/keel"

# A failure skips what requires it (directly or not), naming it; the rest converges.
cat >"$T/fail.yaml" <<'Y'
resources:
  - exec: broken
    command: "echo some output; echo oops >&2; exit 3"
    chroot: false
  - file: /etc/needs-broken
    content: "x\n"
    require: exec[broken]
  - file: /etc/needs-needs
    content: "y\n"
    require: file[/etc/needs-broken]
  - file: /etc/independent
    content: "z\n"
Y
assert_exit 1 "$KEEL" apply "$T/fail.yaml" --root "$R" --report "$T/r.json"
assert_contains "$OUT" "! exec[broken]"
assert_contains "$OUT" "? file[/etc/needs-broken]"
assert_contains "$OUT" "skipped: requires exec[broken] which failed"
assert_contains "$OUT" "changed 1, failed 1, skipped 2, unchanged 0"
assert_eq "skipped: requires exec[broken] which failed" \
  "$(json_get "$T/r.json" '[r for r in j["resources"] if r["id"]=="file[/etc/needs-needs]"][0]["error"]')" \
  "indirect skip names the failed resource"
assert_eq "failed" "$(json_get "$T/r.json" 'j["resources"][0]["status"]')" "failed status"
assert_contains "$(json_get "$T/r.json" 'j["resources"][0]["error"]')" "3"
[ ! -e "$R/etc/needs-broken" ] || fail "a skipped resource changed the tree"
assert_file_eq "$R/etc/independent" "z
"

# Refresh: two changed sources, one refresh, after the target converged.
cat >"$T/refresh.yaml" <<'Y'
vars:
  v: "1"
resources:
  - exec: restart-app
    command: "echo restart >> $KEEL_ROOT/tmp/restarts"
    refreshonly: true
    chroot: false
  - file: /etc/a.conf
    content: "a={{ v }}\n"
    notify: exec[restart-app]
  - file: /etc/b.conf
    content: "b={{ v }}\n"
    notify: exec[restart-app]
  - file: /etc/c.conf
    content: "c\n"
    subscribe: file[/etc/a.conf]
Y
assert_exit 0 "$KEEL" apply "$T/refresh.yaml" --root "$R" --format json --report "$T/r.json"
assert_file_eq "$R/tmp/restarts" "restart
"
assert_eq "true" "$(json_get "$T/r.json" '[r for r in j["resources"] if r["id"]=="exec[restart-app]"][0]["refreshed"]')" "refreshed in report"
assert_eq '["file[/etc/a.conf]", "file[/etc/b.conf]", "exec[restart-app]", "file[/etc/c.conf]"]' \
  "$(json_get "$T/r.json" '[r["id"] for r in j["resources"]]')" "target converges after its sources"
# Nothing changed: no refresh.
assert_exit 0 "$KEEL" apply "$T/refresh.yaml" --root "$R"
assert_file_eq "$R/tmp/restarts" "restart
"
# A plan says "would refresh" and runs nothing.
assert_exit 0 "$KEEL" plan "$T/refresh.yaml" --root "$R" --var v=2
assert_contains "$OUT" "exec[restart-app]"
assert_contains "$OUT" "would refresh"
assert_file_eq "$R/tmp/restarts" "restart
"

# Owed refresh: the target is skipped (its requirement fails) while a source
# changed; the refresh is kept in the state dir and delivered by the next
# run although nothing changes then.
cat >"$T/owed.yaml" <<'Y'
vars:
  gate: "exit 1"
  v: "1"
resources:
  - exec: gate
    command: "{{ gate }}"
    chroot: false
  - exec: restart-db
    command: "echo restart >> $KEEL_ROOT/tmp/db-restarts"
    refreshonly: true
    chroot: false
    require: exec[gate]
  - file: /etc/db.conf
    content: "db={{ v }}\n"
    notify: exec[restart-db]
Y
assert_exit 1 "$KEEL" apply "$T/owed.yaml" --root "$R"
assert_contains "$OUT" "? exec[restart-db]"
[ ! -e "$R/tmp/db-restarts" ] || fail "refresh ran although the target was skipped"
assert_contains "$(cat "$STATE/owed_refreshes")" "exec[restart-db]"
# A plan reports the owed refresh but delivers nothing and writes no state.
cp "$STATE/owed_refreshes" "$T/owed.before"
assert_exit 0 "$KEEL" plan "$T/owed.yaml" --root "$R" --var gate=true
assert_contains "$OUT" "would refresh"
cmp -s "$STATE/owed_refreshes" "$T/owed.before" || fail "plan touched owed_refreshes"
# The next real run: db.conf is unchanged, the refresh is delivered once.
assert_exit 0 "$KEEL" apply "$T/owed.yaml" --root "$R" --var gate=true --format json
# The gate exec ran and the owed refresh was delivered: a refresh is a
# change (SPEC 5), so two changed.
assert_eq "2" "$(echo "$OUT" | json_get - 'j["summary"]["changed"]')" "the gate exec and the refresh"
assert_file_eq "$R/tmp/db-restarts" "restart
"
assert_not_contains "$(cat "$STATE/owed_refreshes" 2>/dev/null)" "exec[restart-db]"
assert_exit 0 "$KEEL" apply "$T/owed.yaml" --root "$R" --var gate=true
assert_file_eq "$R/tmp/db-restarts" "restart
"

# Sensitive: no value, no diff in stdout, JSON, last_run.json; a sha256 instead.
cat >"$T/secret.yaml" <<'Y'
resources:
  - file: /etc/secret.conf
    content: "password=s3cr3t-Value\n"
    mode: "0600"
    sensitive: true
Y
printf 'password=old-Secret\n' >"$R/etc/secret.conf"
sha=$(printf 'password=s3cr3t-Value\n' | sha256sum | cut -d' ' -f1)
assert_exit 0 "$KEEL" plan "$T/secret.yaml" --root "$R" -v
assert_not_contains "$OUT" "s3cr3t"
assert_not_contains "$OUT" "old-Secret"
assert_contains "$OUT" "[redacted]"
assert_exit 0 "$KEEL" apply "$T/secret.yaml" --root "$R" -v --report "$T/s.json"
assert_not_contains "$OUT$ERR" "s3cr3t"
assert_not_contains "$OUT$ERR" "old-Secret"
assert_not_contains "$(cat "$T/s.json")" "s3cr3t"
assert_not_contains "$(cat "$T/s.json")" "old-Secret"
assert_not_contains "$(cat "$STATE/last_run.json")" "s3cr3t"
assert_not_contains "$(cat "$STATE/backup/index")" "old-Secret"
assert_eq "null" "$(json_get "$T/s.json" 'j["resources"][0]["diff"]')" "no diff of a sensitive file"
assert_contains "$(json_get "$T/s.json" 'j["resources"][0]["changes"]')" "[redacted] sha256:"
assert_file_eq "$R/etc/secret.conf" "password=s3cr3t-Value
"

# The lock held by a running keel names its pid.
cat >"$T/slow.yaml" <<'Y'
resources:
  - exec: slow
    command: "sleep 2"
    chroot: false
Y
"$KEEL" apply "$T/slow.yaml" --root "$R" >/dev/null 2>&1 &
slow=$!
sleep 0.7
assert_exit 1 "$KEEL" apply "$T/owed.yaml" --root "$R"
assert_contains "$ERR" "(pid $slow)"
wait "$slow" || fail "the slow apply failed"
echo ok
