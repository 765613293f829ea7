#!/bin/bash
# Owed refreshes survive a killed run (SPEC 5): the refresh is on disk as
# soon as its source changed, and the next run delivers it exactly once.
. "$(dirname "$0")/lib.sh"
has_type file && has_type exec || skip "file and exec types not registered"

R=$(mkroot)
STATE="$R/var/lib/keel"
cat >"$T/site.yaml" <<'Y'
resources:
  - file: /etc/app.conf
    content: "new\n"
    notify: exec[restart]
  - exec: slow-step
    command: "sleep 3"
    chroot: false
    require: file[/etc/app.conf]
  - exec: restart
    command: "echo restart >> $KEEL_ROOT/tmp/restarts"
    refreshonly: true
    chroot: false
    require: exec[slow-step]
Y
"$KEEL" apply "$T/site.yaml" --root "$R" >"$T/killed.out" 2>&1 &
pid=$!
for _ in $(seq 50); do
  [ -f "$STATE/owed_refreshes" ] && break
  sleep 0.1
done
sleep 0.3
kill -9 "$pid"
wait "$pid" 2>/dev/null
assert_file_eq "$R/etc/app.conf" "new
"
[ ! -e "$R/tmp/restarts" ] || fail "the refresh ran before the kill"
assert_contains "$(cat "$STATE/owed_refreshes")" "exec[restart]"

# Next run: app.conf is already right, the owed refresh is still delivered.
assert_exit 0 "$KEEL" apply "$T/site.yaml" --root "$R" --format json --lock-timeout 5
assert_eq "unchanged" "$(echo "$OUT" | json_get - 'j["resources"][0]["status"]')" "app.conf unchanged"
assert_eq "true" "$(echo "$OUT" | json_get - 'j["resources"][2]["refreshed"]')" "restart refreshed"
assert_file_eq "$R/tmp/restarts" "restart
"
assert_not_contains "$(cat "$STATE/owed_refreshes" 2>/dev/null)" "exec[restart]"
assert_exit 0 "$KEEL" apply "$T/site.yaml" --root "$R"
assert_file_eq "$R/tmp/restarts" "restart
"
echo ok
