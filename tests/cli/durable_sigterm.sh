#!/bin/bash
# SIGTERM / SIGINT (issue 12 item 2), with real processes: the first signal
# stops starting resources and lets the running exec finish; a command that
# outlives --stop-grace has its whole process group killed (a background
# child included: nothing is orphaned); the report and last_run.json say
# "interrupted" and list what never ran; output written to a pipe is not
# lost; the lock is free; the exit status is 128+signal. A second signal
# stops at once.
. "$(dirname "$0")/lib.sh"
has_type file && has_type exec || skip "file and exec types not registered"

R=$(mkroot)
STATE="$R/var/lib/keel"

# Live processes of process group $1 (zombies do not count: they are dead
# and only wait for their parent).
group_alive() {
  local pg=$1 f st
  for f in /proc/[0-9]*/stat; do
    st=$(cat "$f" 2>/dev/null) || continue
    st=${st##*) }
    set -- $st
    [ "$3" = "$pg" ] && [ "$1" != Z ] && return 0
  done
  return 1
}

wait_for() {  # wait_for FILE: up to 10 s
  for _ in $(seq 100); do
    [ -s "$1" ] && return 0
    sleep 0.1
  done
  fail "$1 never appeared"
}

# 1. The running exec finishes; what comes after never runs.
cat >"$T/site.yaml" <<'Y'
resources:
  - exec: slow
    command: "echo start >> $KEEL_ROOT/log; sleep 2; echo end >> $KEEL_ROOT/log"
    chroot: false
  - file: /etc/after
    content: "x\n"
    require: exec[slow]
  - exec: later
    command: "echo later >> $KEEL_ROOT/log"
    chroot: false
Y
# stdout is a pipe (process substitution): nothing written to it is lost.
"$KEEL" apply "$T/site.yaml" --root "$R" --format json 2>"$T/err" > >(cat >"$T/out.json") &
pid=$!
wait_for "$R/log"
kill -TERM "$pid"
wait "$pid"
assert_eq 143 "$?" "exit status after SIGTERM (stdout a pipe)"
for _ in $(seq 50); do python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$T/out.json" 2>/dev/null && break; sleep 0.1; done
assert_eq "start
end" "$(cat "$R/log")" "the running exec finished, nothing else ran"
[ ! -e "$R/etc/after" ] || fail "a resource started after SIGTERM"
assert_contains "$(cat "$T/err")" "SIGTERM"
assert_eq "SIGTERM" "$(json_get "$T/out.json" 'j["interrupted"]["signal"]')" "report: interrupted"
assert_eq '["file[/etc/after]", "exec[later]"]' \
  "$(json_get "$T/out.json" 'j["interrupted"]["never_ran"]')" "never ran"
assert_eq "skipped" "$(json_get "$T/out.json" 'j["resources"][1]["status"]')" "never ran = skipped"
assert_eq "SIGTERM" "$(json_get "$STATE/last_run.json" 'j["interrupted"]["signal"]')" \
  "last_run.json: interrupted"

# The exit status, measured directly (no pipe in between).
rm -f "$R/log"
"$KEEL" apply "$T/site.yaml" --root "$R" >"$T/out.txt" 2>"$T/err" &
pid=$!
wait_for "$R/log"
kill -TERM "$pid"
wait "$pid"
assert_eq 143 "$?" "exit status after SIGTERM"
assert_contains "$(cat "$T/out.txt")" "interrupted by SIGTERM: 2 resource(s) never ran"

# SIGINT: 130.
rm -f "$R/log"
"$KEEL" apply "$T/site.yaml" --root "$R" >"$T/out.txt" 2>"$T/err" &
pid=$!
wait_for "$R/log"
kill -INT "$pid"
wait "$pid"
assert_eq 130 "$?" "exit status after SIGINT"

# The lock is free: a run right after converges everything.
rm -f "$R/log"
assert_exit 0 "$KEEL" apply "$T/site.yaml" --root "$R" --lock-timeout 0
assert_file_eq "$R/etc/after" "x
"

# 2. A command past the grace period: its process group (the shell and its
# background child) is killed, and keel still reports.
cat >"$T/hang.yaml" <<'Y'
resources:
  - exec: hang
    command: "sleep 300 & echo $$ > $KEEL_ROOT/hang.pid; wait"
    chroot: false
Y
rm -f "$R/hang.pid"
start=$(date +%s)
"$KEEL" apply "$T/hang.yaml" --root "$R" --stop-grace 1 --format json >"$T/hang.json" 2>"$T/err" &
pid=$!
wait_for "$R/hang.pid"
pg=$(cat "$R/hang.pid")
group_alive "$pg" || fail "the command's process group is not running"
kill -TERM "$pid"
wait "$pid"
assert_eq 143 "$?" "exit status after SIGTERM with a hanging command"
took=$(($(date +%s) - start))
[ "$took" -lt 20 ] || fail "keel took $took s to stop"
for _ in $(seq 50); do group_alive "$pg" || break; sleep 0.1; done
group_alive "$pg" && fail "process group $pg still has live processes after keel exited"
assert_eq "failed" "$(json_get "$T/hang.json" 'j["resources"][0]["status"]')" "killed exec failed"
assert_contains "$(json_get "$T/hang.json" 'j["resources"][0]["output"]')" "grace period"

# 3. A second signal stops at once (long grace): the group is killed too.
rm -f "$R/hang.pid"
"$KEEL" apply "$T/hang.yaml" --root "$R" --stop-grace 600 >"$T/out.txt" 2>"$T/err" &
pid=$!
wait_for "$R/hang.pid"
pg=$(cat "$R/hang.pid")
kill -TERM "$pid"
sleep 0.5
kill -0 "$pid" 2>/dev/null || fail "keel stopped on the first signal despite the grace period"
kill -TERM "$pid"
wait "$pid"
assert_eq 143 "$?" "exit status after a second SIGTERM"
assert_contains "$(cat "$T/err")" "stopping at once"
for _ in $(seq 50); do group_alive "$pg" || break; sleep 0.1; done
group_alive "$pg" && fail "process group $pg survived the second signal"
# The marker of the run in progress stays (no report was written).
assert_eq "true" "$(json_get "$STATE/last_run.json" 'j["in_progress"]')" "marker left"
# And the next run works (lock released by the kernel).
assert_exit 0 "$KEEL" apply "$T/site.yaml" --root "$R" --lock-timeout 0
echo ok
