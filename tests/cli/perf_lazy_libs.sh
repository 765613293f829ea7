#!/bin/bash
# Issue 14: libgit2, gpgme, libssh2, librpmio and libapt-pkg are loaded on
# first use (engine/lazy_lib.h), never at start: linked, they cost every run
# about 14 million instructions of loading and initialisers. Checked with the
# dynamic loader's own log (LD_DEBUG=files names every object it maps): a
# plan, an apply and a validate map none of them; `--git` maps libgit2 and
# works; `keel version` loads libgit2 to report its version.
. "$(dirname "$0")/lib.sh"
has_type file || skip "file type needed"
command -v git >/dev/null || skip "git not installed"

lazy='libgit2|libgpgme|libssh2|librpmio|libapt-pkg'
# loaded CMD... -> the lazy libraries the dynamic loader mapped for CMD
loaded() {
  LD_DEBUG=files LD_DEBUG_OUTPUT="$T/ld" "$@" >/dev/null 2>&1 || true
  cat "$T"/ld.* 2>/dev/null | grep -oE "file=($lazy)[^ ]*" | sort -u | tr '\n' ' '
  rm -f "$T"/ld.*
}

R=$(mkroot)
cat >"$T/site.yaml" <<'Y'
resources:
  - file: /etc/motd
    content: "hello\n"
  - shellvar: /etc/sysconfig/x:A
    value: b
Y
mkdir -p "$R/etc/sysconfig"
for cmd in validate plan apply; do
  got=$(loaded "$KEEL" "$cmd" "$T/site.yaml" --root "$R" --state-dir "$T/state")
  assert_eq "" "$got" "lazy libraries mapped by keel $cmd"
done
assert_eq "hello" "$(cat "$R/etc/motd")" "apply applied"
got=$(loaded "$KEEL" apply "$T/site.yaml" --root "$R" --state-dir "$T/state")
assert_eq "" "$got" "lazy libraries mapped by a no-op apply"

# --git loads libgit2 (and nothing for packages), and the pull works
REPO=$T/repo
git init -q -b main "$REPO"
git -C "$REPO" config user.email t@example.com
git -C "$REPO" config user.name t
cp "$T/site.yaml" "$REPO/site.yaml"
sed -i 's/hello/from git/' "$REPO/site.yaml"
git -C "$REPO" add site.yaml
git -C "$REPO" commit -q -m one
got=$(loaded "$KEEL" apply --git "$REPO" --branch main --root "$R" --state-dir "$T/state")
assert_contains "$got" "file=libgit2"
assert_not_contains "$got" "librpmio"
assert_eq "from git" "$(cat "$R/etc/motd")" "apply --git applied"

assert_exit 0 "$KEEL" version
assert_contains "$OUT" "libgit2 1."
echo "ok"
