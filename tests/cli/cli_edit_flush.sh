#!/bin/bash
# Editing types stage their edits and write in Flush: a resource that
# requires them runs after the flush and sees the file written; a plan's
# second diff on one file starts from the first's result; foreign lines stay.
. "$(dirname "$0")/lib.sh"
has_type line && has_type shellvar && has_type exec || skip "line/shellvar/exec not registered"

R=$(mkroot)
printf '# keep me\nA=1\n' >"$R/etc/conf"
cat >"$T/site.yaml" <<'Y'
resources:
  - line: add-b
    path: /etc/conf
    line: "B=2"
  - shellvar: /etc/conf:A
    value: "5"
  - exec: copy
    command: "cp $KEEL_ROOT/etc/conf $KEEL_ROOT/tmp/copy"
    creates: /tmp/copy
    chroot: false
    require:
      - line[add-b]
      - shellvar[/etc/conf:A]
Y
before=$(tree_sum "$R")
assert_exit 2 "$KEEL" plan "$T/site.yaml" --root "$R" --detailed-exitcodes
assert_eq "$before" "$(tree_sum "$R")" "tree after plan"
# The shellvar diff is computed on the line resource's planned result.
assert_contains "$OUT" " A=1
    +B=2"
assert_contains "$OUT" "-A=1
    +A=5
     B=2"
assert_exit 2 "$KEEL" apply "$T/site.yaml" --root "$R" --detailed-exitcodes
assert_file_eq "$R/etc/conf" "# keep me
A=5
B=2
"
assert_file_eq "$R/tmp/copy" "# keep me
A=5
B=2
"
assert_exit 0 "$KEEL" apply "$T/site.yaml" --root "$R" --detailed-exitcodes
assert_exit 0 "$KEEL" apply "$T/site.yaml" --root "$R" --detailed-exitcodes --jobs 3
echo ok
