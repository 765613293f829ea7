#!/usr/bin/env bash
# sysctl live half for real: keel applies net.ipv4.ip_forward=1 inside a
# network namespace made by this test (deleted at exit); /proc/sys in the
# namespace shows it, the host's own value is unchanged. keel runs on the
# live root, so the persistent file and the state dir point into a temp dir.
set -euo pipefail
KEEL=${KEEL:?}
[ "$(id -u)" = 0 ] || { echo "skip: needs root"; exit 77; }
command -v ip >/dev/null || { echo "skip: no ip(8)"; exit 77; }
ns=keel-sysctl-$$
ip netns add "$ns" 2>/dev/null || { echo "skip: cannot create a network namespace"; exit 77; }
t=$(mktemp -d); trap 'ip netns del "$ns" 2>/dev/null || true; rm -rf "$t"' EXIT
host_before=$(cat /proc/sys/net/ipv4/ip_forward)
[ "$(ip netns exec "$ns" cat /proc/sys/net/ipv4/ip_forward)" = 0 ] || { echo "skip: namespace does not start at 0"; exit 77; }
cat >"$t/site.yaml" <<YAML
resources:
  - sysctl: net.ipv4.ip_forward
    value: 1
    file: $t/sysctl.d/99-keel.conf
YAML
# A plan changes nothing, live or on disk.
ip netns exec "$ns" "$KEEL" plan "$t/site.yaml" --state-dir "$t/state" >"$t/plan.txt"
grep -q "live_value" "$t/plan.txt" || { echo "FAIL: plan does not show the live change"; cat "$t/plan.txt"; exit 1; }
[ "$(ip netns exec "$ns" cat /proc/sys/net/ipv4/ip_forward)" = 0 ] || { echo "FAIL: plan wrote /proc/sys"; exit 1; }
[ ! -e "$t/sysctl.d" ] || { echo "FAIL: plan wrote a file"; exit 1; }
ip netns exec "$ns" "$KEEL" apply "$t/site.yaml" --state-dir "$t/state" -q >/dev/null
[ "$(ip netns exec "$ns" cat /proc/sys/net/ipv4/ip_forward)" = 1 ] || { echo "FAIL: not set in the namespace"; exit 1; }
[ "$(cat "$t/sysctl.d/99-keel.conf")" = "net.ipv4.ip_forward = 1" ] || { echo "FAIL: file"; exit 1; }
[ "$(cat /proc/sys/net/ipv4/ip_forward)" = "$host_before" ] || { echo "FAIL: host value changed"; exit 1; }
rc=0; ip netns exec "$ns" "$KEEL" apply "$t/site.yaml" --state-dir "$t/state" --detailed-exitcodes -q >/dev/null || rc=$?
[ "$rc" = 0 ] || { echo "FAIL: second apply exit $rc, want 0"; exit 1; }
# Live drift alone is found and fixed; the file is not touched.
ip netns exec "$ns" sh -c 'echo 0 > /proc/sys/net/ipv4/ip_forward'
rc=0; ip netns exec "$ns" "$KEEL" apply "$t/site.yaml" --state-dir "$t/state" --detailed-exitcodes -q >/dev/null || rc=$?
[ "$rc" = 2 ] || { echo "FAIL: drift apply exit $rc, want 2"; exit 1; }
[ "$(ip netns exec "$ns" cat /proc/sys/net/ipv4/ip_forward)" = 1 ] || { echo "FAIL: drift not fixed"; exit 1; }
echo "ok: sysctl converged in netns $ns only"
