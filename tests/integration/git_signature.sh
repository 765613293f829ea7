#!/bin/bash
# --verify-signature: real commits signed in the test with ssh-keygen (git's
# gpg.format=ssh) and with gpg (throwaway keys, no passphrase, a private
# GNUPGHOME). Good signatures are applied; unsigned, tampered and
# signed-by-another-key commits are refused (exit 1, nothing applied,
# `current` and the last good commit untouched); the last-good fallback
# never bypasses the check.
. "$(dirname "$0")/../cli/lib.sh"
has_type file || skip "file type not registered"
command -v ssh-keygen >/dev/null || skip "ssh-keygen not installed"
command -v gpg >/dev/null || skip "gpg not installed"

export GNUPGHOME="$T/gnupg"  # the signers' keyring, never the host's
mkdir -m 700 "$GNUPGHOME"
trap 'gpgconf --kill all >/dev/null 2>&1; rm -rf "$T"' EXIT

# --- keys -------------------------------------------------------------------
K="$T/keys"
mkdir "$K"
ssh-keygen -q -t ed25519 -N '' -C good@example.com -f "$T/ssh_good"
ssh-keygen -q -t ed25519 -N '' -C other@example.com -f "$T/ssh_other"
echo "good@example.com $(cut -d' ' -f1,2 "$T/ssh_good.pub")" >"$K/allowed_signers"
for who in good other; do
  gpg --batch -q --pinentry-mode loopback --passphrase '' \
    --quick-gen-key "$who <$who-pgp@example.com>" ed25519 sign never 2>/dev/null ||
    fail "gpg key generation failed"
done
fpr() { gpg --with-colons --list-keys "$1" 2>/dev/null | awk -F: '/^fpr/{print $10; exit}'; }
PGP_GOOD=$(fpr good-pgp@example.com)
PGP_OTHER=$(fpr other-pgp@example.com)
gpg --batch -q --armor --export "$PGP_GOOD" >"$K/good.asc"
mkdir "$T/only_ssh" "$T/only_pgp"
cp "$K/allowed_signers" "$T/only_ssh/"
cp "$K/good.asc" "$T/only_pgp/"

# --- the config repo ----------------------------------------------------------
SRC="$T/src"
git init -q -b main "$SRC"
git -C "$SRC" config user.email t@example.com
git -C "$SRC" config user.name t
URL="file://$SRC"
# commit MOTD [git -c options...]: commits site.yaml writing MOTD; prints the sha.
commit() {
  local motd=$1
  shift
  printf 'resources:\n  - file: /etc/motd\n    content: "%s\\n"\n' "$motd" >"$SRC/site.yaml"
  git -C "$SRC" add site.yaml
  git -C "$SRC" "$@" commit -q -m "$motd" || fail "git commit ($motd) failed"
  git -C "$SRC" rev-parse HEAD
}
SSH_GOOD=(-c gpg.format=ssh -c user.signingkey="$T/ssh_good" -c commit.gpgsign=true)
SSH_OTHER=(-c gpg.format=ssh -c user.signingkey="$T/ssh_other" -c commit.gpgsign=true)
PGP_GOOD_SIGN=(-c gpg.format=openpgp -c user.signingkey="$PGP_GOOD" -c commit.gpgsign=true)
PGP_OTHER_SIGN=(-c gpg.format=openpgp -c user.signingkey="$PGP_OTHER" -c commit.gpgsign=true)

# tamper: a copy of HEAD with its signature kept and its content changed
# (another motd), made the branch tip.
tamper() {
  local blob tree c
  blob=$(printf 'resources:\n  - file: /etc/motd\n    content: "tampered\\n"\n' |
    git -C "$SRC" hash-object -w --stdin)
  tree=$(printf '100644 blob %s\tsite.yaml\n' "$blob" | git -C "$SRC" mktree)
  c=$(git -C "$SRC" cat-file commit HEAD | sed "1s/^tree .*/tree $tree/" |
    git -C "$SRC" hash-object -t commit -w --stdin)
  git -C "$SRC" cat-file commit "$c" | grep -c '^gpgsig ' >/dev/null || fail "tampered commit lost its signature"
  git -C "$SRC" update-ref refs/heads/main "$c"
  git -C "$SRC" reset -q --hard main
  echo "$c"
}

R=$(mkroot)
S="$T/state"
apply() { assert_exit "$1" "$KEEL" apply --git "$URL" --branch main --root "$R" --state-dir "$S" \
  --format json "${@:2}"; }
current() { readlink "$S/repo/current"; }

# --- good signatures are applied -------------------------------------------------
c1=$(commit ssh-good "${SSH_GOOD[@]}")
apply 0 --verify-signature "$K/allowed_signers"
assert_eq "$c1" "$(echo "$OUT" | json_get - 'j["source"]["commit"]')" "ssh-signed commit applied"
assert_file_eq "$R/etc/motd" "ssh-good
"
# keel pull verifies too
assert_exit 0 "$KEEL" pull --git "$URL" --branch main --dest "$T/pulled" --verify-signature "$K"
assert_contains "$OUT" "$c1"

