#!/bin/bash
# Issue 14: the system calls a no-op apply spends per managed file, counted
# with strace (a count, not a timing: stable on a busy machine). The
# marginal cost between 100 and 300 files is what each file adds: one
# confined open of its directory, one fstatat, one open, one fstat, one read
# and two closes (7); it was 24 when every file re-read /etc/passwd and
# /etc/group and opened the file twice. A cold apply writes the files in one
# batch made durable by one syncfs, not two fsyncs per file.
. "$(dirname "$0")/lib.sh"
has_type file || skip "file type needed"
command -v strace >/dev/null || skip "strace not installed"
strace -o /dev/null true 2>/dev/null || skip "ptrace not permitted here"
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"

manifest() {  # N -> $T/site-N.yaml: a directory and N files of two lines
  {
    echo "resources:"
    echo "  - file: /etc/bench"
    echo "    ensure: directory"
    for i in $(seq 1 "$1"); do
      printf '  - file: /etc/bench/f%04d.conf\n    mode: "0644"\n' "$i"
      printf '    content: "# bench file %04d\\nkey_%04d = value\\n"\n' "$i" "$i"
    done
  } >"$T/site-$1.yaml"
}

# calls TRACE -> the system calls started in an strace -f log (a call that
# another thread interrupts is logged twice: "<unfinished ...>", "resumed")
calls() { grep -cE '^[0-9]+ +[a-z0-9_]+\(' "$1"; }

# syscalls N -> the number of file-related system calls of a no-op apply
syscalls() {
  local n=$1 r=$T/root-$1
  rm -rf "$r" "$T/state-$n"
  mkdir -p "$r/etc"
  printf 'root:x:0:0:root:/root:/bin/sh\n' >"$r/etc/passwd"
  printf 'root:x:0:\n' >"$r/etc/group"
  manifest "$n"
  "$KEEL" apply "$T/site-$n.yaml" --root "$r" --state-dir "$T/state-$n" -q >/dev/null 2>&1 ||
    fail "cold apply of $n files failed"
  strace -f -qq -o "$T/trace-$n" -e trace=open,openat,openat2,newfstatat,fstat,statx,read,fcntl,close \
    "$KEEL" apply "$T/site-$n.yaml" --root "$r" --state-dir "$T/state-$n" --detailed-exitcodes \
    >"$T/out" 2>&1 || fail "no-op apply of $n files changed something or failed: $(cat "$T/out")"
  calls "$T/trace-$n"
}

a=$(syscalls 100)
b=$(syscalls 300)
per_file=$(((b - a) / 200))
echo "no-op apply: $a system calls for 100 files, $b for 300: $per_file per file"
[ "$per_file" -le 8 ] || fail "a no-op apply spends $per_file file system calls per file (want <= 8)"

# A no-op run waits for the disk not once: the run marker is written only
# before a first change, the reserve is not synced, and the report of a run
# that changed nothing is replaced atomically without fsync.
strace -f -qq -o "$T/trace-noop-sync" -e trace=fsync,fdatasync,syncfs,sync,sync_file_range \
  "$KEEL" apply "$T/site-300.yaml" --root "$T/root-300" --state-dir "$T/state-300" \
  --detailed-exitcodes >"$T/out" 2>&1 || fail "no-op apply changed something: $(cat "$T/out")"
noop_syncs=$(calls "$T/trace-noop-sync")
echo "no-op apply: $noop_syncs fsyncs"
[ "$noop_syncs" = 0 ] || fail "a no-op apply made $noop_syncs fsyncs: $(grep -E 'sync' "$T/trace-noop-sync" | head -5)"
grep -q '"changed": 0' "$T/state-300/last_run.json" || fail "the no-op run's report was not written"
grep -q in_progress "$T/state-300/last_run.json" && fail "the no-op run left its marker"

