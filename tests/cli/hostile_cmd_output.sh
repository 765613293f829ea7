#!/bin/bash
# Hostile user, what providers read from the root (issue 11): the files
# facts and providers read (os-release, hostname, passwd, modules.builtin,
# grub files, init scripts, the dpkg database, persisted iptables rules)
# replaced by a FIFO, random binary or a 5 MB line.
# `keel facts` and `keel plan` end (no hang), never die by a signal, exit as
# SPEC 5 says, and change no byte. The package manager runs on the build
# machine with root+path: a FIFO as its database is refused at once (it
# blocked dpkg-query for 300 s), so is a --facts FIFO, and a symlink on its paths leading out of
# the root (relative ones too) is refused before anything runs.
. "$(dirname "$0")/lib.sh"

{
  echo resources:
  has_type file && printf '  - file: /etc/a\n    content: "x\\n"\n    owner: app\n    group: app\n'
  has_type kernel_parameter && printf '  - kernel_parameter: quiet\n'
  has_type service && printf '  - service: rngd\n    enable: true\n'
  has_type iptables_rule && printf '  - iptables_rule: "100 http"\n    proto: tcp\n    dport: 80\n    jump: ACCEPT\n'
  has_type package && printf '  - package: foo\n    ensure: absent\n    provider: dpkg\n'
} >"$T/m.yaml"

files="etc/os-release etc/redhat-release etc/debian_version etc/hostname etc/sysconfig/network
etc/passwd etc/group lib/modules/5.0/modules.builtin boot/grub/grub.conf etc/default/grub
boot/grub2/grub.cfg etc/init.d/rngd var/lib/dpkg/status etc/sysconfig/iptables
etc/iptables/rules.v4 etc/machine-id"
n=0
for kind in fifo binary longline; do
  for f in $files; do
    R="$T/r"
    rm -rf "$R"
    mkdir -p "$R/etc/sysconfig" "$R/lib/modules/5.0" "$R/boot/grub" "$R/boot/grub2" \
      "$R/etc/init.d" "$R/var/lib/dpkg" "$R/etc/iptables" "$R/etc/default"
    printf 'root:x:0:0::/root:/bin/sh\napp:x:5:5::/:/bin/sh\n' >"$R/etc/passwd"
    printf 'root:x:0:\napp:x:5:\n' >"$R/etc/group"
    rm -rf "${R:?}/$f"
    case $kind in
      fifo) mkfifo "$R/$f" ;;
      dir) mkdir -p "$R/$f" ;;
      binary) head -c 200000 /dev/urandom >"$R/$f" ;;
      longline) python3 -c "import sys; sys.stdout.write('ID=' + 'x' * 5000000)" >"$R/$f" ;;
      nul) printf 'ID=cen\0tos\nVERSION_ID="7\0"\n# chkconfig: 2345 1\0 2\nroot:x:0:0\0::/:/bin/sh\n' >"$R/$f" ;;
    esac
    sum=$(tree_sum "$R")
    if [ "$kind" = fifo ]; then
      run_limited 30 "$KEEL" facts --root "$R"
      case $RC in 0 | 1) ;; *) fail "$kind $f: keel facts exit $RC: $ERR" ;; esac
    fi
    run_limited 30 "$KEEL" plan "$T/m.yaml" --root "$R" --detailed-exitcodes
    case $RC in 0 | 2 | 4 | 6) ;; *) fail "$kind $f: keel plan exit $RC: $OUT $ERR" ;; esac
    assert_eq "$sum" "$(tree_sum "$R")" "$kind $f: tree after facts and plan"
    n=$((n + 1))
  done
done

# --facts FILE that is a FIFO, a device or a directory: refused at once
# (a FIFO or /dev/zero hung keel; a directory was read as no facts).
printf 'resources: []\n' >"$T/empty.yaml"
mkfifo "$T/facts.fifo"
for f in "$T/facts.fifo" /dev/zero "$T"; do
  run_limited 20 "$KEEL" validate "$T/empty.yaml" --facts "$f"
  assert_eq 1 "$RC" "validate --facts $f"
  assert_contains "$ERR" "$f: facts file is not a regular file"
  run_limited 20 "$KEEL" facts --facts "$f"
  assert_eq 1 "$RC" "facts --facts $f"
done
# A manifest that is a FIFO or a device: refused at once (it blocked
# `keel validate` forever).
mkfifo "$T/site.fifo"
run_limited 20 "$KEEL" validate "$T/site.fifo"
assert_eq 1 "$RC" "validate of a FIFO manifest"
assert_contains "$ERR" "not a regular file"
run_limited 20 "$KEEL" validate /dev/zero
assert_eq 1 "$RC" "validate of /dev/zero"

if has_type package && command -v dpkg-deb >/dev/null && command -v dpkg-query >/dev/null; then
  # A FIFO as the dpkg database: a clear failure at once, not a 300 s wait.
  R=$(mkroot pkg-fifo)
  mkdir -p "$R/var/lib/dpkg"
  mkfifo "$R/var/lib/dpkg/status"
  printf 'resources:\n  - package: foo\n    ensure: absent\n' >"$T/p.yaml"
  start=$(date +%s)
  run_limited 60 "$KEEL" plan "$T/p.yaml" --root "$R" --detailed-exitcodes
  assert_eq 4 "$RC" "plan on a FIFO dpkg database: $OUT $ERR"
  assert_contains "$OUT" "/var/lib/dpkg/status in the root is not a regular file"
  [ $(($(date +%s) - start)) -lt 20 ] || fail "the FIFO dpkg database made keel wait"

  # Links on dpkg's paths leading out of the root: dpkg --root would
  # follow them on the build machine (the host's dpkg database and log).
  mkdir -p "$T/repo/deb/DEBIAN"
  printf 'Package: keel-hx\nVersion: 1.0\nArchitecture: all\nMaintainer: k <k@e.org>\nDescription: t\n' \
    >"$T/repo/deb/DEBIAN/control"
  dpkg-deb --root-owner-group -b "$T/repo/deb" "$T/repo/k.deb" >/dev/null || fail "dpkg-deb"
  printf 'resources:\n  - package: keel-hx\n    source: k.deb\n    provider: dpkg\n' >"$T/repo/site.yaml"
  for v in log lib/dpkg; do
    R=$(mkroot "pkg-${v//\//-}")
    mkdir -p "$R/var/lib/dpkg" "$R/var/log"
    : >"$R/var/lib/dpkg/status"
    rm -rf "${R:?}/var/$v"
    ln -s "../../../../../../../../../../../../var/$v" "$R/var/$v"
    sum=$(tree_sum "$R")
    run_limited 60 "$KEEL" plan "$T/repo/site.yaml" --root "$R" --detailed-exitcodes
    assert_eq 4 "$RC" "plan with /var/$v leading out: $OUT $ERR"
    assert_contains "$OUT" "/var/$v in the root leads outside it"
    run_limited 60 "$KEEL" apply "$T/repo/site.yaml" --root "$R" --detailed-exitcodes --state-dir "$T/state"
    assert_eq 4 "$RC" "apply with /var/$v leading out: $OUT $ERR"
    assert_contains "$OUT" "/var/$v in the root leads outside it"
    assert_eq "$sum" "$(tree_sum "$R")" "tree after the refused install"
  done
fi
echo "hostile_cmd_output: ok ($n garbage files)"
