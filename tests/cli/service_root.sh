#!/bin/bash
# service through the real keel binary on image roots (--root):
#  - sysvinit on a CentOS 6 shaped tree (/etc/rc.d/rcN.d, /etc/rcN.d and
#    /etc/init.d links, the K links `chkconfig --add` leaves at package
#    install): manifests/service-rngd.yaml gives S13rngd in 2345 and K87rngd
#    in 016, manifests/service-firstboot-off.yaml K95firstboot everywhere —
#    compared with the sets the real chkconfig 1.33 made from the same
#    scripts (recorded: tests/unit/data/service/chkconfig-1.33/README);
#    ensure is not managed in an image (no command runs: service_test.cc);
#  - systemd: a unit with [Install] WantedBy in a tree; enable/disable make
#    and remove the wants symlink with the real `systemctl --root`;
#  - both: plan changes no byte, second apply changes nothing, and
#    `keel resource service NAME --root` output applied changes nothing.
. "$(dirname "$0")/lib.sh"
has_type service || skip "service not registered"
DATA="$KEEL_SRC/tests/unit/data/service"

# links ROOT NAME: "level:entry->target" of NAME's rc links, sorted.
links() {
  local r=$1 n=$2 l f
  for l in 0 1 2 3 4 5 6; do
    for f in "$r/etc/rc.d/rc$l.d/"[SK][0-9][0-9]"$n"; do
      [ -L "$f" ] && echo "$l:${f##*/}->$(readlink "$f")"
    done
  done
}

# seed_centos ROOT: CentOS 6 layout with rngd (never enabled) and firstboot
# (as installed: S99 in 3 5, K95 elsewhere) installed.
seed_centos() {
  local r=$1 l
  mkdir -p "$r/etc/rc.d/init.d"
  echo "CentOS release 6.10 (Final)" >"$r/etc/redhat-release"
  ln -s rc.d/init.d "$r/etc/init.d"
  install -m 0755 "$DATA/rngd.init" "$r/etc/rc.d/init.d/rngd"
  install -m 0755 "$DATA/firstboot.init" "$r/etc/rc.d/init.d/firstboot"
  for l in 0 1 2 3 4 5 6; do
    mkdir -p "$r/etc/rc.d/rc$l.d"
    ln -s "rc.d/rc$l.d" "$r/etc/rc$l.d"
    ln -s ../init.d/rngd "$r/etc/rc.d/rc$l.d/K87rngd"  # as chkconfig --add leaves them
    case $l in 3 | 5) ln -s ../init.d/firstboot "$r/etc/rc.d/rc$l.d/S99firstboot" ;;
      *) ln -s ../init.d/firstboot "$r/etc/rc.d/rc$l.d/K95firstboot" ;; esac
    ln -s ../init.d/network "$r/etc/rc.d/rc$l.d/S10network"
  done
  assert_eq "$(cat "$DATA/chkconfig-1.33/rngd-add")" "$(links "$r" rngd)" "seeded rngd links"
  assert_eq "$(cat "$DATA/chkconfig-1.33/firstboot-add")" "$(links "$r" firstboot)" "seeded firstboot"
}

R=$(mkroot c6)
seed_centos "$R"
assert_exit 0 "$KEEL" facts --root "$R" --format json
assert_eq sysvinit "$(echo "$OUT" | json_get - 'j["init"]')" "init fact"
before=$(tree_sum "$R")
for m in service-rngd service-firstboot-off; do
  assert_exit 2 "$KEEL" plan "$KEEL_SRC/manifests/$m.yaml" --root "$R" --detailed-exitcodes
  assert_eq "$before" "$(tree_sum "$R")" "tree after plan of $m"
  assert_contains "$OUT" "changed 1, failed 0"
  assert_not_contains "$OUT" "ensure"
done
for m in service-rngd service-firstboot-off; do
  assert_exit 2 "$KEEL" apply "$KEEL_SRC/manifests/$m.yaml" --root "$R" --state-dir "$T/s" \
    --detailed-exitcodes
  assert_exit 0 "$KEEL" apply "$KEEL_SRC/manifests/$m.yaml" --root "$R" --state-dir "$T/s" \
    --detailed-exitcodes
done
assert_eq "$(cat "$DATA/chkconfig-1.33/rngd-on")" "$(links "$R" rngd)" "rngd links vs chkconfig"
assert_eq "$(cat "$DATA/chkconfig-1.33/firstboot-off")" "$(links "$R" firstboot)" \
  "firstboot links vs chkconfig"
assert_eq 7 "$(ls "$R"/etc/rc.d/rc?.d/S10network | wc -l)" "foreign links kept"
[ -L "$R/etc/rc3.d" ] || fail "/etc/rc3.d is no longer a link"

