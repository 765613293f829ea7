#!/usr/bin/env bash
# The seed's firewall story with the real iptables (nf_tables backend) in a
# network namespace made by this test, under `unshare -m` with an overlay on
# /etc (upper layer on a tmpfs), so the host's rules and files are never
# touched: load the stock CentOS 5 RH-Firewall-1-INPUT ruleset, manage the
# chain with purge (manifests/firewall-http.yaml), check the HTTP rule sits
# before the final REJECT without --state NEW, apply again (0 changes), add
# a rule by hand (plan shows its removal, apply removes it), plan with
# nothing to do exits 0 under --detailed-exitcodes, the persisted file holds
# exactly what iptables-save prints, and `keel resource` output converges.
set -euo pipefail
KEEL=${KEEL:?}
KEEL_SRC=${KEEL_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
export NO_COLOR=1
if [ -z "${KEEL_FW_INNER:-}" ]; then
  [ "$(id -u)" = 0 ] || { echo "skip: needs root"; exit 77; }
  for c in ip iptables-restore iptables-save unshare; do
    command -v "$c" >/dev/null || { echo "skip: no $c"; exit 77; }
  done
  ns=keeltest-$$-fwseed
  t=$(mktemp -d /tmp/keel-fw-XXXXXX)
  trap 'ip netns del "$ns" 2>/dev/null || true; rm -rf "$t"' EXIT
  ip netns add "$ns" 2>/dev/null || { echo "skip: cannot create a network namespace"; exit 77; }
  ip netns exec "$ns" iptables-save >/dev/null 2>&1 || { echo "skip: iptables does not work in a namespace here"; exit 77; }
  rc=0
  KEEL_FW_INNER=1 NS=$ns T=$t unshare -m "$0" || rc=$?
  exit $rc
fi

fail() { echo "FAIL: $*" >&2; exit 1; }
# A private /etc: overlay with its upper layer on a tmpfs (this mount namespace only).
mount --make-rprivate /
mkdir -p "$T/ov"
mount -t tmpfs keel-fw "$T/ov"
mkdir -p "$T/ov/upper" "$T/ov/work"
mount -t overlay overlay -o "lowerdir=/etc,upperdir=$T/ov/upper,workdir=$T/ov/work" /etc ||
  { echo "skip: no overlayfs for a private /etc"; exit 77; }
rm -rf /etc/iptables /etc/sysconfig/iptables /etc/sysconfig/ip6tables
printf 'os:\n  family: RedHat\n' >"$T/facts.yaml"

k() { ip netns exec "$NS" "$KEEL" "$@" --state-dir "$T/state" --facts "$T/facts.yaml"; }
x() { ip netns exec "$NS" "$@"; }
rules() { x iptables-save | grep -v '^#'; }
sum() { rules | sha256sum; }

sed -n '/^\*filter/,/^COMMIT/p' "$KEEL_SRC/tests/unit/data/firewall/centos5-seed.nft.save" | x iptables-restore
m="$KEEL_SRC/manifests/firewall-http.yaml"

# plan: shows the purge and the new rules, changes nothing live or on disk
before=$(sum)
rc=0; k plan "$m" --detailed-exitcodes >"$T/plan.txt" || rc=$?
[ "$rc" = 2 ] || { cat "$T/plan.txt"; fail "plan exit $rc, want 2"; }
grep -qxF -- '    --A RH-Firewall-1-INPUT -p tcp -m state --state NEW -m tcp --dport 22 -j ACCEPT' "$T/plan.txt" ||
  { cat "$T/plan.txt"; fail "plan does not show the stock ssh rule's removal"; }
grep -qxF -- '    +-A RH-Firewall-1-INPUT -p tcp -m tcp --dport 80 -m comment --comment "100 allow http" -j ACCEPT' "$T/plan.txt" ||
  { cat "$T/plan.txt"; fail "plan does not show the http rule"; }
grep -qF -- '+++ /etc/sysconfig/iptables' "$T/plan.txt" || fail "plan does not show the persisted file's diff"
[ "$(sum)" = "$before" ] || fail "plan changed the live rules"
[ ! -e /etc/sysconfig/iptables ] || fail "plan wrote the persisted file"

# apply
rc=0; k apply "$m" --detailed-exitcodes >"$T/apply.txt" 2>&1 || rc=$?
[ "$rc" = 2 ] || { cat "$T/apply.txt"; fail "apply exit $rc, want 2"; }
x iptables-save | grep -- '-A RH-Firewall-1-INPUT' >"$T/chain.txt"
cat >"$T/want.txt" <<'RULES'
-A RH-Firewall-1-INPUT -i lo -m comment --comment "010 loopback" -j ACCEPT
-A RH-Firewall-1-INPUT -p icmp -m icmp --icmp-type any -m comment --comment "020 icmp" -j ACCEPT
-A RH-Firewall-1-INPUT -p esp -m comment --comment "030 ipsec esp" -j ACCEPT
-A RH-Firewall-1-INPUT -p ah -m comment --comment "031 ipsec ah" -j ACCEPT
-A RH-Firewall-1-INPUT -d 224.0.0.251/32 -p udp -m udp --dport 5353 -m comment --comment "040 mdns" -j ACCEPT
-A RH-Firewall-1-INPUT -p udp -m udp --dport 631 -m comment --comment "050 ipp udp" -j ACCEPT
-A RH-Firewall-1-INPUT -p tcp -m tcp --dport 631 -m comment --comment "051 ipp tcp" -j ACCEPT
-A RH-Firewall-1-INPUT -m state --state RELATED,ESTABLISHED -m comment --comment "060 established" -j ACCEPT
-A RH-Firewall-1-INPUT -p tcp -m tcp --dport 22 -m state --state NEW -m comment --comment "070 ssh" -j ACCEPT
-A RH-Firewall-1-INPUT -p tcp -m tcp --dport 80 -m comment --comment "100 allow http" -j ACCEPT
-A RH-Firewall-1-INPUT -m comment --comment "999 reject everything else" -j REJECT --reject-with icmp-host-prohibited
RULES
diff -u "$T/want.txt" "$T/chain.txt" || fail "chain after apply is not the declared order"
x iptables-save | grep -cxF -- '-A INPUT -j RH-Firewall-1-INPUT' >/dev/null || fail "the unmanaged INPUT jump was lost"
# the plan's + lines are exactly what iptables-save prints (the renderer is canonical)
grep -- '^    +-A ' "$T/plan.txt" | sed 's/^    +//' | while IFS= read -r l; do
  rules | grep -cxF -- "$l" >/dev/null || fail "rendered '$l' is not what iptables-save prints"
done
# persisted: exactly the live rules
diff <(grep -v '^#' /etc/sysconfig/iptables) <(rules) || fail "persisted file differs from iptables-save"
[ "$(stat -c %a /etc/sysconfig/iptables)" = 600 ] || fail "persisted file mode"

# second apply: nothing
rc=0; k apply "$m" --detailed-exitcodes >"$T/again.txt" 2>&1 || rc=$?
[ "$rc" = 0 ] || { cat "$T/again.txt"; fail "second apply exit $rc, want 0"; }

# a rule inserted by hand: plan shows its removal, apply removes it
x iptables -I RH-Firewall-1-INPUT 3 -p tcp --dport 8080 -j ACCEPT
before=$(sum)
rc=0; k plan "$m" --detailed-exitcodes >"$T/plan2.txt" || rc=$?
[ "$rc" = 2 ] || { cat "$T/plan2.txt"; fail "plan after hand edit exit $rc, want 2"; }
grep -qxF -- '    --A RH-Firewall-1-INPUT -p tcp -m tcp --dport 8080 -j ACCEPT' "$T/plan2.txt" ||
  { cat "$T/plan2.txt"; fail "plan does not show the hand-made rule's removal"; }
[ "$(sum)" = "$before" ] || fail "plan changed the live rules"
k apply "$m" -q >/dev/null
x iptables-save | grep -c -- '--dport 8080' >/dev/null && fail "the hand-made rule is still there"
diff -u "$T/want.txt" <(x iptables-save | grep -- '-A RH-Firewall-1-INPUT') || fail "order after removal"

# nothing to do: plan exits 0 under --detailed-exitcodes
rc=0; k plan "$m" --detailed-exitcodes >"$T/plan3.txt" || rc=$?
[ "$rc" = 0 ] || { cat "$T/plan3.txt"; fail "plan with nothing to do exit $rc, want 0"; }

# keel resource output converges
x "$KEEL" resource iptables_chain filter:INPUT >"$T/res-chain.yaml"
grep -q 'policy: ACCEPT' "$T/res-chain.yaml" || { cat "$T/res-chain.yaml"; fail "keel resource iptables_chain"; }
x "$KEEL" resource iptables_rule "100 allow http" >"$T/res-rule.yaml" 2>&1
grep -q 'chain: RH-Firewall-1-INPUT' "$T/res-rule.yaml" || { cat "$T/res-rule.yaml"; fail "keel resource iptables_rule"; }
{ echo "resources:"; sed 's/^/  /' "$T/res-chain.yaml"; sed 's/^/  /' "$T/res-rule.yaml"; } >"$T/res.yaml"
before=$(sum)
rc=0; k apply "$T/res.yaml" --detailed-exitcodes >"$T/res-apply.txt" 2>&1 || rc=$?
[ "$rc" = 0 ] || { cat "$T/res.yaml" "$T/res-apply.txt"; fail "keel resource output does not converge (exit $rc)"; }
[ "$(sum)" = "$before" ] || fail "applying keel resource output changed rules"
echo "ok: seed firewall converged in netns $NS"
