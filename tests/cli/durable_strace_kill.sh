#!/bin/bash
# The real-process kill matrix (issue 12): strace delivers SIGKILL, or
# SIGTERM, to keel at its Nth fsync and at its Nth rename, for every N of a
# clean run (a file, two editing types on one file, a notify chain of
# execs). After each killed run, then a clean run:
#  - each managed file held its old or its new content after the kill;
#  - the clean run converges, every refresh is delivered at least once and
#    the chain in order (A before C), nothing stays owed;
#  - no temp file is left in the state dir or /etc; the lock is free
#    (--lock-timeout 0 succeeds);
#  - a SIGTERM run that exits 143 has last_run.json marked interrupted.
# Prints the figures: trials, lost refreshes, extra refreshes.
. "$(dirname "$0")/lib.sh"
has_type file && has_type exec && has_type line && has_type shellvar ||
  skip "file, exec, line and shellvar types needed"
command -v strace >/dev/null || skip "strace not installed"
strace -o /dev/null true 2>/dev/null || skip "ptrace not permitted here"
# LeakSanitizer refuses to run under ptrace (the sanitizer build sets
# detect_leaks=1): leaks are checked by the other tests, not under strace.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"

cat >"$T/site.yaml" <<'Y'
resources:
  - file: /etc/a
    content: "new a\n"
    notify: exec[A]
  - shellvar: /etc/cfg:X
    value: "2"
    notify: exec[B]
  - line: added
    path: /etc/cfg
    line: added
    notify: exec[B]
  - exec: A
    command: "echo A >> $KEEL_ROOT/refresh.log"
    refreshonly: true
    chroot: false
    notify: exec[C]
  - exec: B
    command: "echo B >> $KEEL_ROOT/refresh.log"
    refreshonly: true
    chroot: false
  - exec: C
    command: "echo C >> $KEEL_ROOT/refresh.log"
    refreshonly: true
    chroot: false
Y

fresh() {
  rm -rf "$T/r"
  mkdir -p "$T/r/etc"
  printf 'old a\n' >"$T/r/etc/a"
  printf '# keep me\nX=1\n' >"$T/r/etc/cfg"
}

# Count the points of a clean run (the main thread: --jobs 1).
fresh
strace -o "$T/trace" -e trace=fsync,rename,renameat,renameat2 \
  "$KEEL" apply "$T/site.yaml" --root "$T/r" >/dev/null 2>&1 || fail "clean run failed"
n_fsync=$(grep -c '^fsync(' "$T/trace")
rename_call=$(grep -o '^rename[a-z0-9]*(' "$T/trace" | head -1 | tr -d '(')
n_rename=$(grep -c "^$rename_call(" "$T/trace")
[ "$n_fsync" -gt 5 ] && [ "$n_rename" -gt 3 ] || fail "few points: $n_fsync fsync, $n_rename rename"

trials=0 lost=0 extra=0 broken=0
for sig in KILL TERM; do
  for call in fsync "$rename_call"; do
    n_max=$n_fsync
    [ "$call" = fsync ] || n_max=$n_rename
    for n in $(seq 1 "$n_max"); do
      trials=$((trials + 1))
      fresh
      (strace -o /dev/null -e trace="$call" -e inject="$call":signal="$sig":when="$n" \
        "$KEEL" apply "$T/site.yaml" --root "$T/r" >"$T/killed.out" 2>&1) 2>/dev/null
      rc=$?
      a=$(cat "$T/r/etc/a")
      cfg=$(cat "$T/r/etc/cfg")
      where="$sig at $call #$n (exit $rc)"
      case "$a" in "old a" | "new a") ;; *) fail "$where: /etc/a is [$a]" ;; esac
      # Two resources edit /etc/cfg: each edit wholly there or not.
      case "$cfg" in $'# keep me\nX=1' | $'# keep me\nX=2\nadded' | $'# keep me\nX=2' | \
        $'# keep me\nX=1\nadded') ;;
        *) fail "$where: /etc/cfg is [$cfg]" ;;
      esac
      if [ "$sig" = TERM ] && [ "$rc" = 143 ]; then
        [ "$(json_get "$T/r/var/lib/keel/last_run.json" 'j["interrupted"]["signal"]')" = SIGTERM ] ||
          fail "$where: last_run.json not marked interrupted"
      fi
      # The clean run: lock free, converges, delivers what is owed.
      "$KEEL" apply "$T/site.yaml" --root "$T/r" --lock-timeout 0 >"$T/next.out" 2>&1
      rc2=$?
      [ "$rc2" = 0 ] || fail "$where: the next run exited $rc2: $(cat "$T/next.out")"
      assert_file_eq "$T/r/etc/a" "new a
"
      log=$(cat "$T/r/refresh.log" 2>/dev/null || true)
      for x in A B C; do
        c=$(grep -c "^$x\$" <<<"$log" || true)
        if [ "$c" = 0 ]; then
          lost=$((lost + 1))
          echo "LOST: $where: refresh $x (log: $log)" >&2
        fi
        [ "$c" -gt 1 ] && extra=$((extra + c - 1))
      done
      first_a=$(grep -n '^A$' <<<"$log" | head -1 | cut -d: -f1)
      first_c=$(grep -n '^C$' <<<"$log" | head -1 | cut -d: -f1)
      if [ -n "$first_a" ] && [ -n "$first_c" ] && [ "$first_a" -gt "$first_c" ]; then
        broken=$((broken + 1))
        echo "ORDER: $where: C before A" >&2
      fi
      [ ! -e "$T/r/var/lib/keel/owed_refreshes" ] || fail "$where: still owed after the next run"
      left=$(find "$T/r/var/lib/keel" "$T/r/etc" -name '.keel-*')
      [ -z "$left" ] || fail "$where: temp files left: $left"
    done
  done
done
echo "strace kill matrix: $trials trials ($n_fsync fsync and $n_rename $rename_call points," \
  "SIGKILL and SIGTERM), $lost lost refreshes, $extra extra refreshes, $broken out of order"
[ "$lost" = 0 ] && [ "$broken" = 0 ] || fail "refreshes lost or out of order"
echo ok