# keel resource prints what is there; applying it changes nothing.
for n in rngd firstboot; do
  assert_exit 0 "$KEEL" resource service "$n" --root "$R"
  { echo "resources:"; echo "$OUT" | sed "s/^/  /"; } >"$T/res-$n.yaml"
  assert_contains "$OUT" "- service: $n"
  assert_exit 0 "$KEEL" apply "$T/res-$n.yaml" --root "$R" --state-dir "$T/s" --detailed-exitcodes
done
assert_contains "$(cat "$T/res-rngd.yaml")" "enable: true"
assert_contains "$(cat "$T/res-firstboot.yaml")" "enable: false"

# A bad name is a load error with its place; nothing changes.
printf 'resources:\n  - service: ../../bin/sh\n    enable: true\n' >"$T/bad.yaml"
before=$(tree_sum "$R")
assert_exit 1 "$KEEL" apply "$T/bad.yaml" --root "$R" --state-dir "$T/s"
assert_contains "$ERR" "bad.yaml:2:"
assert_contains "$ERR" "not a valid init script or unit name"
assert_eq "$before" "$(tree_sum "$R")" "tree after a bad manifest"

# --- systemd --root ---------------------------------------------------------
command -v systemctl >/dev/null || skip "no systemctl (systemd half not tested)"
S=$(mkroot sd)
mkdir -p "$S/usr/lib/systemd/system" "$S/etc/systemd/system"
printf '#!/bin/sh\n' >"$S/usr/lib/systemd/systemd"
chmod 0755 "$S/usr/lib/systemd/systemd"
cat >"$S/usr/lib/systemd/system/rngd.service" <<'U'
[Unit]
Description=Hardware RNG Entropy Gatherer Daemon

[Service]
ExecStart=/sbin/rngd -f

[Install]
WantedBy=multi-user.target
U
assert_exit 0 "$KEEL" facts --root "$S" --format json
assert_eq systemd "$(echo "$OUT" | json_get - 'j["init"]')" "init fact"
WANTS="$S/etc/systemd/system/multi-user.target.wants/rngd.service"
before=$(tree_sum "$S")
assert_exit 2 "$KEEL" plan "$KEEL_SRC/manifests/service-rngd.yaml" --root "$S" --detailed-exitcodes
assert_eq "$before" "$(tree_sum "$S")" "tree after systemd plan"
assert_contains "$OUT" "service[rngd]"
assert_exit 2 "$KEEL" apply "$KEEL_SRC/manifests/service-rngd.yaml" --root "$S" --state-dir "$T/sd" \
  --detailed-exitcodes
[ -L "$WANTS" ] || fail "no wants link after enable"
assert_eq /usr/lib/systemd/system/rngd.service "$(readlink "$WANTS")" "wants link target"
assert_eq enabled "$(systemctl --root="$S" is-enabled rngd.service)" "systemctl is-enabled"
assert_exit 0 "$KEEL" apply "$KEEL_SRC/manifests/service-rngd.yaml" --root "$S" --state-dir "$T/sd" \
  --detailed-exitcodes
assert_exit 0 "$KEEL" resource service rngd --root "$S"
{ echo "resources:"; echo "$OUT" | sed "s/^/  /"; } >"$T/res-sd.yaml"
assert_contains "$OUT" "enable: true"
assert_exit 0 "$KEEL" apply "$T/res-sd.yaml" --root "$S" --state-dir "$T/sd" --detailed-exitcodes

printf 'resources:\n  - service: rngd\n    enable: false\n' >"$T/off.yaml"
before=$(tree_sum "$S")
assert_exit 2 "$KEEL" plan "$T/off.yaml" --root "$S" --detailed-exitcodes
assert_eq "$before" "$(tree_sum "$S")" "tree after disable plan"
assert_exit 2 "$KEEL" apply "$T/off.yaml" --root "$S" --state-dir "$T/sd" --detailed-exitcodes
[ ! -e "$WANTS" ] && [ ! -L "$WANTS" ] || fail "wants link left after disable"
assert_exit 0 "$KEEL" apply "$T/off.yaml" --root "$S" --state-dir "$T/sd" --detailed-exitcodes
# An unknown unit: systemctl's own message, a failure, no change.
printf 'resources:\n  - service: nosuch\n    enable: true\n' >"$T/nosuch.yaml"
assert_exit 1 "$KEEL" apply "$T/nosuch.yaml" --root "$S" --state-dir "$T/sd"
assert_contains "$OUT$ERR" "nosuch.service"
echo "ok: service --root (sysvinit links as chkconfig makes them, systemd wants links)"
