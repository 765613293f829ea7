#!/usr/bin/env bash
# Whole-process benchmark of `keel apply` on the peers' W1 workload
# (../shared/bench-peers: N files of 2 lines under ROOT/etc/bench, mode 0644):
# cold apply into an empty root and no-op apply on the converged root.
# Prints median wall seconds and peak RSS (MiB) over RUNS runs.
#
#   bench/files.sh [N] [RUNS]        (KEEL=path/to/keel, default build/keel)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
n=${1:-1000}
runs=${2:-5}
keel=${KEEL:-$here/../build/keel}
work=$(mktemp -d /tmp/keel-bench-XXXXXX)
trap 'rm -rf "$work"' EXIT
root=$work/root
mkdir -p "$root/etc"

python3 - "$n" "$work/site.yaml" <<'PY'
import json, random, sys
n, out = int(sys.argv[1]), sys.argv[2]
res = [("file", "/etc/bench", None)]
for i in range(1, n + 1):
    res.append(("file", "/etc/bench/f%04d.conf" % i,
                "# bench file %04d\nkey_%04d = value_%04d\n" % (i, i, i)))
random.Random(42).shuffle(res)  # keel must sort
lines = ["resources:"]
for _, path, content in res:
    lines.append("  - file: %s" % json.dumps(path))
    if content is None:
        lines += ["    ensure: directory", '    mode: "0755"']
    else:
        lines += ['    mode: "0644"', "    content: %s" % json.dumps(content)]
open(out, "w").write("\n".join(lines) + "\n")
PY

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
measure() {  # $1 = phase; prints "wall rss"
  /usr/bin/time -f "%e %M" -o "$work/t" "$keel" apply "$work/site.yaml" --root "$root" \
    --state-dir "$work/state" -q >/dev/null
  cat "$work/t"
}
cold_w=(); cold_m=(); noop_w=(); noop_m=()
for _ in $(seq "$runs"); do
  rm -rf "$root" "$work/state"; mkdir -p "$root/etc"
  read -r w m < <(measure cold); cold_w+=("$w"); cold_m+=("$m")
  read -r w m < <(measure noop); noop_w+=("$w"); noop_m+=("$m")
done
# Correctness: the no-op run must change nothing.
out=$("$keel" apply "$work/site.yaml" --root "$root" --state-dir "$work/state" --detailed-exitcodes) \
  || { echo "no-op apply reported changes or failures: $out" >&2; exit 1; }
printf 'files-%s cold : median %.3f s, peak %.1f MiB (%s runs)\n' "$n" \
  "$(printf '%s\n' "${cold_w[@]}" | median)" "$(printf '%s\n' "${cold_m[@]}" | median | awk '{print $1/1024}')" "$runs"
printf 'files-%s no-op: median %.3f s, peak %.1f MiB (%s runs)\n' "$n" \
  "$(printf '%s\n' "${noop_w[@]}" | median)" "$(printf '%s\n' "${noop_m[@]}" | median | awk '{print $1/1024}')" "$runs"