c2=$(commit pgp-good "${PGP_GOOD_SIGN[@]}")
apply 0 --verify-signature "$K/good.asc"
assert_eq "$c2" "$(echo "$OUT" | json_get - 'j["source"]["commit"]')" "OpenPGP-signed commit applied"
assert_file_eq "$R/etc/motd" "pgp-good
"
# A directory of key files: both kinds at once.
apply 0 --verify-signature "$K"

# refused NEEDLE: the apply is refused with NEEDLE in its errors; the managed
# file, `current` and the last good commit are untouched.
refused() {
  local needle=$1
  shift
  local before_link before_motd
  before_link=$(current)
  before_motd=$(cat "$R/etc/motd")
  apply 1 "$@"
  assert_contains "$ERR" "$needle"
  assert_contains "$ERR" "refused"
  assert_contains "$ERR" "nothing applied"
  assert_eq "$before_link" "$(current)" "current after a refused commit"
  assert_eq "$before_motd" "$(cat "$R/etc/motd")" "motd after a refused commit"
  # The JSON report of a --git run that stops before converging comes with
  # the fleet work of issue 13 (--max-age marks it): then it names the refusal.
  if "$KEEL" apply --help 2>/dev/null | grep -c -- --max-age >/dev/null; then
    assert_contains "$(echo "$OUT" | json_get - 'j["errors"]')" "refused" "the JSON report"
  fi
  # plan refuses it as well, and changes nothing
  assert_exit 1 "$KEEL" plan --git "$URL" --branch main --root "$R" --state-dir "$S" "$@"
  assert_contains "$ERR" "$needle"
}

# --- refused commits ---------------------------------------------------------------
commit unsigned >/dev/null
refused "not signed" --verify-signature "$K"

commit ssh-other "${SSH_OTHER[@]}" >/dev/null
refused "not made by an allowed key" --verify-signature "$K"

commit pgp-other "${PGP_OTHER_SIGN[@]}" >/dev/null
refused "not an allowed key" --verify-signature "$K"

# An ssh signature when only OpenPGP keys are allowed, and the reverse.
commit ssh-good-2 "${SSH_GOOD[@]}" >/dev/null
refused "hold no SSH key" --verify-signature "$T/only_pgp"
tamper >/dev/null
refused "does not verify" --verify-signature "$K"

commit pgp-good-2 "${PGP_GOOD_SIGN[@]}" >/dev/null
refused "hold no OpenPGP key" --verify-signature "$T/only_ssh"
tamper >/dev/null
refused "bad OpenPGP signature" --verify-signature "$K"

# Nothing refused was recorded as good: with the remote gone, the fallback
# applies the last commit that was verified (c2), not a refused one.
mv "$SRC" "$SRC.away"
apply 0 --verify-signature "$K"
assert_eq "$c2" "$(echo "$OUT" | json_get - 'j["source"]["commit"]')" "fallback = last verified"
assert_contains "$(echo "$OUT" | json_get - 'j["warnings"]')" "last good commit"
mv "$SRC.away" "$SRC"

# --- the fallback never bypasses the check ---------------------------------------
# A run without --verify-signature records an unsigned commit as good; with
# the remote gone, a verifying run refuses that last good commit.
u=$(commit unsigned-good)
apply 0
assert_eq "$u" "$(echo "$OUT" | json_get - 'j["source"]["commit"]')" "unverified run"
mv "$SRC" "$SRC.away"
before_link=$(current)
apply 1 --verify-signature "$K"
assert_contains "$ERR" "not signed"
assert_eq "$before_link" "$(current)" "current after a refused fallback"
mv "$SRC.away" "$SRC"

# --- bad KEYS ------------------------------------------------------------------------
c3=$(commit ssh-good-3 "${SSH_GOOD[@]}")
apply 1 --verify-signature "$T/no-such-keys"
assert_contains "$ERR" "no-such-keys: no such file"
printf 'root:*:20228:0:99999:7:::\n' >"$T/garbage"
apply 1 --verify-signature "$T/garbage"
assert_contains "$ERR" "garbage:1: neither an SSH allowed_signers line"
assert_not_contains "$ERR" "root:*" "the content of a wrong KEYS file"
apply 1 --verify-signature "$T/ssh_good"
assert_contains "$ERR" "holds a private key"
{ printf 'x\0'; head -c 4096 /dev/urandom; } >"$T/binary"
apply 1 --verify-signature "$T/binary"
assert_contains "$ERR" "not a key file"
: >"$T/empty"
apply 1 --verify-signature "$T/empty"
assert_contains "$ERR" "no key in it"
# A .pub file (a bare public key) allows that key for any principal.
apply 0 --verify-signature "$T/ssh_good.pub"
assert_eq "$c3" "$(echo "$OUT" | json_get - 'j["source"]["commit"]')" ".pub as KEYS"
assert_file_eq "$R/etc/motd" "ssh-good-3
"
echo "git_signature: ok"
