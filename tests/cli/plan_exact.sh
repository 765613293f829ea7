#!/bin/bash
# SPEC 5 "a plan is exact": later resources edit files that earlier ones
# create, an exec's `creates` is a file an earlier resource would write; the
# plan must announce exactly the changes and diffs that the apply then makes.
. "$(dirname "$0")/lib.sh"
has_type file && has_type exec && has_type shellvar && has_type line || skip "types missing"

R=$(mkroot)
mkdir -p "$T/m"
cat >"$T/m/site.yaml" <<'Y'
resources:
  - file: /etc/app
    ensure: directory
  - shellvar: /etc/app/app.conf:PORT
    value: "8080"
  - shellvar: /etc/app/app.conf:NAME
    value: my app
  - line: listen-comment
    path: /etc/app/app.conf
    line: "# managed by keel"
    after: "^PORT="
  - file: /etc/app/ready
    content: "yes\n"
  - exec: make-ready
    command: "echo from-exec > $KEEL_ROOT/etc/app/ready"
    creates: /etc/app/ready
    chroot: false
Y
before=$(tree_sum "$R")
assert_exit 0 "$KEEL" plan "$T/m" --root "$R" --format json --report "$T/plan.json"
assert_eq "$before" "$(tree_sum "$R")" "tree after plan"
# The line's diff starts from the shellvars' planned result, not from disk.
assert_contains "$(json_get "$T/plan.json" '[r["diff"] for r in j["resources"] if r["id"]=="line[listen-comment]"][0]')" \
  ' PORT=8080'
# The exec is not reported as running: an earlier resource would create its file.
assert_eq "unchanged" \
  "$(json_get "$T/plan.json" '[r["status"] for r in j["resources"] if r["id"]=="exec[make-ready]"][0]')" \
  "exec whose creates an earlier resource makes"

assert_exit 0 "$KEEL" apply "$T/m" --root "$R" --format json --report "$T/apply.json" -v
# Same resources changed, same attribute changes, same diffs.
q='[(r["id"], r["status"], r["changes"], r["diff"]) for r in j["resources"]]'
assert_eq "$(json_get "$T/plan.json" "$q")" "$(json_get "$T/apply.json" "$q")" \
  "apply changed exactly what the plan said"
assert_file_eq "$R/etc/app/app.conf" 'PORT=8080
# managed by keel
NAME="my app"
'
assert_file_eq "$R/etc/app/ready" 'yes
'
assert_exit 0 "$KEEL" apply "$T/m" --root "$R" --detailed-exitcodes
echo "plan_exact: ok"
