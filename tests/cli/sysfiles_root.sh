#!/usr/bin/env bash
# host, mount, sysctl, modprobe through the CLI on a seeded --root image:
# plan changes no byte, apply edits only the managed lines (read back with
# findmnt and python3 as independent readers), a second apply changes
# nothing, a bad file fails clearly without being touched.
set -euo pipefail
KEEL=${KEEL:?} KEEL_SRC=${KEEL_SRC:?}
data=$KEEL_SRC/tests/unit/data/sysfiles
t=$(mktemp -d); trap 'rm -rf "$t"' EXIT
r=$t/root
mkdir -p "$r/etc/sysctl.d"
cp "$data/fstab.ec2-centos5" "$r/etc/fstab"
cp "$data/hosts.debian" "$r/etc/hosts"
cp "$data/modprobe.conf.ec2-centos5" "$r/etc/modprobe.conf"
cp "$data/sysctl.conf.debian" "$r/etc/sysctl.conf"
cat >"$t/site.yaml" <<'YAML'
resources:
  - host: web
    ip: 10.0.0.5
    aliases: [web.example.org]
  - host: vm
    ip: 127.0.1.1
  - mount: /data
    device: LABEL=data
    fstype: ext4
    options: noatime
    pass: 2
  - sysctl: net.ipv4.netfilter.ip_conntrack_tcp_be_liberal
    value: 1
    file: /etc/sysctl.conf
  - modprobe: ipmi_si
    options: {type: kcs, ports: "0xca2"}
    file: /etc/modprobe.conf
YAML
snap() { (cd "$r" && find . -printf '%p %m %s\n' | sort && find . -type f -exec sha256sum {} + | sort); }
before=$(snap)
"$KEEL" plan "$t/site.yaml" --root "$r" >"$t/plan.txt"
[ "$(snap)" = "$before" ] || { echo "FAIL: plan changed the tree"; exit 1; }
grep -q '^ *+LABEL=data' "$t/plan.txt" || { echo "FAIL: plan lacks the fstab diff"; cat "$t/plan.txt"; exit 1; }
"$KEEL" apply "$t/site.yaml" --root "$r" -q >/dev/null
# Unmanaged bytes kept: the old content is a prefix / the diff is only ours.
head -c "$(stat -c %s "$data/fstab.ec2-centos5")" "$r/etc/fstab" | cmp -s - "$data/fstab.ec2-centos5" || { echo "FAIL: fstab lines changed"; exit 1; }
[ "$(tail -1 "$r/etc/fstab")" = "LABEL=data              /data                   ext4    noatime         0 2" ] || { echo "FAIL: fstab line: $(tail -1 "$r/etc/fstab")"; exit 1; }
[ "$(findmnt --fstab --tab-file "$r/etc/fstab" -n -o SOURCE,FSTYPE,OPTIONS /data)" = "LABEL=data ext4   noatime" ] || { echo "FAIL: findmnt"; exit 1; }
py=$(python3 - "$r/etc/hosts" <<'PY'
import sys
seen = {}
for l in open(sys.argv[1]):
    f = l.split('#')[0].split()
    for n in f[1:]:
        seen.setdefault(n, []).append(f[0])
print(seen["web"], seen["web.example.org"], seen["vm"], seen["vm.example.org"])
PY
)
[ "$py" = "['10.0.0.5'] ['10.0.0.5'] ['127.0.1.1'] ['127.0.1.1']" ] || { echo "FAIL: hosts as python reads it: $py"; exit 1; }
grep -qx "alias eth0 xennet" "$r/etc/modprobe.conf" && grep -qx "options ipmi_si type=kcs ports=0xca2" "$r/etc/modprobe.conf" || { echo "FAIL: modprobe.conf"; exit 1; }
diff <(grep -v ip_conntrack_tcp_be_liberal "$r/etc/sysctl.conf") "$data/sysctl.conf.debian" >/dev/null || { echo "FAIL: sysctl.conf foreign lines"; exit 1; }
rc=0; "$KEEL" apply "$t/site.yaml" --root "$r" --detailed-exitcodes -q >/dev/null || rc=$?
[ "$rc" = 0 ] || { echo "FAIL: second apply exit $rc"; exit 1; }
# A directory where the fstab should be: a clear failure, nothing else broken.
rm "$r/etc/fstab"; mkdir "$r/etc/fstab"
rc=0; out=$("$KEEL" apply "$t/site.yaml" --root "$r" --detailed-exitcodes 2>&1) || rc=$?
[ "$rc" = 4 ] || { echo "FAIL: want exit 4 for a failure, got $rc"; echo "$out"; exit 1; }
grep -q "is a directory" <<<"$out" || { echo "FAIL: no clear message"; echo "$out"; exit 1; }
echo "ok: sysfiles types on a root"
