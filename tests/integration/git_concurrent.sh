#!/bin/bash
# Issue 13 item 1, the reported loop: 150 file resources with `source:
# data/fN`, `keel pull` looping in the background (two loops: two pulls at
# once) while commits land and 30 `keel apply --git` run on the same state
# dir. Every apply exits 0 or 2, no managed file is ever empty, and every
# apply's files all come from the one commit its report names.
. "$(dirname "$0")/../cli/lib.sh"
has_type file || skip "file type not registered"
command -v git >/dev/null || skip "git not installed"

N=150
REPO="$T/cfg.git"
g() { git -C "$REPO" -c user.name=t -c user.email=t@t "$@"; }
git init -q -b main "$REPO"
mkdir -p "$REPO/data"
{
  echo "resources:"
  for i in $(seq $N); do
    printf '  - file: /etc/stress/f%s\n    source: data/f%s\n' "$i" "$i"
  done
} >"$REPO/site.yaml"
# commit_gen G: every data file says generation G; records "sha G".
commit_gen() {
  for i in $(seq $N); do echo "gen $1 file $i" >"$REPO/data/f$i"; done
  g add -A && g commit -qm "gen $1"
  echo "$(g rev-parse HEAD) $1" >>"$T/gens"
}
commit_gen 0

R=$(mkroot)
mkdir -p "$R/etc/stress"
S="$T/state"
"$KEEL" apply --git "$REPO" --branch main --root "$R" --state-dir "$S" -q >/dev/null ||
  fail "first apply"

pull_loop() {
  while [ ! -e "$T/stop" ]; do
    "$KEEL" pull --git "$REPO" --branch main --state-dir "$S" --lock-timeout 60 -q \
      >/dev/null 2>>"$T/pull-$1.err" || echo "pull exit $?" >>"$T/pull-$1.fail"
  done
}
commit_loop() {
  local gen=1
  while [ ! -e "$T/stop" ] && [ $gen -le 12 ]; do
    sleep 2
    commit_gen $gen
    gen=$((gen + 1))
  done
}
pull_loop a &
pa=$!
pull_loop b &
pb=$!
commit_loop &
pc=$!
trap 'touch "$T/stop"; wait; rm -rf "$T"' EXIT

for k in $(seq 30); do
  rc=0
  "$KEEL" apply --git "$REPO" --branch main --root "$R" --state-dir "$S" --lock-timeout 60 \
    --detailed-exitcodes --format json >"$T/apply.json" 2>"$T/apply.err" || rc=$?
  if [ "$rc" != 0 ] && [ "$rc" != 2 ]; then
    fail "apply $k exited $rc: $(cat "$T/apply.err")"
  fi
  empty=$(find "$R/etc/stress" -type f -empty | head -3)
  [ -z "$empty" ] || fail "apply $k left empty files: $empty"
  commit=$(json_get "$T/apply.json" 'j["source"]["commit"]')
  gen=$(awk -v c="$commit" '$1 == c {print $2}' "$T/gens")
  [ -n "$gen" ] || fail "apply $k: commit $commit is not one of the repo's"
  mixed=$(grep -L "^gen $gen file " "$R"/etc/stress/f* | head -3)
  [ -z "$mixed" ] || fail "apply $k of gen $gen: files of another commit: $mixed"
  failed=$(json_get "$T/apply.json" 'j["summary"]["failed"]')
  assert_eq 0 "$failed" "failed resources in apply $k"
done
touch "$T/stop"
wait "$pa" "$pb" "$pc"
[ ! -s "$T/pull-a.fail" ] && [ ! -s "$T/pull-b.fail" ] ||
  fail "a pull failed: $(cat "$T"/pull-*.fail "$T"/pull-*.err 2>/dev/null | head -5)"
ls -a "$S/repo/trees" | grep -c '\.new\.' >/dev/null && fail "a .new checkout was left behind"
echo "git_concurrent: ok ($(wc -l <"$T/gens") commits)"
