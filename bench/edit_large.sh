#!/usr/bin/env bash
# Whole-process benchmark of editing one large shell file (issue 11 item 13):
# a file of N lines (KEY_<i>=v<i>, about 15 bytes a line: 2M lines = 30 MB)
# edited by one shellvar (a key in the middle) and one line (a new line), by
# `keel plan` and `keel apply`. Prints wall seconds and peak RSS (whole
# process, /usr/bin/time -v) and the ratio of peak RSS to the file size.
#
#   bench/edit_large.sh [LINES...]     (default 1000000 2000000 4000000;
#                                       KEEL=path/to/keel, default build/keel)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
keel=${KEEL:-$here/../build/keel}
work=$(mktemp -d /tmp/keel-bench-large-XXXXXX)
trap 'rm -rf "$work"' EXIT
[ $# -gt 0 ] || set -- 1000000 2000000 4000000
printf '%-8s %-6s %8s %9s %7s\n' lines phase wall_s peak_MiB xfile
for n in "$@"; do
  root=$work/root-$n
  mkdir -p "$root/etc/sysconfig"
  awk -v n="$n" 'BEGIN { for (i = 1; i <= n; i++) printf "K%07d=v%d\n", i, i }' \
    >"$root/etc/sysconfig/big"
  size=$(stat -c %s "$root/etc/sysconfig/big")
  cat >"$work/site.yaml" <<Y
resources:
  - shellvar: /etc/sysconfig/big:K$(printf '%07d' $((n / 2)))
    value: changed
  - line: big-extra
    path: /etc/sysconfig/big
    line: "EXTRA=added by keel"
Y
  for phase in plan apply; do
    /usr/bin/time -v -o "$work/t" "$keel" "$phase" "$work/site.yaml" --root "$root" \
      --state-dir "$work/state-$n" -q >/dev/null 2>"$work/err" || {
      rc=$?
      [ "$rc" = 2 ] || { cat "$work/err" >&2; exit 1; }
    }
    wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$work/t" |
      awk -F: '{ s = 0; for (i = 1; i <= NF; i++) s = s * 60 + $i; print s }')
    rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$work/t")
    printf '%-8s %-6s %8.2f %9.1f %7.2f\n' "$n" "$phase" "$wall" "$(echo "$rss / 1024" | bc -l)" \
      "$(echo "$rss * 1024 / $size" | bc -l)"
  done
  # The second apply changes nothing.
  "$keel" apply "$work/site.yaml" --root "$root" --state-dir "$work/state-$n" -q \
    --detailed-exitcodes >/dev/null || { echo "second apply changed something" >&2; exit 1; }
  rm -rf "$root" "$work/state-$n"
done
