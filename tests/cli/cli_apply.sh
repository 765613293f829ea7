#!/bin/bash
# apply / plan end to end with real file and exec resources in a temp root:
# honest plan (tree byte-identical, no state dir), idempotence, detailed
# exit codes, JSON report, last_run.json, --report, -v/-q, --tags, --var,
# --noop, the lock.
. "$(dirname "$0")/lib.sh"
has_type file && has_type exec || skip "file and exec types not registered"

R=$(mkroot)
mkdir -p "$T/m"
cat >"$T/m/site.yaml" <<'Y'
vars:
  greeting: hello
resources:
  - file: /etc/motd
    content: "{{ greeting }} from {{ facts.hostname }}\n"
    mode: "0644"
  - file: /etc/app
    ensure: directory
    tags: [app]
  - file: /etc/app/app.conf
    content: "port=8080\n"
    tags: [app]
  - exec: make-marker
    command: "echo made > $KEEL_ROOT/tmp/marker"
    creates: /tmp/marker
    chroot: false
Y
STATE="$R/var/lib/keel"

# plan: shows the diffs, changes no byte, creates no state dir.
before=$(tree_sum "$R")
assert_exit 0 "$KEEL" plan "$T/m" --root "$R"
assert_contains "$OUT" "file[/etc/motd]"
assert_contains "$OUT" "+hello from testhost"
assert_contains "$OUT" "exec[make-marker]"
assert_contains "$OUT" "changed 4, failed 0, skipped 0, unchanged 0"
assert_eq "$before" "$(tree_sum "$R")" "tree after plan"
[ ! -e "$STATE" ] || fail "plan created the state dir"
[ ! -e "$R/var" ] || fail "plan created $R/var"
assert_exit 2 "$KEEL" plan "$T/m" --root "$R" --detailed-exitcodes
# Colour: never on a pipe or with NO_COLOR unless --color always.
assert_not_contains "$OUT" $'\033['
assert_exit 0 "$KEEL" plan "$T/m" --root "$R" --color always
assert_contains "$OUT" $'\033['
assert_exit 0 env -u NO_COLOR "$KEEL" plan "$T/m" --root "$R" --color auto
assert_not_contains "$OUT" $'\033[' "auto colour on a pipe"
assert_exit 0 "$KEEL" apply --noop "$T/m" --root "$R" --format json --report "$T/plan.json"
assert_eq "true" "$(echo "$OUT" | json_get - 'j["noop"]')" "noop in json"
assert_eq "4" "$(echo "$OUT" | json_get - 'j["summary"]["changed"]')" "plan changed count"
assert_eq "4" "$(json_get "$T/plan.json" 'j["summary"]["changed"]')" "--report of a plan"
assert_eq "$before" "$(tree_sum "$R")" "tree after apply --noop"
[ ! -e "$STATE" ] || fail "apply --noop created the state dir"

# apply: exit 2 with --detailed-exitcodes, the changes the plan announced.
assert_exit 2 "$KEEL" apply "$T/m" --root "$R" --detailed-exitcodes --report "$T/r.json"
assert_contains "$OUT" "changed 4, failed 0, skipped 0, unchanged 0"
assert_file_eq "$R/etc/motd" "hello from testhost
"
assert_file_eq "$R/etc/app/app.conf" "port=8080
"
assert_file_eq "$R/tmp/marker" "made
"
assert_eq "$(json_get "$T/plan.json" '[r["id"] for r in j["resources"] if r["status"]=="changed"]')" \
  "$(json_get "$T/r.json" '[r["id"] for r in j["resources"] if r["status"]=="changed"]')" \
  "apply changed exactly what the plan said"

# The JSON report (SPEC 5 fields).
J="$T/r.json"
assert_eq "1" "$(json_get "$J" 'j["report_version"]')" report_version
assert_eq "0.1.0" "$(json_get "$J" 'j["keel_version"]')" keel_version
assert_eq "false" "$(json_get "$J" 'j["noop"]')" noop
assert_eq "$R" "$(json_get "$J" 'j["root"]')" root
assert_eq "$T/m" "$(json_get "$J" 'j["source"]["path"]')" source.path
assert_eq "null" "$(json_get "$J" 'j["source"]["git_url"]')" source.git_url
assert_eq "null" "$(json_get "$J" 'j["source"]["commit"]')" source.commit
json_get "$J" 'j["started_at"]' | grep -Eq '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$' ||
  fail "started_at is not RFC 3339 UTC"
assert_eq "True" "$(json_get "$J" 'str(isinstance(j["duration_s"], (int, float)))')" duration_s
assert_eq '{"total": 4, "changed": 4, "failed": 0, "skipped": 0, "unchanged": 0}' \
  "$(json_get "$J" 'j["summary"]')" summary
assert_eq "false" "$(json_get "$J" 'j["reboot_required"]')" reboot_required
assert_eq "[]" "$(json_get "$J" 'j["warnings"]')" warnings
assert_eq '["file[/etc/motd]", "file[/etc/app]", "file[/etc/app/app.conf]", "exec[make-marker]"]' \
  "$(json_get "$J" '[r["id"] for r in j["resources"]]')" "resources in converge order"
assert_eq '["attribute", "diff", "duration_s", "error", "from", "id", "message", "refreshed", "status", "title", "to", "type"]' \
  "$(json_get "$J" 'sorted(set(j["resources"][0]) - {"changes", "output"} | set(j["resources"][0]["changes"][0]))')" \
  "resource fields"