# Cold: the 300 files are synced together; the directory once per batch.
# A batch of 64 files or more is made durable by one syncfs(2) of the file
# system, not an fsync per file (engine/atomic_file.cc, kSyncfsFrom).
fresh_cold() {
  rm -rf "$T/root-cold" "$T/state-cold"
  mkdir -p "$T/root-cold/etc"
}
bench_ok() {  # every file complete
  for i in 0001 0150 0300; do
    [ "$(cat "$T/root-cold/etc/bench/f$i.conf")" = "# bench file $i
key_$i = value" ] || fail "$1: f$i.conf has the wrong content"
  done
}
fresh_cold
strace -f -qq -o "$T/trace-cold" -e trace=fsync,fdatasync,syncfs \
  "$KEEL" apply "$T/site-300.yaml" --root "$T/root-cold" --state-dir "$T/state-cold" -q >/dev/null 2>&1 ||
  fail "cold apply failed"
syncs=$(calls "$T/trace-cold")
n_syncfs=$(grep -cE '^[0-9]+ +syncfs\(' "$T/trace-cold" || true)
echo "cold apply of 300 files: $syncs syncs, of which $n_syncfs syncfs"
[ "$n_syncfs" -ge 1 ] || fail "a cold apply of 300 files made no syncfs"
# a few per directory and for keel's state; not one per file
[ "$syncs" -le 30 ] || fail "cold apply made $syncs syncs for 300 files (want <= 30)"
bench_ok "cold apply"

# 1,000 files: one batch, one syncfs, even when the soft descriptor limit
# (512 here) is below the two descriptors each write holds until its rename:
# keel raises it toward the hard limit for the batch (four chunks and four
# journal commits before). Under a hard limit of 300 the batch is cut into
# chunks that fit, each file still written whole.
manifest 1000
fresh_cold
( ulimit -Sn 512 &&
  strace -f -qq -o "$T/trace-1000" -e trace=syncfs,setrlimit,prlimit64 \
    "$KEEL" apply "$T/site-1000.yaml" --root "$T/root-cold" --state-dir "$T/state-cold" -q \
    >"$T/out" 2>&1 ) || fail "cold apply of 1000 files under ulimit -Sn 512 failed: $(cat "$T/out")"
n_syncfs=$(grep -cE '^[0-9]+ +syncfs\(' "$T/trace-1000" || true)
echo "cold apply of 1000 files, soft limit 512: $n_syncfs syncfs"
[ "$n_syncfs" = 1 ] || fail "1000 new files took $n_syncfs syncfs (want 1: one batch)"
[ "$(ls "$T/root-cold/etc/bench" | wc -l)" = 1000 ] || fail "not 1000 files written"
bench_ok "1000 files, soft limit 512"
fresh_cold
( ulimit -n 300 &&
  "$KEEL" apply "$T/site-1000.yaml" --root "$T/root-cold" --state-dir "$T/state-cold" -q \
    >"$T/out" 2>&1 ) || fail "cold apply of 1000 files under ulimit -n 300 failed: $(cat "$T/out")"
[ "$(ls -A "$T/root-cold/etc/bench" | wc -l)" = 1000 ] || fail "hard limit 300: not 1000 files, or a temp file left"
bench_ok "1000 files, hard limit 300"
( ulimit -n 300 &&
  "$KEEL" apply "$T/site-1000.yaml" --root "$T/root-cold" --state-dir "$T/state-cold" \
    --detailed-exitcodes >"$T/out" 2>&1 ) || fail "hard limit 300: the second apply changed something"

# syncfs failing (EIO injected): each file is fsynced on its own, which
# names the file whose data was lost; here each fsync succeeds.
fresh_cold
strace -f -qq -o "$T/trace-eio" -e trace=fsync,syncfs -e inject=syncfs:error=EIO \
  "$KEEL" apply "$T/site-300.yaml" --root "$T/root-cold" --state-dir "$T/state-cold" -q >/dev/null 2>&1 ||
  fail "cold apply with a failing syncfs failed"
n_fsync=$(grep -cE '^[0-9]+ +fsync\(' "$T/trace-eio" || true)
echo "syncfs failing: $n_fsync fsyncs"
[ "$n_fsync" -ge 300 ] || fail "a failed syncfs was not followed by an fsync of each file ($n_fsync)"
bench_ok "syncfs failing"

# Killed at the syncfs: no file is half written; the next run converges.
fresh_cold
(strace -f -qq -o /dev/null -e trace=syncfs -e inject=syncfs:signal=KILL:when=1 \
  "$KEEL" apply "$T/site-300.yaml" --root "$T/root-cold" --state-dir "$T/state-cold" -q \
  >/dev/null 2>&1) 2>/dev/null && fail "the run killed at its syncfs exited 0"
for f in "$T/root-cold/etc/bench/"*; do
  [ -e "$f" ] || continue
  case "$(basename "$f")" in
    .keel-*) continue ;;  # a temp file left by the kill: never the target
  esac
  n=$(basename "$f" .conf)
  n=${n#f}
  [ "$(cat "$f")" = "# bench file $n
key_$n = value" ] || fail "killed at syncfs: $f is [$(cat "$f")]"
done
"$KEEL" apply "$T/site-300.yaml" --root "$T/root-cold" --state-dir "$T/state-cold" -q \
  --lock-timeout 0 >"$T/out" 2>&1 || fail "the run after the kill failed: $(cat "$T/out")"
bench_ok "after the kill"
echo "ok"
