#!/bin/bash
# Issue 13 items 2-10 against real local repositories made with git: last
# good per (URL, branch or ref), confinement of manifests to the repo,
# failure reports, fetch age and --max-age, rewinds and --no-rewind,
# discarded local changes, relative --state-dir, repair of corrupt states,
# submodules, gc of repo.git, messages.
. "$(dirname "$0")/../cli/lib.sh"
has_type file || skip "file type not registered"
command -v git >/dev/null || skip "git not installed"

R=$(mkroot)
S="$T/state"
REPO="$T/cfg.git"
g() { git -C "$REPO" "$@"; }
git init -q -b main "$REPO"
g config user.email t@example.com
g config user.name t
g config protocol.file.allow always
motd() { printf 'resources:\n  - file: /etc/motd\n    content: "%s\\n"\n' "$1" >"$REPO/site.yaml"; }
motd one
g add site.yaml && g commit -qm one
c1=$(g rev-parse HEAD)
apply() { "$KEEL" apply --root "$R" --state-dir "$S" "$@"; }

assert_exit 0 apply --git "$REPO" --branch main
assert_file_eq "$R/etc/motd" "one
"

# --- 2: last good is per (URL, branch or ref) ---------------------------------
assert_exit 1 apply --git file:///nonexistent/other-team.git --branch staging --format json
assert_contains "$ERR" "does not exist"
assert_eq "file:///nonexistent/other-team.git" "$(echo "$OUT" | json_get - 'j["source"]["git_url"]')" "report url"
assert_eq "null" "$(echo "$OUT" | json_get - 'j["source"]["commit"]')" "no commit for another URL"
assert_eq "file:///nonexistent/other-team.git" "$(json_get "$S/last_run.json" 'j["source"]["git_url"]')" "last_run url"
assert_exit 1 apply --git "$REPO" --branch staging
assert_contains "$ERR" "no branch 'staging'"
mv "$REPO" "$T/away"
assert_exit 1 apply --git "$REPO" --ref "$c1"
assert_contains "$ERR" "no last good commit of $REPO ref $c1"
assert_exit 1 apply --git "$REPO"
assert_contains "$ERR" "(default branch)"
echo edited >"$R/etc/motd"
assert_exit 0 apply --git "$REPO" --branch main --format json
assert_eq "$c1" "$(echo "$OUT" | json_get - 'j["source"]["commit"]')" "fallback commit"
assert_contains "$(echo "$OUT" | json_get - 'j["warnings"]')" "last good commit"
assert_file_eq "$R/etc/motd" "one
"
mv "$T/away" "$REPO"

# --- 3: nothing is read outside the repo -------------------------------------
printf 'root:*:20228:SECRETLINE:0:99999:7:::\n' >"$T/shadow"
printf 'resources:\n  - file: /etc/outside\n    content: "outside\\n"\n' >"$T/outside.yaml"
mkdir -p "$T/local"
ln -s "$T/shadow" "$T/local/site.yaml"
assert_exit 1 "$KEEL" apply "$T/local" --root "$R" --state-dir "$S"
assert_contains "$ERR" "outside the config repo"
assert_not_contains "$ERR$OUT" "SECRETLINE" "errors"
rm "$T/local/site.yaml"
ln -s "$T/outside.yaml" "$T/local/site.yaml"
assert_exit 1 "$KEEL" apply "$T/local" --root "$R" --state-dir "$S"
rm "$T/local/site.yaml"
ln -s "$T/outside.yaml" "$T/local/inc.yaml"
printf 'include: [inc.yaml]\n' >"$T/local/site.yaml"
assert_exit 1 "$KEEL" apply "$T/local" --root "$R" --state-dir "$S"
assert_contains "$ERR" "outside the config repo"
printf "include: ['../../../../..$T/outside.yaml']\n" >"$T/local/site.yaml"
assert_exit 1 "$KEEL" apply "$T/local" --root "$R" --state-dir "$S"
assert_contains "$ERR" "outside the config repo"
ln -s "$T/shadow" "$T/local/data.yaml"
printf 'hierarchy: [data.yaml]\n' >"$T/local/site.yaml"
assert_exit 1 "$KEEL" apply "$T/local" --root "$R" --state-dir "$S"
assert_contains "$ERR" "outside the config repo"
assert_not_contains "$ERR$OUT" "SECRETLINE" "errors"
printf "hierarchy: ['$T/shadow']\n" >"$T/local/site.yaml"
assert_exit 1 "$KEEL" apply "$T/local" --root "$R" --state-dir "$S"
assert_not_contains "$ERR$OUT" "SECRETLINE" "errors"
[ ! -e "$R/etc/outside" ] || fail "a manifest outside the repo was applied"
# The same through --git: a committed link to a file outside.
git init -q -b main "$T/evil.git"
ln -s "$T/shadow" "$T/evil.git/site.yaml"
git -C "$T/evil.git" add site.yaml && git -C "$T/evil.git" -c user.name=t -c user.email=t@t commit -qm evil
assert_exit 1 apply --git "$T/evil.git" --branch main --format json
assert_contains "$ERR" "outside the config repo"
assert_not_contains "$ERR$OUT" "SECRETLINE" "errors and report"
assert_not_contains "$(cat "$S/last_run.json")" "SECRETLINE" "last_run.json"

