#!/bin/bash
# Hostile user, odd paths (issue 11): for every type with a path attribute,
# the managed path is a directory, a FIFO, a character device (/dev/zero's
# numbers: reading it never ends), a symlink loop, a symlink climbing out of
# the root, a name longer than NAME_MAX, a path longer than PATH_MAX, a name
# with a newline, or has a regular file as its parent. Each run ends (no
# hang), exits as SPEC 5 says (4 = the resource failed, 2 = converged),
# names the path inside the root, plan changes no byte, a converged run is
# idempotent, and no byte outside the root is ever written.
. "$(dirname "$0")/lib.sh"

# edit_of TYPE PATH: one resource (YAML list item) managing PATH.
edit_of() {
  local type=$1 path=$2
  case $type in
    file) printf '  - file: "%s"\n    content: "x=1\\n"\n' "$path" ;;
    line) printf '  - line: pw\n    path: "%s"\n    line: "password=s3cret"\n' "$path" ;;
    shellvar) printf '  - shellvar: "%s:PASSWORD"\n    value: s3cret\n' "$path" ;;
    sysctl) printf '  - sysctl: kernel.keel_test\n    value: "1"\n    apply: false\n    file: "%s"\n' "$path" ;;
    modprobe) printf '  - modprobe: ipmi_si\n    options: {type: kcs}\n    file: "%s"\n' "$path" ;;
    host) printf '  - host: db01\n    ip: 10.0.0.5\n    target: "%s"\n' "$path" ;;
    mount) printf '  - mount: /data\n    device: /dev/sdb1\n    fstype: xfs\n    target: "%s"\n' "$path" ;;
    ifcfg) printf '  - ifcfg: eth9\n    settings: {ONBOOT: "yes"}\n    path: "%s"\n' "$path" ;;
    audit_rule) printf '  - audit_rule: r\n    rule: "-w /etc/x -p wa -k k"\n    file: "%s"\n' "$path" ;;
  esac
}

# A sentinel outside every root: a link climbing out aims at it.
OUTSIDE="$T/outside"
mkdir -p "$OUTSIDE"
out_sum=$(tree_sum "$OUTSIDE")
long_name=$(printf 'a%.0s' $(seq 300))
long_path=/etc/$(python3 -c "print('/'.join(['d' * 200] * 25))")/f

types=""
for type in file line shellvar sysctl modprobe host mount ifcfg audit_rule; do
  has_type "$type" && types="$types $type"
done
n=0
for kind in dir fifo zero loop climb long_name long_path newline parent_file; do
  for type in $types; do
    R=$(mkroot "r-$kind-$type")
    p=/etc/target
    want=4  # the resource fails
    case $kind in
      dir) mkdir "$R/etc/target" ;;
      fifo) mkfifo "$R/etc/target" ;;
      zero) mknod "$R/etc/target" c 1 5 2>/dev/null || continue ;;
      loop) ln -s loop2 "$R/etc/target" && ln -s target "$R/etc/loop2" ;;
      climb) ln -s "../../../../../../../../../../..$OUTSIDE/target" "$R/etc/target" ;;
      long_name) p=/etc/$long_name ;;
      long_path) p=$long_path ;;
      newline) p='/etc/new\nline' want=2 ;;
      parent_file) echo x >"$R/etc/pf" && p=/etc/pf/target ;;
    esac
    # A file replaces a FIFO or a device at its path (as Puppet does).
    if [ "$type" = file ] && { [ "$kind" = fifo ] || [ "$kind" = zero ]; }; then want=2; fi
    m="$T/m-$kind-$type.yaml"
    { echo resources:; edit_of "$type" "$p"; } >"$m"
    n=$((n + 1))
    sum=$(tree_sum "$R")
    run_limited 30 "$KEEL" plan "$m" --root "$R" --detailed-exitcodes
    assert_eq "$want" "$RC" "$kind/$type: plan exit
$OUT
$ERR"
    assert_eq "$sum" "$(tree_sum "$R")" "$kind/$type: tree after plan"
    run_limited 30 "$KEEL" apply "$m" --root "$R" --detailed-exitcodes
    assert_eq "$want" "$RC" "$kind/$type: apply exit
$OUT
$ERR"
    [ "$want" = 2 ] || assert_contains "$OUT" "(paths are inside the root $R)" "$kind/$type: apply output"
    if [ "$want" = 2 ]; then
      run_limited 30 "$KEEL" apply "$m" --root "$R" --detailed-exitcodes
      assert_eq 0 "$RC" "$kind/$type: second apply
$OUT"
    fi
    case $kind in
      zero) [ -c "$R/etc/target" ] || [ "$type" = file ] || fail "$kind/$type: the device was replaced" ;;
      fifo) [ -p "$R/etc/target" ] || [ "$type" = file ] || fail "$kind/$type: the FIFO was replaced" ;;
      loop | climb) [ -L "$R/etc/target" ] || fail "$kind/$type: the link was replaced" ;;
    esac
  done
done
assert_eq "$out_sum" "$(tree_sum "$OUTSIDE")" "the tree outside the roots"

# A NUL byte in a path (YAML "\0") never truncates it: a load error.
R=$(mkroot nul)
sum=$(tree_sum "$R")
{
  echo resources:
  for type in $types; do edit_of "$type" '/etc/a\0b'; done
} >"$T/nul.yaml"
run_limited 30 "$KEEL" apply "$T/nul.yaml" --root "$R"
assert_eq 1 "$RC" "a NUL in paths"
assert_contains "$ERR" "nul.yaml:2:5: attribute 'path' holds a NUL byte"
assert_contains "$ERR" "nothing changed"
assert_eq "$sum" "$(tree_sum "$R")" "tree after the NUL paths"

echo "hostile_paths: ok ($n type/path cases)"
