#!/bin/bash
# audit_rule through the CLI on a seeded image root (Debian-like: rules.d):
# the plan shows the exact diff (foreign lines as '-') and changes no byte,
# apply writes keel's rules in (order, declaration) order, a second apply
# changes nothing; the seed's misordered exclusion warns naming both
# resources; a bad rule is a load error naming the word; a binary or CRLF
# rules file is handled (refused / rewritten); nothing is loaded under --root.
. "$(dirname "$0")/lib.sh"
has_type audit_rule || skip "audit_rule not registered"

R=$(mkroot)
mkdir -p "$R/etc/audit/rules.d"
printf -- '-w /etc/shadow -p wa -k foreign\r\n-b 320\r\n' >"$R/etc/audit/rules.d/keel.rules"
printf -- '-D\n-b 8192\n' >"$R/etc/audit/rules.d/audit.rules"

cat >"$T/site.yaml" <<'Y'
resources:
  - audit_rule: home-watch
    rule: "-w /home/user/   -p wa -k home"
  - audit_rule: home-cache-excluded
    rule: -a exit,never -F dir=/home/user/.cache/
    order: 10
  - audit_rule: buffers
    rule: -b 8192
    order: 0
Y
before=$(tree_sum "$R")
assert_exit 2 "$KEEL" plan "$T/site.yaml" --root "$R" --detailed-exitcodes
assert_eq "$before" "$(tree_sum "$R")" "tree after plan"
assert_contains "$OUT" "audit_rule[home-watch]"
assert_contains "$OUT" "-w /etc/shadow -p wa -k foreign"
assert_contains "$OUT" "+-a exit,never -F dir=/home/user/.cache/"
assert_contains "$OUT" "+# Managed by keel"

assert_exit 2 "$KEEL" apply "$T/site.yaml" --root "$R" --state-dir "$T/state" --detailed-exitcodes
assert_file_eq "$R/etc/audit/rules.d/keel.rules" "# Managed by keel (audit_rule resources): exactly keel's rules, in order.
# Lines added here are removed on the next run.
-b 8192
-a exit,never -F dir=/home/user/.cache/
-w /home/user/ -p wa -k home
"
assert_file_eq "$R/etc/audit/rules.d/audit.rules" "-D
-b 8192
"
after=$(tree_sum "$R")
assert_exit 0 "$KEEL" apply "$T/site.yaml" --root "$R" --state-dir "$T/state" --detailed-exitcodes
assert_eq "$after" "$(tree_sum "$R")" "tree after second apply"

# The seed's mistake: the exclusion after the watch that covers it.
cat >"$T/misordered.yaml" <<'Y'
resources:
  - audit_rule: home-watch
    rule: -w /home/user/ -p wa -k home
  - audit_rule: home-cache-excluded
    rule: -a exit,never -F dir=/home/user/.cache/
Y
run "$KEEL" plan "$T/misordered.yaml" --root "$R"
assert_contains "$OUT$ERR" "audit_rule[home-cache-excluded]: exclusion"
assert_contains "$OUT$ERR" "audit_rule[home-watch]"

# Bad rules are load errors naming the resource and the word; nothing runs.
for bad in "-a always,exit -F arch=b64 -S opne|unknown syscall 'opne'" \
           "-a always,exit -F colour=blue|unknown field in -F colour=blue" \
           "-a exit,sometimes -F dir=/x/|unknown action 'sometimes'" \
           "|the rule is empty"; do
  rule=${bad%%|*} msg=${bad#*|}
  printf 'resources:\n  - audit_rule: bad\n    rule: "%s"\n' "$rule" >"$T/bad.yaml"
  run "$KEEL" plan "$T/bad.yaml" --root "$R"
  [ "$RC" != 0 ] || fail "bad rule [$rule] accepted"
  assert_contains "$OUT$ERR" "audit_rule[bad]"
  assert_contains "$OUT$ERR" "$msg"
done
printf 'resources:\n  - audit_rule: bad\n    rule: "-w /a\\n-w /b"\n' >"$T/bad.yaml"
run "$KEEL" plan "$T/bad.yaml" --root "$R"
[ "$RC" != 0 ] || fail "a rule with a newline was accepted"
assert_contains "$OUT$ERR" "line break"

# A binary rules file: a clear failure, left alone.
printf '\177ELF\0\1' >"$R/etc/audit/rules.d/keel.rules"
bin=$(tree_sum "$R")
run "$KEEL" apply "$T/site.yaml" --root "$R" --state-dir "$T/state"
[ "$RC" != 0 ] || fail "binary rules file accepted"
assert_contains "$OUT$ERR" "/etc/audit/rules.d/keel.rules"
assert_eq "$bin" "$(tree_sum "$R")" "tree after refusing a binary file"

# CentOS 6 root (no augenrules): the default file is /etc/audit/audit.rules.
C=$(mkroot centos6)
mkdir -p "$C/etc/audit"
echo "CentOS release 6.3 (Final)" >"$C/etc/redhat-release"
printf -- '-D\n' >"$C/etc/audit/audit.rules"
assert_exit 2 "$KEEL" apply "$KEEL_SRC/manifests/audit-home-watch.yaml" --root "$C" --state-dir "$T/s6" --detailed-exitcodes
assert_file_eq "$C/etc/audit/audit.rules" "# Managed by keel (audit_rule resources): exactly keel's rules, in order.
# Lines added here are removed on the next run.
-D
-a exit,never -F dir=/home/user/.cache/
-w /home/user/ -p wa -k home
"
[ ! -e "$C/etc/audit/rules.d" ] || fail "rules.d created on a CentOS 6 root"
assert_exit 0 "$KEEL" apply "$KEEL_SRC/manifests/audit-home-watch.yaml" --root "$C" --state-dir "$T/s6" --detailed-exitcodes
echo "PASS audit_rule"
