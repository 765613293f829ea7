#!/usr/bin/env bash
# exec type through the CLI against a --root tree: a plan never runs a
# command, apply runs it once (creates), refreshonly runs on notify, a
# failure shows the last output lines, a timeout fails quickly.
. "$(dirname "$0")/lib.sh"

root=$(mkroot)
state=$T/state

cat >"$T/site.yaml" <<'EOF'
resources:
  - file: /etc/app.conf
    content: "v=1\n"
    notify: exec[reload]
  - exec: build
    command: echo built > "$KEEL_ROOT/built"; echo visible-output
    creates: /built
    chroot: false
  - exec: reload
    command: echo reloaded >> "$KEEL_ROOT/reloads"
    refreshonly: true
    chroot: false
  - exec: guarded
    command: touch "$KEEL_ROOT/never"
    unless: "true"
    chroot: false
EOF

keel() { "$KEEL" "$@" --root "$root" --state-dir "$state"; }

# 1. Plan: nothing runs, nothing changes.
before=$(tree_sum "$root")
assert_exit 2 keel plan "$T/site.yaml" --detailed-exitcodes
assert_eq "$before" "$(tree_sum "$root")" "tree after plan"
assert_contains "$OUT" "exec[build]"
assert_contains "$OUT" "would refresh"
assert_not_contains "$OUT" "exec[guarded]"
[ ! -e "$root/built" ] || fail "plan ran the command"

# 2. Apply: build runs once, reload runs because the file changed.
assert_exit 2 keel apply "$T/site.yaml" --detailed-exitcodes --report "$T/report.json"
assert_file_eq "$root/built" $'built\n'
assert_file_eq "$root/reloads" $'reloaded\n'
[ ! -e "$root/never" ] || fail "unless did not stop exec[guarded]"
assert_contains "$(json_get "$T/report.json" '[r for r in j["resources"] if r["id"] == "exec[build]"][0]["output"]')" "visible-output"

# 3. Again: nothing runs (creates exists, no notify), exit 0.
assert_exit 0 keel apply "$T/site.yaml" --detailed-exitcodes
assert_file_eq "$root/reloads" $'reloaded\n'

# 4. A failing command: exit 4, the last lines of its output in the message.
cat >"$T/fail.yaml" <<'EOF'
resources:
  - exec: breaks
    command: for i in 1 2 3 4 5 6 7 8 9 10 11 12; do echo line$i; done; exit 3
    chroot: false
  - file: /etc/after
    content: "x\n"
    require: exec[breaks]
EOF
assert_exit 4 keel apply "$T/fail.yaml" --detailed-exitcodes
assert_contains "$OUT$ERR" "returned 3 instead of one of [0]"
assert_contains "$OUT$ERR" "line12"
[ ! -e "$root/etc/after" ] || fail "a dependent of a failed exec was applied"

# 5. A timeout kills the command quickly.
cat >"$T/slow.yaml" <<'EOF'
resources:
  - exec: sleep 30
    timeout: 1
    chroot: false
EOF
start=$(date +%s)
assert_exit 4 keel apply "$T/slow.yaml" --detailed-exitcodes
assert_contains "$OUT$ERR" "timed out after 1 s"
[ $(($(date +%s) - start)) -lt 15 ] || fail "the timeout did not stop the command"
echo "ok"
