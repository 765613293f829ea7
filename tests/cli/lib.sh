# Shared helpers for the CLI tests (tests/cli/cli_*.sh); other shell tests may
# source it too:  . "$(dirname "$0")/lib.sh"   (or "$KEEL_SRC/tests/cli/lib.sh").
#
# Environment: KEEL = the keel binary (default: a build dir's keel),
# KEEL_SRC = the source tree. Every test gets a private temp dir $T that is
# removed at exit. Exit 77 means "skipped" to ctest.

set -u
set -o pipefail

KEEL_SRC=${KEEL_SRC:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
if [ -z "${KEEL:-}" ]; then
  for cand in "$KEEL_SRC"/build/keel "$KEEL_SRC"/build-*/keel; do
    if [ -x "$cand" ]; then KEEL=$cand; break; fi
  done
fi
if [ -z "${KEEL:-}" ] || [ ! -x "$KEEL" ]; then
  echo "lib.sh: set KEEL to the keel binary" >&2
  exit 1
fi
export KEEL KEEL_SRC
export NO_COLOR=1

T=$(mktemp -d /tmp/keel-cli-XXXXXX)
trap 'rm -rf "$T"' EXIT

_fails=0
_name=${0##*/}

# fail MSG: report a failure and stop the test.
fail() {
  echo "FAIL [$_name]: $*" >&2
  exit 1
}

# sanitized: true when $KEEL is an ASan/TSan/MSan build, whose memory
# figures (shadow memory, quarantine) say nothing about keel's own: tests
# skip their peak-RSS bounds there, and keep every other check.
# (Not `ldd | grep -q`: under pipefail, grep leaving early can kill ldd
# with SIGPIPE and make the pipeline false at random.)
sanitized() {
  case "$(ldd "$KEEL" 2>/dev/null)" in
    *libasan* | *libtsan* | *libmsan*) return 0 ;;
    *) return 1 ;;
  esac
}

# skip MSG: the test cannot run here (exit 77).
skip() {
  echo "SKIP [$_name]: $*" >&2
  exit 77
}

# assert_eq EXPECTED ACTUAL [WHAT]
assert_eq() {
  if [ "$1" != "$2" ]; then
    fail "${3:-value}: expected [$1], got [$2]"
  fi
}

# assert_contains HAYSTACK NEEDLE [WHAT]
assert_contains() {
  case "$1" in
    *"$2"*) ;;
    *) fail "${3:-output} does not contain [$2]; it was:
$1" ;;
  esac
}

# assert_not_contains HAYSTACK NEEDLE [WHAT]
assert_not_contains() {
  case "$1" in
    *"$2"*) fail "${3:-output} contains [$2]; it was:
$1" ;;
    *) ;;
  esac
}

# assert_file_eq PATH EXPECTED_CONTENT
assert_file_eq() {
  [ -f "$1" ] || fail "$1 does not exist"
  local got
  got=$(cat "$1"; echo x)
  got=${got%x}
  assert_eq "$2" "$got" "content of $1"
}

# assert_exit CODE CMD...: runs CMD, checks its exit code; its stdout is in
# $OUT and its stderr in $ERR afterwards.
assert_exit() {
  local want=$1
  shift
  run "$@"
  if [ "$RC" != "$want" ]; then
    fail "'$*' exited $RC, expected $want
stdout: $OUT
stderr: $ERR"
  fi
}

# run CMD...: runs CMD; sets $RC, $OUT, $ERR.
run() {
  RC=0
  "$@" >"$T/.out" 2>"$T/.err" || RC=$?
  OUT=$(cat "$T/.out")
  ERR=$(cat "$T/.err")
}

# run_limited SECS CMD...: like run, but the command is killed after SECS
# seconds, and being killed or dying by a signal (exit >= 124) fails the
# test: hostile input must give an error, never a hang or a crash. NUL
# bytes of the output are dropped (binary input may be echoed).
run_limited() {
  local secs=$1
  shift
  RC=0
  timeout -s KILL "$secs" "$@" >"$T/.out" 2>"$T/.err" || RC=$?
  OUT=$(tr -d '\0' <"$T/.out")
  ERR=$(tr -d '\0' <"$T/.err")
  [ "$RC" -lt 124 ] || fail "'$*' was killed or died by a signal (exit $RC)
stdout: $(head -c 2000 "$T/.out" | tr -d '\0')
stderr: $(head -c 2000 "$T/.err" | tr -d '\0')"
}

# mkroot [NAME]: creates an empty root tree under $T and prints its path.
mkroot() {
  local d="$T/${1:-root}"
  mkdir -p "$d/etc" "$d/tmp"
  echo "testhost" >"$d/etc/hostname"
  printf 'root:x:0:0:root:/root:/bin/bash\n' >"$d/etc/passwd"
  printf 'root:x:0:\n' >"$d/etc/group"
  echo "$d"
}

# tree_sum DIR: one checksum of every entry under DIR: path, type, mode,
# owner, link target and content. Equal sums = byte-identical trees.
tree_sum() {
  (
    cd "$1" || exit 1
    find . -printf '%p %y %m %U %G %l\n' | LC_ALL=C sort
    find . -type f -print0 | LC_ALL=C sort -z | xargs -0 -r sha256sum
  ) | sha256sum | cut -d' ' -f1
}

# json_get FILE_OR_- EXPR: evaluates a Python expression over the JSON
# document `j` and prints the result (strings raw, others as JSON).
json_get() {
  local src=$1 expr=$2
  python3 -c '
import json, sys
src, expr = sys.argv[1], sys.argv[2]
j = json.load(sys.stdin if src == "-" else open(src))
v = eval(expr)
print(v if isinstance(v, str) else json.dumps(v))
' "$src" "$expr"
}

# has_type NAME: true when keel registers resource type NAME.
has_type() {
  "$KEEL" types 2>/dev/null | awk '{print $1}' | grep -cx "$1" >/dev/null
}
