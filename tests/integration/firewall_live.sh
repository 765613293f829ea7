#!/usr/bin/env bash
# iptables_rule / iptables_chain against the real iptables and ip6tables
# (nf_tables backend, and the legacy backend when the host has it), each
# case in its own network namespace made by this test, under `unshare -m`
# with an overlay on /etc (upper layer on a tmpfs): the host's rules and
# files are never touched.
#  - The renderer is canonical: every rule keel plans (`+-A ...`) is, byte
#    for byte, what iptables-save / ip6tables-save print once applied
#    (ports, ranges, multiport, icmp and icmpv6 types, state lists, LOG
#    prefixes and comments with spaces and quotes, REJECT defaults, nat and
#    mangle, a user chain, policies); a second apply changes nothing.
#  - A raw argument iptables prints in another form (`5/minute`) does not
#    loop: the second run finds it equal (iptables -C).
#  - A rule the kernel refuses (REJECT in nat) fails with iptables' own
#    message and leaves the live rules as they were; so does an unknown
#    match module (refused by --test).
#  - The legacy backend: when only iptables-legacy holds rules, keel manages
#    them there.
set -euo pipefail
KEEL=${KEEL:?}
KEEL_SRC=${KEEL_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
export NO_COLOR=1
if [ -z "${KEEL_FW_INNER:-}" ]; then
  [ "$(id -u)" = 0 ] || { echo "skip: needs root"; exit 77; }
  for c in ip iptables-restore iptables-save ip6tables-save unshare; do
    command -v "$c" >/dev/null || { echo "skip: no $c"; exit 77; }
  done
  pfx=keeltest-$$-fw
  t=$(mktemp -d /tmp/keel-fw-XXXXXX)
  trap 'for n in a b c d; do ip netns del "$pfx$n" 2>/dev/null || true; done; rm -rf "$t"' EXIT
  for n in a b c d; do
    ip netns add "$pfx$n" 2>/dev/null || { echo "skip: cannot create a network namespace"; exit 77; }
  done
  ip netns exec "${pfx}a" iptables-save >/dev/null 2>&1 || { echo "skip: iptables does not work in a namespace here"; exit 77; }
  rc=0
  KEEL_FW_INNER=1 PFX=$pfx T=$t unshare -m "$0" || rc=$?
  exit $rc
fi

fail() { echo "FAIL: $*" >&2; exit 1; }
mount --make-rprivate /
mkdir -p "$T/ov"
mount -t tmpfs keel-fw "$T/ov"
mkdir -p "$T/ov/upper" "$T/ov/work"
mount -t overlay overlay -o "lowerdir=/etc,upperdir=$T/ov/upper,workdir=$T/ov/work" /etc ||
  { echo "skip: no overlayfs for a private /etc"; exit 77; }
rm -rf /etc/iptables

k() { local ns=$1; shift; ip netns exec "$ns" "$KEEL" "$@" --state-dir "$T/state-$ns"; }
save() { ip netns exec "$1" "$2" 2>/dev/null | grep -v '^#'; }

# --- 1. canonical rendering, both families, several tables -------------
NS=${PFX}a
cat >"$T/varied.yaml" <<'Y'
resources:
  - iptables_chain: filter:INPUT
    policy: DROP
  - iptables_chain: filter:web-in
    family: both
  - iptables_rule: 010 loopback
    family: both
    iniface: lo
    jump: ACCEPT
  - iptables_rule: 020 established
    family: both
    state: [ESTABLISHED, RELATED]
    jump: ACCEPT
  - iptables_rule: 030 ping
    proto: icmp
    icmp_type: echo-request
    source: 192.168.10.7/24
    jump: ACCEPT
  - iptables_rule: 031 ping6
    family: ipv6
    proto: icmpv6
    icmp_type: neighbour-solicitation
    source: 2001:DB8:0:0::1/64
    jump: ACCEPT
  - iptables_rule: 040 web to its chain
    family: both
    proto: tcp
    dport: [80, 443, "8000:8080"]
    jump: web-in
  - iptables_rule: 050 high ports
    proto: udp
    sport: "1024:"
    dport: 53
    destination: 10.0.0.53
    jump: ACCEPT
  - iptables_rule: 060 log "odd" it's
    proto: tcp
    dport: 23
    jump: LOG
    log_prefix: 'telnet "in": '
  - iptables_rule: 070 throttle
    raw: -m limit --limit 5/min --limit-burst 7
    jump: LOG
  - iptables_rule: 080 reset
    family: both
    proto: tcp
    dport: 113
    jump: REJECT
    reject_with: tcp-reset
  - iptables_rule: 100 http in web-in
    family: both
    chain: web-in
    proto: tcp
    dport: 80
    state: NEW
    jump: ACCEPT
  - iptables_rule: 990 reject
    family: both
    jump: REJECT
    reject_with: icmp-host-prohibited
  - iptables_rule: 100 masquerade
    table: nat
    chain: POSTROUTING
    outiface: eth0
    proto: all
    jump: MASQUERADE
  - iptables_rule: 100 mark ssh
    table: mangle
    chain: PREROUTING
    proto: 6
    dport: 22
    jump: ACCEPT
  - iptables_rule: 200 gre forward
    chain: FORWARD
    proto: 47
    iniface: eth1
    outiface: eth2
    jump: ACCEPT
Y
rc=0; k "$NS" plan "$T/varied.yaml" --detailed-exitcodes >"$T/plan1.txt" || rc=$?
[ "$rc" = 2 ] || { cat "$T/plan1.txt"; fail "plan exit $rc"; }
[ -z "$(save "$NS" iptables-save)" ] || fail "plan created tables"
rc=0; k "$NS" apply "$T/varied.yaml" --detailed-exitcodes >"$T/apply1.txt" 2>&1 || rc=$?
[ "$rc" = 2 ] || { cat "$T/apply1.txt"; fail "apply exit $rc"; }
save "$NS" iptables-save >"$T/v4.txt"
save "$NS" ip6tables-save >"$T/v6.txt"
n=0
while IFS= read -r l; do
  n=$((n + 1))
  grep -qxF -- "$l" "$T/v4.txt" "$T/v6.txt" || { cat "$T/v4.txt" "$T/v6.txt"; fail "planned '$l' is not what iptables-save prints"; }
done < <(grep -- '^    +-A ' "$T/plan1.txt" | sed 's/^    +//' | sort -u)
[ "$n" -ge 15 ] || fail "only $n planned rule lines checked"
grep -qxF ':INPUT DROP [0:0]' "$T/v4.txt" || fail "policy"
grep -qxF -- '-A INPUT -m comment --comment "060 log \"odd\" it\'"'"'s" -p tcp -m tcp --dport 23 -j LOG' "$T/v4.txt" && fail "impossible order"
grep -qF -- '--log-prefix "telnet \"in\": "' "$T/v4.txt" || fail "log prefix quoting"
diff <(grep -v '^#' /etc/iptables/rules.v4) "$T/v4.txt" || fail "rules.v4 is not what iptables-save prints"
diff <(grep -v '^#' /etc/iptables/rules.v6) "$T/v6.txt" || fail "rules.v6 is not what ip6tables-save prints"
rc=0; k "$NS" apply "$T/varied.yaml" --detailed-exitcodes >"$T/apply2.txt" 2>&1 || rc=$?
[ "$rc" = 0 ] || { cat "$T/apply2.txt"; fail "second apply exit $rc, want 0"; }

# --- 2. a raw argument in another form than iptables prints: no loop ----
NS=${PFX}b
cat >"$T/raw.yaml" <<'Y'
resources:
  - iptables_rule: 070 throttle
    raw: -m limit --limit 5/minute
    jump: LOG
Y
k "$NS" apply "$T/raw.yaml" -q >/dev/null
save "$NS" iptables-save | grep -cF -- '-m limit --limit 5/min -m comment' >/dev/null || fail "raw rule not loaded"
rc=0; k "$NS" apply "$T/raw.yaml" --detailed-exitcodes >"$T/raw2.txt" 2>&1 || rc=$?
[ "$rc" = 0 ] || { cat "$T/raw2.txt"; fail "a non-canonical raw loops (exit $rc)"; }

# --- 3. refused rules: clear failure, live rules unchanged --------------
NS=${PFX}c
printf '*nat\n:PREROUTING ACCEPT [0:0]\n:INPUT ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n:POSTROUTING ACCEPT [0:0]\n-A POSTROUTING -o eth0 -j MASQUERADE\nCOMMIT\n*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n-A INPUT -i lo -j ACCEPT\nCOMMIT\n' |
  ip netns exec "$NS" iptables-restore
before=$(save "$NS" iptables-save | sha256sum)
nat_before=$(save "$NS" iptables-save | sed -n '/^\*nat/,/^COMMIT/p' | sha256sum)
cat >"$T/refused.yaml" <<'Y'
resources:
  - iptables_rule: 100 reject in nat
    table: nat
    chain: POSTROUTING
    jump: REJECT
  - iptables_rule: 100 fine in filter
    proto: tcp
    dport: 25
    jump: ACCEPT
Y
rc=0; k "$NS" apply "$T/refused.yaml" >"$T/refused.txt" 2>&1 || rc=$?
[ "$rc" = 1 ] || { cat "$T/refused.txt"; fail "refused rule: exit $rc, want 1"; }
grep -qF '! iptables_rule[100 reject in nat]' "$T/refused.txt" || { cat "$T/refused.txt"; fail "the refused rule did not fail"; }
grep -qF 'iptables-restore refused the nat table (commit), its live rules are unchanged' "$T/refused.txt" || { cat "$T/refused.txt"; fail "no clear message"; }
grep -qF 'RULE_APPEND failed (Invalid argument)' "$T/refused.txt" || { cat "$T/refused.txt"; fail "not iptables' own message"; }
grep -qF '! iptables_rule[100 fine in filter]' "$T/refused.txt" && { cat "$T/refused.txt"; fail "the filter table's rule failed with the nat table"; }
[ "$(save "$NS" iptables-save | sed -n '/^\*nat/,/^COMMIT/p' | sha256sum)" = "$nat_before" ] || fail "nat rules changed by a refused restore"
save "$NS" iptables-save | grep -cF -- '--comment "100 fine in filter"' >/dev/null || fail "the filter table was not restored"
printf 'resources:\n  - iptables_rule: 100 fine in filter\n    ensure: absent\n' >"$T/undo.yaml"
k "$NS" apply "$T/undo.yaml" -q >/dev/null
[ "$(save "$NS" iptables-save | sha256sum)" = "$before" ] || fail "undo did not restore the rules"
cat >"$T/unknown.yaml" <<'Y'
resources:
  - iptables_rule: 100 unknown module
    raw: -m nosuchmatch --frobnicate 3
    jump: ACCEPT
Y
rc=0; k "$NS" apply "$T/unknown.yaml" >"$T/unknown.txt" 2>&1 || rc=$?
[ "$rc" = 1 ] || { cat "$T/unknown.txt"; fail "unknown module: exit $rc, want 1"; }
grep -qF "iptables-restore refused the filter table (--test)" "$T/unknown.txt" || { cat "$T/unknown.txt"; fail "unknown module message"; }
grep -qF "nosuchmatch" "$T/unknown.txt" || { cat "$T/unknown.txt"; fail "message does not name the module"; }
[ "$(save "$NS" iptables-save | sha256sum)" = "$before" ] || fail "live rules changed by a refused --test"

# --- 4. legacy backend ---------------------------------------------------
NS=${PFX}d
if command -v iptables-legacy-restore >/dev/null &&
  printf '*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n-A INPUT -i lo -j ACCEPT\nCOMMIT\n' |
  ip netns exec "$NS" iptables-legacy-restore 2>/dev/null; then
  cat >"$T/legacy.yaml" <<'Y'
resources:
  - iptables_rule: 100 allow http
    proto: tcp
    dport: 80
    jump: ACCEPT
Y
  k "$NS" apply "$T/legacy.yaml" -q >/dev/null
  save "$NS" iptables-legacy-save | grep -cxF -- '-A INPUT -p tcp -m tcp --dport 80 -m comment --comment "100 allow http" -j ACCEPT' >/dev/null ||
    fail "legacy: rule not in iptables-legacy-save"
  save "$NS" iptables-legacy-save | grep -cxF -- '-A INPUT -i lo -j ACCEPT' >/dev/null || fail "legacy: unmanaged rule lost"
  [ -z "$(save "$NS" iptables-nft-save | grep -- '^-A' || true)" ] || fail "legacy: rules went to nf_tables too"
  rc=0; k "$NS" apply "$T/legacy.yaml" --detailed-exitcodes >/dev/null 2>&1 || rc=$?
  [ "$rc" = 0 ] || fail "legacy: second apply exit $rc"
else
  echo "note: no legacy iptables here; legacy case not run"
fi
echo "ok: live firewall cases passed"
