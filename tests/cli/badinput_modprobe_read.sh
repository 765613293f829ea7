#!/bin/bash
# Issue 11 item 15, modprobe: `keel resource modprobe M` and the provider's
# Read see the module's settings wherever modprobe reads them:
# /etc/modprobe.conf (the CentOS 5/6 layout) and the *.conf files of the
# modprobe.d directories (a name in /etc hides the same name in /lib).
# Checked against the real `modprobe -c -C ...` (kmod) on the same files.
# A setting found elsewhere is never reported absent; where it was found is
# said (file:, a comment, a warning).
. "$(dirname "$0")/lib.sh"
command -v modprobe >/dev/null || skip "no modprobe (kmod) to compare with"

# keel_has OUTPUT SETTING: the setting appears in keel's output, as YAML or
# in a comment.
keel_has() {
  local out=$1 kind=$2 a=$3 b=${4:-}
  case $kind in
    options) case $out in *"$a: $b"* | *"$a: \"$b\""* | *"$a=$b"*) return 0 ;; esac ;;
    blacklist) case $out in *"blacklist: true"* | *"blacklist $a"*) return 0 ;; esac ;;
    alias) case $out in *"- $a"* | *"alias $a "*) return 0 ;; esac ;;
  esac
  return 1
}

# compare_with_modprobe MODULE CONFIG_PATHS...: every line `modprobe -c`
# prints for MODULE from these paths is in keel's output ($RES).
compare_with_modprobe() {
  local module=$1
  shift
  local args=() p
  for p in "$@"; do args+=(-C "$p"); done
  modprobe -c "${args[@]}" 2>/dev/null | sed '/^# End of configuration files/,$d' >"$T/mc"
  local n=0 kind a rest kv
  while read -r kind a rest; do
    case $kind in
      options)
        [ "$a" = "$module" ] || continue
        for kv in $rest; do
          n=$((n + 1))
          keel_has "$RES" options "${kv%%=*}" "${kv#*=}" || fail "keel misses options $module $kv (modprobe -c has it):
$RES"
        done ;;
      blacklist)
        [ "$a" = "$module" ] || continue
        n=$((n + 1))
        keel_has "$RES" blacklist "$module" || fail "keel misses blacklist $module:
$RES" ;;
      alias)
        [ "$rest" = "$module" ] || continue
        n=$((n + 1))
        keel_has "$RES" alias "$a" || fail "keel misses alias $a $module:
$RES" ;;
    esac
  done <"$T/mc"
  [ "$n" -gt 0 ] || fail "modprobe -c shows nothing of $module: $(cat "$T/mc")"
  NSETTINGS=$n
}

roundtrip() {
  printf 'resources:\n' >"$T/rt.yaml"
  printf '%s\n' "$RES" | grep -v '^#' | sed 's/^/  /' >>"$T/rt.yaml"
  local sum
  sum=$(tree_sum "$R")
  run "$KEEL" apply "$T/rt.yaml" --root "$R" --state-dir "$T/st" --detailed-exitcodes
  assert_eq 0 "$RC" "apply of keel resource output:
$(cat "$T/rt.yaml")
$OUT
$ERR"
  assert_eq "$sum" "$(tree_sum "$R")" "tree after applying keel resource output"
}

# --- CentOS 5/6 layout: /etc/modprobe.conf plus modprobe.d
R=$(mkroot old)
mkdir -p "$R/etc/modprobe.d"
printf 'alias eth0 e1000\nalias scsi_hostadapter mptspi\noptions ipmi_si type=kcs ports=0xca2\n' \
  >"$R/etc/modprobe.conf"
printf '# extra\noptions ipmi-si regspacings=4\n' >"$R/etc/modprobe.d/ipmi_extra.conf"
printf 'options ipmi_si bogus=1\n' >"$R/etc/modprobe.d/ipmi_extra.conf~"
assert_exit 0 "$KEEL" resource modprobe ipmi_si --root "$R"
RES=$OUT
assert_contains "$RES" "file: /etc/modprobe.conf"
assert_contains "$RES" "ensure: present"
assert_contains "$RES" "# also configured in /etc/modprobe.d/ipmi_extra.conf: options ipmi_si regspacings=4"
assert_not_contains "$RES" "bogus"
compare_with_modprobe ipmi_si "$R/etc/modprobe.conf" "$R/etc/modprobe.d"
roundtrip
assert_exit 0 "$KEEL" resource modprobe e1000 --root "$R"
RES=$OUT
assert_contains "$RES" "file: /etc/modprobe.conf"
compare_with_modprobe e1000 "$R/etc/modprobe.conf" "$R/etc/modprobe.d"
roundtrip

# The provider's Read in a run: a resource on its default file sees the
# options in force elsewhere (not "absent"), and a warning names the file.
cat >"$T/m.yaml" <<'EOF'
resources:
  - modprobe: ipmi_si
    options: {type: kcs, ports: "0xca2"}
EOF
assert_exit 2 "$KEEL" plan "$T/m.yaml" --root "$R" --detailed-exitcodes --report "$T/plan.json"
assert_contains "$OUT" "ipmi_si is also configured in /etc/modprobe.conf (options ipmi_si type=kcs ports=0xca2)"
assert_eq "[]" "$(json_get "$T/plan.json" "[c for r in j['resources'] for c in r['changes'] if c['attribute'] == 'options']")" \
  "options change (they are in force already, in /etc/modprobe.conf)"
cat >"$T/m2.yaml" <<'EOF'
resources:
  - modprobe: ipmi_si
    options: {type: bt}
EOF
assert_exit 2 "$KEEL" plan "$T/m2.yaml" --root "$R" --detailed-exitcodes --report "$T/plan2.json"
assert_eq '[{"type": "kcs", "ports": "0xca2"}]' \
  "$(json_get "$T/plan2.json" "[c['from'] for r in j['resources'] for c in r['changes'] if c['attribute'] == 'options']")" \
  "options change starts from what /etc/modprobe.conf says"

# --- kmod layout: modprobe.d directories, /etc hides /lib of the same name
R=$(mkroot new)
mkdir -p "$R/etc/modprobe.d" "$R/lib/modprobe.d" "$R/usr/lib/modprobe.d"
printf 'options e1000 InterruptThrottleRate=3000\n' >"$R/etc/modprobe.d/net.conf"
printf 'options e1000 hidden=1\n' >"$R/lib/modprobe.d/net.conf"
printf 'blacklist e1000\n' >"$R/usr/lib/modprobe.d/zz-black.conf"
printf 'options e1000 notconf=1\n' >"$R/etc/modprobe.d/e1000.txt"
assert_exit 0 "$KEEL" resource modprobe e1000 --root "$R"
RES=$OUT
assert_contains "$RES" "file: /etc/modprobe.d/net.conf"
assert_contains "$RES" "InterruptThrottleRate"
assert_contains "$RES" "# also configured in /usr/lib/modprobe.d/zz-black.conf: blacklist e1000"
assert_not_contains "$RES" "hidden"
assert_not_contains "$RES" "notconf"
compare_with_modprobe e1000 "$R/etc/modprobe.d" "$R/lib/modprobe.d" "$R/usr/lib/modprobe.d"
grep -q hidden "$T/mc" && fail "modprobe -c read the hidden /lib file; the test's premise is wrong"
roundtrip
echo "badinput_modprobe_read: ok ($NSETTINGS settings compared with modprobe -c)"
