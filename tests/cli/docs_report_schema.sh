#!/bin/bash
# docs/report.schema.json describes the reports keel really writes: the
# reports of an apply (changes, a diff, command output), a second apply, a
# plan, a failure with a skipped dependent, noop and when:false resources,
# an apply --git (source.commit), an interrupted run (SIGTERM) and the
# last_run.json files, plus the in-progress marker last_run.json holds
# during a run, are each validated with python3-jsonschema; the keys come in
# the documented order and the summary adds up.
. "$(dirname "$0")/lib.sh"
python3 -c 'import jsonschema' 2>/dev/null || skip "python3-jsonschema is not installed"
SCHEMA="$KEEL_SRC/docs/report.schema.json"

# check FILE [DEF]: FILE validates against the schema (or its $defs/DEF).
check() {
  python3 - "$SCHEMA" "$1" "${2:-}" <<'PY' || fail "$1 does not match the schema (above)"
import json, sys, jsonschema
schema = json.load(open(sys.argv[1]))
doc = json.load(open(sys.argv[2]))
if sys.argv[3]:
    schema = dict(schema["$defs"][sys.argv[3]], **{"$defs": schema["$defs"]})
v = jsonschema.Draft202012Validator(schema)
errors = sorted(v.iter_errors(doc), key=lambda e: list(e.path))
for e in errors:
    print("%s: %s" % ("/".join(map(str, e.path)), e.message), file=sys.stderr)
if errors:
    sys.exit(1)
if not sys.argv[3]:
    order = [k for k in doc if k in schema["required"]]
    assert order == schema["required"], "key order %s" % order
    s = doc["summary"]
    assert s["total"] == len(doc["resources"]) == s["changed"] + s["failed"] + s["skipped"] + s["unchanged"], s
    for r in doc["resources"]:
        assert list(r)[:11] == schema["$defs"]["resource"]["required"], list(r)
PY
}

# A schema that accepts everything would prove nothing: a broken report fails.
python3 -c 'import json; json.load(open("'"$SCHEMA"'"))' || fail "the schema is not JSON"
echo '{"report_version": 1}' >"$T/bad.json"
if (check "$T/bad.json") 2>/dev/null; then fail "an incomplete report validated"; fi

R=$(mkroot)
cat >"$T/site.yaml" <<'Y'
resources:
  - file: /etc/motd
    content: "hello\n"
  - file: /etc/secret
    content: "s3cret\n"
    sensitive: true
  - exec: greet
    command: "echo hi from exec"
    chroot: false
    creates: /etc/greeted
  - file: /etc/greeted
    content: "yes\n"
    require: exec[greet]
    notify: exec[again]
  - exec: again
    command: "echo refreshed"
    chroot: false
    refreshonly: true
  - file: /etc/quiet
    content: "x\n"
    noop: true
  - file: /etc/never
    content: "x\n"
    when: false
Y
assert_exit 0 "$KEEL" plan "$T/site.yaml" --root "$R" --format json
echo "$OUT" >"$T/plan.json"
check "$T/plan.json"
assert_eq true "$(json_get "$T/plan.json" 'j["noop"]')" "plan noop"

assert_exit 0 "$KEEL" apply "$T/site.yaml" --root "$R" --format json --report "$T/apply-file.json"
echo "$OUT" >"$T/apply.json"
check "$T/apply.json"
check "$T/apply-file.json"
check "$R/var/lib/keel/last_run.json"
assert_eq "hi from exec" "$(json_get "$T/apply.json" '[r for r in j["resources"] if r["id"] == "exec[greet]"][0]["output"].strip()')" "exec output in the report"
assert_eq true "$(json_get "$T/apply.json" '[r for r in j["resources"] if r["id"] == "exec[again]"][0]["refreshed"]')" "refresh in the report"
assert_eq noop "$(json_get "$T/apply.json" '[r for r in j["resources"] if r["id"] == "file[/etc/quiet]"][0]["message"]')" "noop message"

assert_exit 0 "$KEEL" apply "$T/site.yaml" --root "$R" --format json
echo "$OUT" >"$T/again.json"
check "$T/again.json"

# A failure and the resource it skips.
cat >"$T/fail.yaml" <<'Y'
resources:
  - exec: broken
    command: "echo it broke >&2; exit 3"
    chroot: false
  - file: /etc/after-broken
    content: "x\n"
    require: exec[broken]
Y
assert_exit 1 "$KEEL" apply "$T/fail.yaml" --root "$R" --format json
echo "$OUT" >"$T/fail.json"
check "$T/fail.json"
assert_eq '[0, 0, 1, 1]' "$(json_get "$T/fail.json" '[j["summary"][k] for k in ("unchanged", "changed", "failed", "skipped")]')" "failed and skipped"
check "$R/var/lib/keel/last_run.json"

# apply --git: the source names the URL and the 40-hex commit.
if command -v git >/dev/null; then
  mkdir "$T/repo"
  cp "$T/site.yaml" "$T/repo/site.yaml"
  git -C "$T/repo" init -q -b main
  git -C "$T/repo" -c user.name=t -c user.email=t@t add site.yaml
  git -C "$T/repo" -c user.name=t -c user.email=t@t commit -qm one
  R2=$(mkroot git-root)
  assert_exit 0 "$KEEL" apply --git "$T/repo" --branch main --root "$R2" --format json
  echo "$OUT" >"$T/git.json"
  check "$T/git.json"
  assert_eq "$(git -C "$T/repo" rev-parse HEAD)" "$(json_get "$T/git.json" 'j["source"]["commit"]')" "source.commit"
fi

# Interrupted: SIGTERM while an exec runs; meanwhile last_run.json holds
# the in-progress marker.
R3=$(mkroot slow-root)
cat >"$T/slow.yaml" <<'Y'
resources:
  - exec: slow
    command: "touch $KEEL_ROOT/started; sleep 2"
    chroot: false
  - file: /etc/later
    content: "x\n"
Y
"$KEEL" apply "$T/slow.yaml" --root "$R3" --format json >"$T/int.json" 2>"$T/int.err" &
pid=$!
for _ in $(seq 100); do [ -e "$R3/started" ] && break; sleep 0.1; done
[ -e "$R3/started" ] || fail "the slow exec never started"
cp "$R3/var/lib/keel/last_run.json" "$T/marker.json"
kill -TERM "$pid"
rc=0
wait "$pid" || rc=$?
assert_eq 143 "$rc" "exit status after SIGTERM"
check "$T/marker.json" in_progress_marker
check "$T/int.json"
check "$R3/var/lib/keel/last_run.json"
assert_eq SIGTERM "$(json_get "$T/int.json" 'j["interrupted"]["signal"]')" "interrupted.signal"
assert_eq '["file[/etc/later]"]' "$(json_get "$T/int.json" 'j["interrupted"]["never_ran"]')" "never_ran"
echo "ok"
