#!/bin/bash
# One run at a time (SPEC 6): a second keel fails at once naming the holder's
# pid, or with --lock-timeout waits for the first to finish.
. "$(dirname "$0")/lib.sh"
has_type file && has_type exec || skip "file and exec types not registered"

R=$(mkroot)
STATE="$T/state"
cat >"$T/slow.yaml" <<'Y'
resources:
  - exec: hold
    command: "sleep 3"
    chroot: false
Y
cat >"$T/quick.yaml" <<'Y'
resources:
  - file: /etc/quick
    content: "quick\n"
Y
"$KEEL" apply "$T/slow.yaml" --root "$R" --state-dir "$STATE" >"$T/slow.out" 2>&1 &
holder=$!
for _ in $(seq 50); do
  [ -s "$STATE/lock" ] && break
  sleep 0.1
done
[ -s "$STATE/lock" ] || fail "the first run did not take the lock"
assert_eq "$holder" "$(tr -d '\n' <"$STATE/lock")" "pid in the lock file"

start=$(date +%s.%N)
assert_exit 1 "$KEEL" apply "$T/quick.yaml" --root "$R" --state-dir "$STATE"
took=$(echo "$(date +%s.%N) - $start" | bc)
assert_contains "$ERR$OUT" "another keel run holds the lock $STATE/lock (pid $holder)"
[ "$(echo "$took < 1.5" | bc)" = 1 ] || fail "the second run did not fail at once ($took s)"
[ ! -e "$R/etc/quick" ] || fail "the refused run changed the tree"

# With a timeout it waits for the holder and then converges.
assert_exit 0 "$KEEL" apply "$T/quick.yaml" --root "$R" --state-dir "$STATE" --lock-timeout 10
assert_file_eq "$R/etc/quick" "quick
"
wait "$holder" || fail "the first run failed: $(cat "$T/slow.out")"
# The holder was done before the waiter changed anything.
kill -0 "$holder" 2>/dev/null && fail "holder still running"

# A lock timeout that is too short fails with the same message.
"$KEEL" apply "$T/slow.yaml" --root "$R" --state-dir "$STATE" >"$T/slow2.out" 2>&1 &
holder=$!
for _ in $(seq 50); do
  [ -s "$STATE/lock" ] && break
  sleep 0.1
done
assert_exit 1 "$KEEL" apply "$T/quick.yaml" --root "$R" --state-dir "$STATE" --lock-timeout 0.5
assert_contains "$ERR$OUT" "(pid $holder)"
wait "$holder"
echo ok
