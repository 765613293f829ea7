#!/usr/bin/env bash
# modprobe type against kmod itself: after `keel apply --root`, kmod's own
# parser (`modprobe -c -C <root>/etc/modprobe.d`) must show the options,
# aliases and blacklist keel wrote, and a foreign line must survive.
set -euo pipefail
KEEL=${KEEL:?} KEEL_SRC=${KEEL_SRC:?}
command -v modprobe >/dev/null || { echo "skip: no kmod modprobe"; exit 77; }
t=$(mktemp -d); trap 'rm -rf "$t"' EXIT
mkdir -p "$t/root/etc/modprobe.d"
printf '# local tweak\noptions ipmi_si type=bt\noptions snd-pcsp index=-2\n' >"$t/root/etc/modprobe.d/ipmi_si.conf"
cat >"$t/site.yaml" <<'YAML'
resources:
  - modprobe: ipmi_si
    options:
      type: kcs
      ports: "0xca2"
  - modprobe: xennet
    aliases: [eth0]
  - modprobe: xenblk
    aliases: [scsi_hostadapter]
  - modprobe: floppy
    blacklist: true
YAML
"$KEEL" apply "$t/site.yaml" --root "$t/root" -q >/dev/null
conf=$(modprobe -c -C "$t/root/etc/modprobe.d")
for want in "options ipmi_si type=kcs ports=0xca2" "alias eth0 xennet" \
            "alias scsi_hostadapter xenblk" "blacklist floppy" "options snd_pcsp index=-2"; do
  grep -qxF "$want" <<<"$conf" || { echo "FAIL: modprobe -c lacks: $want"; echo "$conf" | head -20; exit 1; }
done
grep -q "type=bt" <<<"$conf" && { echo "FAIL: old options still seen by kmod"; exit 1; }
[ "$(head -1 "$t/root/etc/modprobe.d/ipmi_si.conf")" = "# local tweak" ] || { echo "FAIL: comment lost"; exit 1; }
rc=0; "$KEEL" apply "$t/site.yaml" --root "$t/root" --detailed-exitcodes -q >/dev/null || rc=$?
[ "$rc" = 0 ] || { echo "FAIL: second apply exit $rc, want 0 (nothing changed)"; exit 1; }
echo "ok: kmod reads what keel wrote"
