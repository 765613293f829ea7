#!/usr/bin/env bash
# audit_rule's live half with the real kernel: keel writes a rules file in a
# temp dir and loads it with the real `auditctl -R`; `auditctl -l` then lists
# the rules (in its own form); a second run changes nothing; after the
# rules are deleted behind keel's back (drift), the next run warns and
# reloads. Runs only when the kernel lets us control audit and no rules are
# loaded (then `auditctl -D` at exit restores exactly that); else skips.
set -euo pipefail
KEEL=${KEEL:?}
[ "$(id -u)" = 0 ] || { echo "skip: needs root"; exit 77; }
command -v auditctl >/dev/null || { echo "skip: no auditctl (apt-get install auditd)"; exit 77; }
status=$(auditctl -s 2>&1) || { echo "skip: the kernel refuses auditctl -s: $status"; exit 77; }
case "$status" in *"enabled 2"*) echo "skip: audit rules are immutable here"; exit 77 ;; esac
[ "$(auditctl -l 2>&1)" = "No rules" ] || { echo "skip: audit rules are loaded on this host; not touching them"; exit 77; }
t=$(mktemp -d /tmp/keel-audit-XXXXXX)
trap 'auditctl -D >/dev/null 2>&1 || true; rm -rf "$t"' EXIT
mkdir -p "$t/home/.cache"
# Probe: can this kernel take a rule at all (containers lack CAP_AUDIT_CONTROL)?
if ! out=$(auditctl -w "$t/home" -p wa -k keel-probe 2>&1); then
  echo "skip: the kernel refuses audit rules: $out"; exit 77
fi
auditctl -D >/dev/null
cat >"$t/site.yaml" <<YAML
resources:
  - audit_rule: delete-all
    rule: -D
    order: 0
    file: $t/keel.rules
  - audit_rule: home-watch
    rule: -w $t/home/ -p wa -k keeltest
    file: $t/keel.rules
  - audit_rule: home-cache-excluded
    rule: -a exit,never -F dir=$t/home/.cache/
    order: 10
    file: $t/keel.rules
YAML
"$KEEL" plan "$t/site.yaml" --state-dir "$t/state" >"$t/plan.txt"
[ "$(auditctl -l)" = "No rules" ] || { echo "FAIL: plan loaded rules"; exit 1; }
[ ! -e "$t/keel.rules" ] || { echo "FAIL: plan wrote the file"; exit 1; }
"$KEEL" apply "$t/site.yaml" --state-dir "$t/state" >"$t/apply.txt" 2>&1 || { cat "$t/apply.txt"; echo "FAIL: apply"; exit 1; }
want="-a never,exit -S all -F dir=$t/home/.cache/
-w $t/home -p wa -k keeltest"
got=$(auditctl -l)
[ "$got" = "$want" ] || { echo "FAIL: auditctl -l after apply:"; echo "$got"; exit 1; }
rc=0; "$KEEL" apply "$t/site.yaml" --state-dir "$t/state" --detailed-exitcodes >"$t/second.txt" 2>&1 || rc=$?
[ "$rc" = 0 ] || { cat "$t/second.txt"; echo "FAIL: second apply exit $rc, want 0 (loaded rules compared as equal)"; exit 1; }
# Drift: someone deletes the rules; keel warns and reloads.
auditctl -D >/dev/null
rc=0; "$KEEL" apply "$t/site.yaml" --state-dir "$t/state" --detailed-exitcodes >"$t/drift.txt" 2>&1 || rc=$?
[ "$rc" = 2 ] || { cat "$t/drift.txt"; echo "FAIL: drift apply exit $rc, want 2"; exit 1; }
grep -q "differ from the rules files" "$t/drift.txt" || { cat "$t/drift.txt"; echo "FAIL: no drift warning"; exit 1; }
[ "$(auditctl -l)" = "$want" ] || { echo "FAIL: drift not repaired"; auditctl -l; exit 1; }
rc=0; "$KEEL" apply "$t/site.yaml" --state-dir "$t/state" --detailed-exitcodes >/dev/null 2>&1 || rc=$?
[ "$rc" = 0 ] || { echo "FAIL: apply after repair exit $rc"; exit 1; }
echo "PASS audit_live"
