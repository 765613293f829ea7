#!/bin/bash
# Memory of editing one large file (issue 11 item 13): a file of 1M lines
# (15 MB) edited by one shellvar (a key in the middle) and one line (a new
# line at the end). The peak RSS of `keel plan` and of `keel apply` (whole
# process, /usr/bin/time -f %M) stays within 3x the file size plus a fixed
# baseline: the peak RSS of `keel plan` on an empty manifest over the same
# root (the binary, its libraries, the registry). The plan changes no byte;
# the apply gives bash exactly the intended change; a second apply changes
# nothing. bench/edit_large.sh measures the same at 1M/2M/4M lines.
. "$(dirname "$0")/lib.sh"
has_type shellvar || skip "shellvar not registered"
has_type line || skip "line not registered"
[ -x /usr/bin/time ] || skip "/usr/bin/time not installed"
# A sanitizer build's shadow memory and quarantine are not keel's.
sanitized && skip "sanitizer build"

N=1000000
MID=$(printf '%07d' $((N / 2)))
R=$(mkroot)
mkdir -p "$R/etc/sysconfig"
awk -v n="$N" 'BEGIN { for (i = 1; i <= n; i++) printf "K%07d=v%d\n", i, i }' \
  >"$R/etc/sysconfig/big"
cp "$R/etc/sysconfig/big" "$T/orig"
size=$(stat -c %s "$T/orig")

printf 'resources: []\n' >"$T/empty.yaml"
cat >"$T/site.yaml" <<Y
resources:
  - shellvar: /etc/sysconfig/big:K$MID
    value: changed
  - line: big-extra
    path: /etc/sysconfig/big
    line: "EXTRA=added by keel"
Y

# peak KEEL_ARGS...: runs keel under /usr/bin/time, sets RC, OUT and PEAK (bytes).
peak() {
  /usr/bin/time -f %M -o "$T/rss" "$KEEL" "$@" >"$T/out" 2>"$T/err"
  RC=$?
  OUT=$(cat "$T/out")
  PEAK=$(($(tail -1 "$T/rss") * 1024))
}

peak plan "$T/empty.yaml" --root "$R" --state-dir "$T/state" -q
assert_eq 0 "$RC" "empty plan exit code"
base=$PEAK
limit=$((3 * size + base))
echo "file $size bytes; baseline $base bytes; limit $limit bytes"

peak plan "$T/site.yaml" --root "$R" --state-dir "$T/state" --detailed-exitcodes
assert_eq 2 "$RC" "plan exit code ($(cat "$T/err"))"
echo "plan peak $PEAK bytes ($(echo "scale=2; ($PEAK - $base) / $size" | bc)x the file above the baseline)"
[ "$PEAK" -le "$limit" ] || fail "plan peak RSS $PEAK > 3 x $size + $base"
assert_contains "$OUT" "-K$MID=v$((N / 2))"
assert_contains "$OUT" "+K$MID=changed"
assert_contains "$OUT" "+EXTRA=added by keel"
cmp -s "$T/orig" "$R/etc/sysconfig/big" || fail "plan changed the file"

peak apply "$T/site.yaml" --root "$R" --state-dir "$T/state" --detailed-exitcodes
assert_eq 2 "$RC" "apply exit code ($(cat "$T/err"))"
echo "apply peak $PEAK bytes ($(echo "scale=2; ($PEAK - $base) / $size" | bc)x the file above the baseline)"
[ "$PEAK" -le "$limit" ] || fail "apply peak RSS $PEAK > 3 x $size + $base"

# Exactly the two intended changes, every other byte kept.
diff "$T/orig" "$R/etc/sysconfig/big" >"$T/diff"
assert_eq "${MID#0}c${MID#0}
< K$MID=v$((N / 2))
---
> K$MID=changed
${N}a$((N + 1))
> EXTRA=added by keel" "$(cat "$T/diff")" "the edit"
got=$(bash -c 'source "$0" >/dev/null 2>&1; printf "%s" "$K'"$MID"'"' "$R/etc/sysconfig/big")
assert_eq "changed" "$got" "what bash sees"

peak apply "$T/site.yaml" --root "$R" --state-dir "$T/state" --detailed-exitcodes
assert_eq 0 "$RC" "second apply changes nothing ($OUT)"
[ "$PEAK" -le "$limit" ] || fail "no-op apply peak RSS $PEAK > 3 x $size + $base"
echo ok
