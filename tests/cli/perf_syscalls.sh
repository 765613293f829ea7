#!/bin/bash
# Issue 14: the system calls a no-op apply spends per managed file, counted
# with strace (a count, not a timing: stable on a busy machine). The
# marginal cost between 100 and 300 files is what each file adds: one
# confined open of its directory, one fstatat, one open, one fstat, one read
# and two closes (7); it was 24 when every file re-read /etc/passwd and
# /etc/group and opened the file twice. A cold apply writes the files in one
# batch: far fewer fsyncs than two per file.
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
r=$T/root-cold
mkdir -p "$r/etc"
strace -f -qq -o "$T/trace-cold" -e trace=fsync,fdatasync,syncfs \
  "$KEEL" apply "$T/site-300.yaml" --root "$r" --state-dir "$T/state-cold" -q >/dev/null 2>&1 ||
  fail "cold apply failed"
fsyncs=$(calls "$T/trace-cold")
echo "cold apply of 300 files: $fsyncs fsyncs"
# one per file (its temp file, issued together), a few per directory and for
# keel's state; not two per file
[ "$fsyncs" -le 330 ] || fail "cold apply made $fsyncs fsyncs for 300 files (want <= 330)"
[ "$(cat "$r/etc/bench/f0300.conf")" = "# bench file 0300
key_0300 = value" ] || fail "f0300.conf has the wrong content"
echo "ok"
