#!/bin/bash
# Hostile user, truncated input (issue 11): a sample manifest using every
# type, cut at every byte offset (a half-pulled repository, a full disk).
# `keel validate` of each prefix either accepts it or exits 1 with a
# `path:line:col:` error and "nothing changed"; never a signal death, a
# hang, or an error without a place. A few prefixes also go through `keel
# plan`, which changes no byte.
. "$(dirname "$0")/lib.sh"

cat >"$T/full.yaml" <<'Y'
vars:
  port: "0xca2"
  hosts: [db01, db02]
resources:
  - file: /etc/motd
    content: |
      Welcome {{ facts.hostname }}
    mode: "0644"
    notify: exec[reload]
  - line: pw
    path: /etc/app.conf
    line: 'password = "s3cret"'
    match: "^password\\s*="
    sensitive: true
  - shellvar: /etc/sysconfig/app:OPTS
    value: ["-a", "-b c"]
  - host: "{{ hosts[0] }}"
    ip: 10.0.0.5
  - mount: /data
    device: /dev/sdb1
    fstype: xfs
  - sysctl: net.ipv4.ip_forward
    value: "1"
  - modprobe: ipmi_si
    options: {type: kcs, ports: "{{ port }}"}
  - ifcfg: eth0
    settings: {ONBOOT: true, IPV6ADDR_SECONDARIES: ["::1/64"]}
  - audit_rule: w
    rule: "-w /etc/ -p wa -k etc"
  - kernel_parameter: "ipmi_si.type"
    value: kcs
    when: 'facts.bootloader in ["grub2", "none"] and not (1 > 2)'
  - iptables_rule: "100 http"
    proto: tcp
    dport: 80
    jump: ACCEPT
  - service: rngd
    enable: true
    require: ["file[/etc/motd]"]
  - exec: reload
    command: ["/bin/true"]
    refreshonly: true
  - package: keel-missing
    ensure: absent
Y
R=$(mkroot)
assert_exit 0 "$KEEL" validate "$T/full.yaml" --root "$R"

N=$(wc -c <"$T/full.yaml")
# The offsets: every byte with KEEL_HOSTILE_FULL=1; by default every third
# byte plus each line end and the bytes around it (a loaded CI machine runs
# ~1,000 keel processes in minutes, not seconds).
python3 - "$T/full.yaml" "${KEEL_HOSTILE_FULL:-0}" >"$T/offsets" <<'PY'
import sys
data = open(sys.argv[1], 'rb').read()
full = sys.argv[2] == '1'
offs = set(range(0, len(data) + 1, 1 if full else 3))
for i, b in enumerate(data):
    if b == 10:
        offs.update(j for j in (i - 1, i, i + 1, i + 2) if 0 <= j <= len(data))
print('\n'.join(map(str, sorted(offs))))
PY
# Each worker checks its share of the offsets; one line per bad offset.
cat >"$T/worker.sh" <<'W'
K=$1 T=$2 R=$3 from=$4
awk -v w="$from" 'NR % 4 == w' "$T/offsets" | while read -r i; do
  f="$T/cut$from.yaml"
  head -c "$i" "$T/full.yaml" >"$f"
  rc=0
  timeout -s KILL 30 "$K" validate "$f" --root "$R" >"$T/o$from" 2>"$T/e$from" || rc=$?
  case $rc in
    0) ;;
    1) grep -qE "cut$from\.yaml:[0-9]+:[0-9]+: " "$T/e$from" && grep -q "nothing changed" "$T/e$from" ||
         echo "offset $i: exit 1 without a place: $(head -c 300 "$T/e$from")" ;;
    *) echo "offset $i: exit $rc: $(head -c 300 "$T/e$from")" ;;
  esac
done
W
: >"$T/bad"
for w in 0 1 2 3; do bash "$T/worker.sh" "$KEEL" "$T" "$R" "$w" >>"$T/bad" & done
wait
[ ! -s "$T/bad" ] || fail "truncated manifests:
$(head -20 "$T/bad")"

# A plan of a few prefixes (each line end) changes no byte.
sum=$(tree_sum "$R")
for i in $(grep -b -o $'\n' "$T/full.yaml" | cut -d: -f1 | awk 'NR % 6 == 0'); do
  head -c "$i" "$T/full.yaml" >"$T/cut.yaml"
  rc=0
  timeout -s KILL 30 "$KEEL" plan "$T/cut.yaml" --root "$R" --detailed-exitcodes >/dev/null 2>&1 || rc=$?
  case $rc in 0 | 1 | 2 | 4 | 6) ;; *) fail "plan of $i bytes: exit $rc" ;; esac
done
assert_eq "$sum" "$(tree_sum "$R")" "tree after plans of truncated manifests"
echo "hostile_truncate: ok ($(wc -l <"$T/offsets") of $N offsets)"