# --- 8: an invalid commit: report written, current stays on the good tree ----
assert_exit 0 apply --git "$REPO" --branch main
good_tree=$(readlink "$S/repo/current")
printf 'resources:\n  - file: /etc/motd\n    bogus: 1\n' >"$REPO/site.yaml"
g commit -qam invalid
c2=$(g rev-parse HEAD)
assert_exit 1 apply --git "$REPO" --branch main --format json --report "$T/r.json"
assert_eq "$c2" "$(echo "$OUT" | json_get - 'j["source"]["commit"]')" "invalid commit in the report"
assert_contains "$(echo "$OUT" | json_get - 'j["errors"]')" "does not validate"
assert_eq "$c2" "$(json_get "$T/r.json" 'j["source"]["commit"]')" "--report"
assert_eq "$c2" "$(json_get "$S/last_run.json" 'j["source"]["commit"]')" "last_run.json"
assert_eq "$good_tree" "$(readlink "$S/repo/current")" "current after an invalid commit"
g revert --no-edit HEAD >/dev/null
c3=$(g rev-parse HEAD)
assert_exit 0 apply --git "$REPO" --branch main

# --- 4: the age of the last successful fetch; --max-age ----------------------
mv "$REPO" "$T/away"
sleep 2
assert_exit 0 apply --git "$REPO" --branch main --format json
w1=$(echo "$OUT" | json_get - 'j["warnings"]')
assert_exit 0 apply --git "$REPO" --branch main --format json
w2=$(echo "$OUT" | json_get - 'j["warnings"]')
age1=$(echo "$w1" | sed -n 's/.*last successful fetch \([0-9]*\) s ago.*/\1/p')
age2=$(echo "$w2" | sed -n 's/.*last successful fetch \([0-9]*\) s ago.*/\1/p')
[ -n "$age1" ] && [ "$age1" -ge 2 ] && [ "$age2" -ge "$age1" ] ||
  fail "fetch age not measured from the last fetch: [$w1] then [$w2]"
assert_exit 0 apply --git "$REPO" --branch main --max-age 1h
assert_exit 1 apply --git "$REPO" --branch main --max-age 1s --format json
assert_contains "$ERR" "--max-age"
assert_contains "$(json_get "$S/last_run.json" 'j["errors"]')" "--max-age"
assert_exit 1 apply --git "$REPO" --branch main --max-age soon
assert_contains "$ERR" "not a duration"
mv "$T/away" "$REPO"

# --- 5: a rewind is warned about; --no-rewind refuses it ---------------------
g reset -q --hard "$c1"
motd rewritten
g commit -qam rewritten
c4=$(g rev-parse HEAD)
assert_exit 1 apply --git "$REPO" --branch main --no-rewind
assert_contains "$ERR" "does not descend"
assert_file_eq "$R/etc/motd" "one
"
assert_exit 0 apply --git "$REPO" --branch main --format json
assert_contains "$(echo "$OUT" | json_get - 'j["warnings"]')" "does not descend from the last applied commit ${c3:0:12}"
assert_file_eq "$R/etc/motd" "rewritten
"
assert_exit 0 apply --git "$REPO" --branch main --format json
assert_eq "[]" "$(echo "$OUT" | json_get - 'j["warnings"]')" "no warning once applied"

