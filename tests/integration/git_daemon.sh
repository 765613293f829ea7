#!/bin/bash
# A fleet host pulling its config over git:// from a real `git daemon` on
# 127.0.0.1: apply --git converges, a new commit is picked up, and when the
# daemon is gone the last good commit is applied with a warning.
. "$(dirname "$0")/../cli/lib.sh"
has_type file || skip "file type not registered"
[ -x /usr/lib/git-core/git-daemon ] || skip "git daemon not installed"

BASE="$T/srv"
mkdir -p "$BASE"
git init -q -b production "$BASE/config.git"
git -C "$BASE/config.git" config user.email t@example.com
git -C "$BASE/config.git" config user.name t
printf 'resources:\n  - file: /etc/motd\n    content: "one\\n"\n' >"$BASE/config.git/site.yaml"
git -C "$BASE/config.git" add site.yaml && git -C "$BASE/config.git" commit -qm one

port=$((20000 + RANDOM % 20000))
git daemon --listen=127.0.0.1 --port="$port" --base-path="$BASE" --export-all --reuseaddr \
  --pid-file="$T/daemon.pid" --detach "$BASE"
for _ in $(seq 50); do
  (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null && break
  sleep 0.1
done
trap 'kill "$(cat "$T/daemon.pid")" 2>/dev/null; rm -rf "$T"' EXIT
URL="git://127.0.0.1:$port/config.git"

R=$(mkroot)
S="$T/state"
assert_exit 0 "$KEEL" apply --git "$URL" --branch production --root "$R" --state-dir "$S" --format json
assert_eq "$URL" "$(echo "$OUT" | json_get - 'j["source"]["git_url"]')" git_url
assert_file_eq "$R/etc/motd" "one
"

printf 'resources:\n  - file: /etc/motd\n    content: "two\\n"\n' >"$BASE/config.git/site.yaml"
git -C "$BASE/config.git" commit -qam two
c2=$(git -C "$BASE/config.git" rev-parse HEAD)
assert_exit 0 "$KEEL" apply --git "$URL" --branch production --root "$R" --state-dir "$S" --format json
assert_eq "$c2" "$(echo "$OUT" | json_get - 'j["source"]["commit"]')" "new commit pulled"
assert_file_eq "$R/etc/motd" "two
"

# The daemon goes away: the last good commit is applied, with a warning.
kill "$(cat "$T/daemon.pid")"
sleep 0.3
echo "local edit" >"$R/etc/motd"
assert_exit 0 "$KEEL" apply --git "$URL" --branch production --root "$R" --state-dir "$S" --format json
assert_eq "$c2" "$(echo "$OUT" | json_get - 'j["source"]["commit"]')" "last good commit"
assert_contains "$(echo "$OUT" | json_get - 'j["warnings"]')" "last good commit"
assert_file_eq "$R/etc/motd" "two
"
echo "git_daemon: ok"
