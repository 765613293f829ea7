#!/usr/bin/env bash
# Times `keel validate` (load, interpolate, type-check, resolve references,
# build the graph) on a generated repo of N resources over FILES manifests
# (bench/gen_manifests.py). Prints the median wall and CPU seconds over RUNS.
#
#   bench/load.sh [N] [RUNS] [FILES]        (KEEL=path/to/keel, default build/keel)
#
# The loader alone (no CLI, no graph) has a doctest timing harness:
#   keel_unit -tc='manifest_loader bench*' --no-skip
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
n=${1:-10000}
runs=${2:-5}
files=${3:-10}
keel=${KEEL:-$here/../build/keel}
work=$(mktemp -d /tmp/keel-load-XXXXXX)
trap 'rm -rf "$work"' EXIT
python3 "$here/gen_manifests.py" "$work/repo" "$n" "$files"
mkdir -p "$work/root/etc"
echo "bench01" >"$work/root/etc/hostname"

run() {
  /usr/bin/time -f "%e %U %S %M" -o "$work/t" "$keel" validate "$work/repo" --root "$work/root" \
    >"$work/out" 2>&1 || { cat "$work/out" >&2; echo "keel validate failed" >&2; exit 1; }
  awk '{printf "%s %.3f %s\n", $1, $2 + $3, $4}' "$work/t"
}
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
wall=(); cpu=(); rss=()
for _ in $(seq "$runs"); do
  read -r w c m < <(run)
  wall+=("$w"); cpu+=("$c"); rss+=("$m")
done
printf 'validate %s resources in %s files: median %.3f s wall, %.3f s cpu, %.1f MiB peak (%s runs)\n' \
  "$n" "$files" "$(printf '%s\n' "${wall[@]}" | median)" "$(printf '%s\n' "${cpu[@]}" | median)" \
  "$(printf '%s\n' "${rss[@]}" | median | awk '{print $1/1024}')" "$runs"
