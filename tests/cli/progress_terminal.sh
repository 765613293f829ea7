#!/bin/bash
# Progress on a terminal (issue 10: "long transactions show progress on a
# terminal"): while a command runs for more than a second, keel shows its
# newest output line after the resource's "[i/N] id" on stderr, when stderr
# is a terminal (a real pty from util-linux `script`), and nothing of the
# kind when it is a pipe. The command here is an exec standing in for a
# package transaction (both run through the same subprocess layer; the
# package tests run the real dnf and dpkg without a terminal). It runs
# live (an exec needs a shell; nothing but echo and sleep runs) with its
# state dir under the test's temp dir.
. "$(dirname "$0")/lib.sh"
command -v script >/dev/null || skip "no script(1)"
cat >"$T/site.yaml" <<'Y'
resources:
  - exec: slow transaction
    command: "echo 'Installing : keel-a 1/2'; sleep 1.5; printf 'Installing : keel-b 2/2\r'; sleep 1; echo done"
Y
script -qec "$KEEL apply $T/site.yaml --state-dir $T/state --color never" "$T/tty.log" \
  >/dev/null 2>&1 || true
tty=$(cat "$T/tty.log")
assert_contains "$tty" "[1/1] exec[slow transaction]: sh: Installing : keel-a 1/2"
assert_contains "$tty" "[1/1] exec[slow transaction]: sh: Installing : keel-b 2/2"
assert_contains "$tty" "changed 1, failed 0"

# Not a terminal: no progress lines (the report alone).
assert_exit 0 "$KEEL" apply "$T/site.yaml" --state-dir "$T/state2" --color never
assert_not_contains "$ERR" "Installing"
assert_not_contains "$ERR" "[1/1]"

# A git fetch (keel pull, apply --git) shows its transfer on a terminal.
# KEEL_PROGRESS_DELAY_MS=0 shows it from the start (the default waits a
# second, longer than fetching this small local repository takes).
if command -v git >/dev/null; then
  git init -q -b main "$T/repo"
  for i in $(seq 1 40); do head -c 20000 /dev/urandom | base64 >"$T/repo/f$i"; done
  git -C "$T/repo" add -A
  git -C "$T/repo" -c user.name=t -c user.email=t@t commit -qm one
  script -qec "KEEL_PROGRESS_DELAY_MS=0 $KEEL pull --git file://$T/repo --dest $T/dest" \
    "$T/tty2.log" >/dev/null 2>&1 || true
  tty=$(cat "$T/tty2.log")
  case $tty in
    *"git fetch: received "*" objects, "*" KiB"* | *"git fetch: indexed "*) ;;
    *) fail "no git fetch progress on a terminal: $tty" ;;
  esac
  # A pipe: no progress.
  KEEL_PROGRESS_DELAY_MS=0 assert_exit 0 "$KEEL" pull --git "file://$T/repo" --dest "$T/dest2"
  assert_not_contains "$ERR" "git fetch:"
fi
echo "ok: progress on a terminal"
