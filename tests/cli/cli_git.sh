#!/bin/bash
# keel apply/plan --git and keel pull against a local repository.
. "$(dirname "$0")/lib.sh"
has_type file || skip "file type not registered"
command -v git >/dev/null || skip "git not installed"

R=$(mkroot)
S="$T/state"
REPO="$T/repo"
git init -q -b production "$REPO"
git -C "$REPO" config user.email t@example.com
git -C "$REPO" config user.name t
cat >"$REPO/site.yaml" <<'Y'
resources:
  - file: /etc/motd
    content: "from git\n"
Y
git -C "$REPO" add site.yaml
git -C "$REPO" commit -q -m one
c1=$(git -C "$REPO" rev-parse HEAD)

# plan --git: changes nothing, writes no state dir.
before=$(tree_sum "$R")
assert_exit 2 "$KEEL" plan --git "$REPO" --branch production --root "$R" --state-dir "$S" --detailed-exitcodes
assert_contains "$OUT" "file[/etc/motd]"
assert_eq "$before" "$(tree_sum "$R")" "tree after plan --git"
[ ! -e "$S" ] || fail "plan --git wrote the state dir"

# apply --git: converges, the report names the URL and the commit.
assert_exit 0 "$KEEL" apply --git "$REPO" --branch production --root "$R" --state-dir "$S" --format json
assert_eq "$REPO" "$(echo "$OUT" | json_get - 'j["source"]["git_url"]')" git_url
assert_eq "$c1" "$(echo "$OUT" | json_get - 'j["source"]["commit"]')" commit
assert_eq "site.yaml" "$(echo "$OUT" | json_get - 'j["source"]["path"]')" source.path
assert_file_eq "$R/etc/motd" "from git
"

# A commit that does not validate: nothing applied, the run names the commit.
cat >"$REPO/site.yaml" <<'Y'
resources:
  - file: /etc/motd
    content: "broken\n"
    bogus: 1
Y
git -C "$REPO" commit -q -am two
c2=$(git -C "$REPO" rev-parse HEAD)
assert_exit 1 "$KEEL" apply --git "$REPO" --branch production --root "$R" --state-dir "$S"
assert_contains "$ERR" "$c2"
assert_contains "$ERR" "site.yaml:4:"
assert_file_eq "$R/etc/motd" "from git
"

# keel pull prints the commit it checked out.
assert_exit 0 "$KEEL" pull --git "$REPO" --branch production --dest "$T/pulled"
assert_contains "$OUT" "$c2"
assert_exit 1 "$KEEL" pull --git "$T/no-such-repo" --dest "$T/pulled2"
echo ok
