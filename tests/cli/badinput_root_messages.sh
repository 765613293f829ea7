#!/bin/bash
# Issue 11 item 10: under --root, error messages name paths inside the root
# (the root itself once: the report's root field, and one line of the text
# output), and a plan predicts exactly the failure the apply hits (same
# cause, same words). A battery of failing resources of every type.
. "$(dirname "$0")/lib.sh"

R=$(mkroot)
mkdir -p "$R/etc/adir/inner" "$R/etc/d1" "$R/etc/d2" "$R/etc/d3" "$R/etc/sysconfig/network-scripts" "$R/boot/grub"
printf 'x\n' >"$R/etc/afile"
printf 'a\0b\n' >"$R/etc/bin.conf"
ln -s /nonexist/target "$R/etc/dangling"
ln -s /nonexist/target2 "$R/etc/dangling2"
# An absolute link naming the build machine's path of the root: inside the
# root it is re-rooted, so it dangles there too.
ln -s "$R/outside" "$R/etc/outlink"
printf 'not iptables-save output\n' >"$R/etc/sysconfig/iptables"
printf 'NAME="CentOS"\nID="centos"\nVERSION_ID="6"\n' >"$R/etc/os-release"

cat >"$T/bad.yaml" <<'EOF'
resources:
  - file: /nodir/x
    content: "a\n"
  - file: /etc/outlink/sub
    ensure: directory
  - file: /etc/d1
    content: "x\n"
  - file: /etc/afile/x
    ensure: file
  - file: /etc/owned
    ensure: file
    owner: nosuchuser
  - file: /etc/adir/inner/../../dangling
    ensure: directory
  - line: in-a-dir
    path: /etc/d2
    line: "x"
  - line: binary
    path: /etc/bin.conf
    line: "x"
  - line: through-a-dangling-link
    path: /etc/outlink/f.conf
    line: "x"
  - shellvar: /etc/afile/sub/cfg:KEY
    value: v
  - sysctl: kernel.keel_test
    value: "1"
    file: /etc/d3
  - modprobe: ipmi_si
    options: {type: kcs}
    file: /etc/dangling2
  - host: db01
    ip: 10.0.0.5
    target: /etc/bin.conf
  - mount: /data
    device: /dev/sdb1
    fstype: xfs
    target: /etc/adir
  - ifcfg: eth9
    settings: {ONBOOT: "yes"}
    path: /etc/outlink/ifcfg-eth9
  - kernel_parameter: quiet
    bootloader: grub-legacy
  - audit_rule: watch-passwd
    rule: "-w /etc/passwd -p wa"
    file: /etc/bin.conf
  - service: nosuchservice
    enable: true
    provider: sysvinit
  - iptables_rule: 100 web
    chain: INPUT
    proto: tcp
    dport: 80
    jump: ACCEPT
  - exec: in-a-missing-dir
    command: "true"
    cwd: /nodir
    chroot: false
EOF

# Keep only the resources of types this build has.
for t in $(grep -oE '^  - [a-z_]+:' "$T/bad.yaml" | sed 's/^  - //; s/://' | sort -u); do
  has_type "$t" || fail "type $t is not registered (update this battery)"
done

sum=$(tree_sum "$R")
run "$KEEL" plan "$T/bad.yaml" --root "$R" --report "$T/plan.json"
assert_eq "$sum" "$(tree_sum "$R")" "tree after the plan"
PLAN_OUT=$OUT PLAN_ERR=$ERR
run "$KEEL" apply "$T/bad.yaml" --root "$R" --state-dir "$T/state" --report "$T/apply.json"
APPLY_OUT=$OUT APPLY_ERR=$ERR
[ "$RC" = 1 ] || fail "apply exited $RC"

# Every type failed (exec only in the apply: a plan runs no command).
failed=$(json_get "$T/apply.json" "sorted(set(r['type'] for r in j['resources'] if r['status'] == 'failed'))")
assert_eq '["audit_rule", "exec", "file", "host", "ifcfg", "iptables_rule", "kernel_parameter", "line", "modprobe", "mount", "service", "shellvar", "sysctl"]' \
  "$failed" "types that failed in the apply"
nfailed=$(json_get "$T/apply.json" "len([r for r in j['resources'] if r['status'] == 'failed'])")
assert_eq 20 "$nfailed" "failed resources in the apply"

# No message names the build machine's path of the root; the root is
# named once: the report's root field, one line of the text output.
for f in plan apply; do
  msgs=$(json_get "$T/$f.json" "'\n'.join((r['error'] or '') + '\n' + (r['output'] or '') for r in j['resources']) + '\n'.join(j['errors'] + j['warnings'])")
  assert_not_contains "$msgs" "$R" "$f report messages"
  assert_eq "$R" "$(json_get "$T/$f.json" "j['root']")" "$f report root"
done
for text in "$PLAN_OUT" "$APPLY_OUT"; do
  assert_eq 1 "$(printf '%s\n' "$text" | grep -c -F "$R")" "lines naming the root in:
$text"
  assert_contains "$text" "(paths are inside the root $R)"
done
assert_not_contains "$PLAN_ERR$APPLY_ERR" "$R" "stderr"

# The plan predicts each failure with the apply's words. Not compared: an
# exec (a plan runs no command) and a service whose init script is missing
# (a plan says "would enable once /etc/init.d/X exists": a package of the
# same run may bring it).
json_get "$T/plan.json" "'\n'.join(r['id'] + ' => ' + (r['error'] or r['status']) for r in j['resources'] if r['type'] not in ('exec', 'service'))" >"$T/plan.txt"
json_get "$T/apply.json" "'\n'.join(r['id'] + ' => ' + (r['error'] or r['status']) for r in j['resources'] if r['type'] not in ('exec', 'service'))" >"$T/apply.txt"
diff -u "$T/plan.txt" "$T/apply.txt" >"$T/pa.diff" || fail "plan and apply disagree:
$(cat "$T/pa.diff")"

# Spot checks of the wording (paths inside the root).
A=$(cat "$T/apply.txt")
assert_contains "$A" "file[/nodir/x] => parent directory /nodir does not exist"
assert_contains "$A" "no user 'nosuchuser' in /etc/passwd"
assert_contains "$A" "cannot create directory /etc/outlink: something else exists there"
assert_contains "$(json_get "$T/apply.json" "[r['error'] for r in j['resources'] if r['type'] == 'exec'][0]")" \
  "cannot change directory to /nodir"
echo "badinput_root_messages: ok ($nfailed failing resources)"
