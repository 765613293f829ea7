#!/usr/bin/env bash
# Whole-process benchmark of many resources editing ONE file, per editing
# type: N shellvars on one sysconfig file, N lines, N hosts on /etc/hosts,
# N sysctls on one sysctl.conf, N modprobe options in one modprobe.d file,
# N mounts in /etc/fstab. Each is applied cold (into an empty file) and
# then again (a no-op run, which must report no change). The cost per
# resource must stay flat as N grows: a provider that re-parses the whole
# file for every resource is quadratic (5,000 hosts took 20 s a no-op).
#
#   bench/one_file.sh [N...]        (default 1000 4000; KEEL=path/to/keel)
#   TYPES="host sysctl"             the types to run (default: all six)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
keel=$(readlink -f "${KEEL:-$here/../build/keel}")
work=$(mktemp -d /tmp/keel-bench-onefile-XXXXXX)
trap 'rm -rf "$work"' EXIT
[ $# -gt 0 ] || set -- 1000 4000
types=${TYPES:-shellvar line host sysctl modprobe mount}

gen() {  # TYPE N -> manifest on stdout
  python3 - "$1" "$2" <<'PY'
import sys
t, n = sys.argv[1], int(sys.argv[2])
out = ['resources:']
for i in range(n):
    if t == 'shellvar':
        out.append(f'  - shellvar: /etc/sysconfig/bench:K{i}\n    value: "v{i}"')
    elif t == 'line':
        out.append(f'  - line: l{i}\n    path: /etc/lines\n    line: "L{i}=x"\n    match: "^L{i}="')
    elif t == 'host':
        out.append(f'  - host: h{i}.example.com\n    ip: 10.{i // 62500}.{i // 250 % 250}.{i % 250 + 1}')
    elif t == 'sysctl':
        out.append(f'  - sysctl: kernel.bench{i}\n    value: "{i}"\n    apply: false')
    elif t == 'modprobe':
        out.append(f'  - modprobe: mod{i}\n    options: {{opt: "{i}"}}\n    file: /etc/modprobe.d/bench.conf')
    elif t == 'mount':
        out.append(f'  - mount: /data{i}\n    device: /dev/disk{i}\n    fstype: xfs\n    ensure: present')
print('\n'.join(out))
PY
}

printf '%-9s %7s %9s %9s %11s %9s\n' type N cold_s noop_s noop_us/res peak_MiB
for t in $types; do
  for n in "$@"; do
    root=$work/root-$t-$n
    mkdir -p "$root/etc/sysconfig" "$root/etc/modprobe.d"
    : >"$root/etc/hosts"
    : >"$root/etc/fstab"
    gen "$t" "$n" >"$work/m.yaml"
    /usr/bin/time -f "%e %M" -o "$work/t1" "$keel" apply "$work/m.yaml" --root "$root" >/dev/null
    rc=0
    /usr/bin/time -f "%e %M" -o "$work/t2" "$keel" apply "$work/m.yaml" --root "$root" \
      --detailed-exitcodes >/dev/null || rc=$?
    [ "$rc" = 0 ] || { echo "one_file: $t N=$n: the second apply changed something (exit $rc)" >&2; exit 1; }
    read -r c _ <"$work/t1"
    read -r w m <"$work/t2"
    awk -v t="$t" -v n="$n" -v c="$c" -v w="$w" -v m="$m" \
      'BEGIN { printf "%-9s %7d %9.2f %9.2f %11.0f %9.1f\n", t, n, c, w, w * 1e6 / n, m / 1024 }'
  done
done