# --- 6: every discarded local change is reported -----------------------------
mkdir -p "$REPO/data"
echo a >"$REPO/data/a" && echo b >"$REPO/data/b"
g add data && g commit -qm data
assert_exit 0 apply --git "$REPO" --branch main
cur="$S/repo/current"
echo edit >>"$cur/site.yaml"
rm "$cur/data/a"
echo new >"$cur/extra.txt"
before_tree=$(readlink "$cur")
assert_exit 0 apply --git "$REPO" --branch main --format json
w=$(echo "$OUT" | json_get - 'j["warnings"]')
assert_contains "$w" "discarded 3 local change(s)"
assert_contains "$w" "modified site.yaml"
assert_contains "$w" "deleted data/a"
assert_contains "$w" "new extra.txt"
[ "$(readlink "$cur")" != "$before_tree" ] || fail "the changed tree was rewritten in place"
[ ! -e "$S/repo/$before_tree" ] || fail "the old tree was not removed"

# --- 7: a relative --state-dir ------------------------------------------------
(cd "$T" && "$KEEL" apply --git "$REPO" --branch main --root "$R" --state-dir rel-state -q >/dev/null) ||
  fail "apply with a relative state dir"
(cd "$T" && "$KEEL" apply --git "$REPO" --branch main --root "$R" --state-dir rel-state \
  --format json >"$T/rel.json") || fail "second apply with a relative state dir"
assert_eq "[]" "$(json_get "$T/rel.json" 'j["warnings"]')" "warnings with a relative state dir"

# --- 9: corrupt states are repaired ------------------------------------------
head=$(g rev-parse HEAD)
rm -rf "$S/repo/repo.git/objects/pack" "$S/repo/repo.git/objects/"??
assert_exit 0 apply --git "$REPO" --branch main --format json
assert_contains "$(echo "$OUT" | json_get - 'j["warnings"]')" "repaired"
assert_eq "$head" "$(echo "$OUT" | json_get - 'j["source"]["commit"]')" "commit after repair"
t=$(readlink "$S/repo/current")
rm -rf "${S:?}/repo/$t" && echo junk >"$S/repo/$t"
assert_exit 0 apply --git "$REPO" --branch main
assert_file_eq "$R/etc/motd" "rewritten
"
rm "$S/repo/current" && mkdir "$S/repo/current"
assert_exit 0 apply --git "$REPO" --branch main --format json
assert_contains "$(echo "$OUT" | json_get - 'j["warnings"]')" "not a symlink"
[ -L "$S/repo/current" ] || fail "current not repaired"

# --- 10: submodules, --branch with --ref, messages, gc ------------------------
git init -q -b main "$T/sub.git"
git -C "$T/sub.git" -c user.name=t -c user.email=t@t commit -q --allow-empty -m sub
g -c protocol.file.allow=always submodule -q add "$T/sub.git" vendor 2>/dev/null
g commit -qm submodule
assert_exit 1 apply --git "$REPO" --branch main
assert_contains "$ERR" "submodule at vendor"
ls -a "$S/repo/trees" | grep -c '\.new\.' >/dev/null && fail "a .new dir was left behind"
assert_file_eq "$R/etc/motd" "rewritten
"
assert_exit 1 apply --git "$REPO" --branch main --ref "$c1"
assert_exit 1 "$KEEL" pull --git "$REPO" --branch main --ref "$c1" --dest "$T/p"
assert_exit 1 apply --git "$T/no-such-dir"
assert_contains "$ERR" "does not exist"
assert_not_contains "$ERR" "unsupported URL protocol"
git init -q -b trunk "$T/odd.git"
git -C "$T/odd.git" -c user.name=t -c user.email=t@t commit -q --allow-empty -m x
git -C "$T/odd.git" symbolic-ref HEAD refs/heads/gone
assert_exit 1 "$KEEL" pull --git "$T/odd.git" --dest "$T/p2"
assert_contains "$ERR" "no default branch"
# gc: a force-pushed-away blob leaves repo.git.
g reset -q --hard "$head"
head -c 300000 /dev/urandom >"$REPO/big.bin"
g add big.bin && g commit -qm big
blob=$(g rev-parse HEAD:big.bin)
assert_exit 0 apply --git "$REPO" --branch main
git -C "$S/repo/repo.git" cat-file -e "$blob" || fail "big blob not fetched"
g reset -q --hard "$head"
assert_exit 0 apply --git "$REPO" --branch main
git -C "$S/repo/repo.git" cat-file -e "$blob" 2>/dev/null && fail "force-pushed-away blob kept in repo.git"
ls "$S/repo" | grep -c 'repo.git.' >/dev/null && fail "gc left a repo.git.* dir"
assert_exit 0 apply --git "$REPO" --branch main --detailed-exitcodes
echo "git_safety: ok"