assert_eq "file" "$(json_get "$J" 'j["resources"][0]["type"]')" type
assert_eq "/etc/motd" "$(json_get "$J" 'j["resources"][0]["title"]')" title
assert_contains "$(json_get "$J" 'j["resources"][0]["diff"]')" "+hello from testhost"

# last_run.json after an apply, same report.
[ -f "$STATE/last_run.json" ] || fail "no last_run.json after apply"
assert_eq "4" "$(json_get "$STATE/last_run.json" 'j["summary"]["changed"]')" "last_run changed"

# Idempotence: a second apply changes nothing; a plan agrees.
after=$(tree_sum "$R")
assert_exit 0 "$KEEL" apply "$T/m" --root "$R" --detailed-exitcodes
assert_contains "$OUT" "changed 0, failed 0, skipped 0, unchanged 4"
assert_exit 0 "$KEEL" plan "$T/m" --root "$R" --detailed-exitcodes
assert_contains "$OUT" "changed 0"
assert_eq "0" "$(json_get "$STATE/last_run.json" 'j["summary"]["changed"]')" "last_run is the latest apply"

# A plan after an apply leaves last_run.json alone.
cp "$STATE/last_run.json" "$T/last.before"
sed -i 's/hello/HELLO/' "$R/etc/motd"
assert_exit 2 "$KEEL" plan "$T/m" --root "$R" --detailed-exitcodes
cmp -s "$STATE/last_run.json" "$T/last.before" || fail "plan rewrote last_run.json"

# -v shows unchanged resources and timings; -q shows only failures.
assert_exit 0 "$KEEL" apply "$T/m" --root "$R" -v
assert_contains "$OUT" "-HELLO from testhost" "-v apply shows diffs"
assert_exit 0 "$KEEL" apply "$T/m" --root "$R" -v
assert_contains "$OUT" "file[/etc/app/app.conf]" "-v lists unchanged"
assert_contains "$OUT" " s)"
assert_exit 0 "$KEEL" apply "$T/m" --root "$R" -q
assert_not_contains "$OUT" "file[/etc/motd]"
assert_exit 0 "$KEEL" apply "$T/m" --root "$R"
assert_not_contains "$OUT" "file[/etc/motd]" "normal output lists no unchanged resource"

# --var wins over vars.
assert_exit 2 "$KEEL" apply "$T/m" --root "$R" --var greeting=bonjour --detailed-exitcodes
assert_file_eq "$R/etc/motd" "bonjour from testhost
"

# --tags: the tagged resources plus what they require, nothing else.
rm -rf "$R/etc/app" "$R/tmp/marker"
printf 'x\n' >"$R/etc/motd"
assert_exit 0 "$KEEL" apply "$T/m" --root "$R" --tags app --format json
assert_eq '["file[/etc/app]", "file[/etc/app/app.conf]"]' \
  "$(echo "$OUT" | json_get - '[r["id"] for r in j["resources"]]')" "--tags selection"
assert_file_eq "$R/etc/motd" "x
"
[ -f "$R/etc/app/app.conf" ] || fail "--tags app did not converge app.conf"
[ ! -e "$R/tmp/marker" ] || fail "--tags app ran the exec"

# --jobs gives the same result as a serial run.
rm -rf "$R/etc/app" "$R/tmp/marker"
assert_exit 2 "$KEEL" apply "$T/m" --root "$R" --jobs 4 --detailed-exitcodes
assert_contains "$OUT" "changed 4, failed 0"
assert_exit 0 "$KEEL" apply "$T/m" --root "$R" --jobs 4 --detailed-exitcodes

# Exit codes: failures only 4, changes and failures 6; 1 without detailed.
cat >"$T/fail.yaml" <<'Y'
resources:
  - exec: broken
    command: "exit 3"
    chroot: false
Y
assert_exit 4 "$KEEL" apply "$T/fail.yaml" --root "$R" --detailed-exitcodes
assert_exit 1 "$KEEL" apply "$T/fail.yaml" --root "$R"
cat >"$T/both.yaml" <<'Y'
resources:
  - exec: broken
    command: "exit 3"
    chroot: false
  - file: /etc/new
    content: "new\n"
Y
assert_exit 6 "$KEEL" apply "$T/both.yaml" --root "$R" --detailed-exitcodes
printf 'resources:\n  - file: relative/path\n' >"$T/invalid.yaml"
before=$(tree_sum "$R")
assert_exit 1 "$KEEL" apply "$T/invalid.yaml" --root "$R" --detailed-exitcodes
assert_contains "$ERR" "$T/invalid.yaml:2:"
assert_eq "$before" "$(tree_sum "$R")" "tree after an invalid manifest"

# The lock: a second run fails at once naming the holder's pid.
flock "$STATE/lock" sleep 2 &
holder=$!
sleep 0.3
assert_exit 1 "$KEEL" apply "$T/m" --root "$R"
assert_contains "$ERR" "another keel run holds the lock"
# A plan takes no lock.
assert_exit 0 "$KEEL" plan "$T/m" --root "$R"
wait "$holder"
assert_exit 0 "$KEEL" apply "$T/m" --root "$R" --lock-timeout 2

# --state-dir elsewhere: the root gets no var/lib/keel.
R2=$(mkroot root2)
assert_exit 0 "$KEEL" apply "$T/m" --root "$R2" --state-dir "$T/state2"
[ -f "$T/state2/last_run.json" ] || fail "no last_run.json in --state-dir"
[ ! -e "$R2/var/lib/keel" ] || fail "state written in the root despite --state-dir"
echo ok
