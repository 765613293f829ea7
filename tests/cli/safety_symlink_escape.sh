#!/bin/bash
# Root confinement (SPEC 6): absolute symlinks inside a --root tree resolve
# inside the tree. A tmpfs mounted (in a private mount namespace) over the
# host's /srv/keel-escape plays the host file a naive root+path would hit:
# keel must write inside the root and leave the tmpfs byte for byte alone.
. "$(dirname "$0")/lib.sh"
has_type file || skip "file type not registered"
[ "$(id -u)" = 0 ] || skip "needs root for unshare -m"
unshare -m true 2>/dev/null || skip "unshare -m not permitted here"

R=$(mkroot)
mkdir -p "$R/srv/keel-escape"
printf 'inside hosts\n' >"$R/srv/keel-escape/hosts"
ln -s /srv/keel-escape/hosts "$R/etc/hosts"            # absolute, existing in the root
ln -s /srv/keel-escape/motd "$R/etc/motd"              # absolute, dangling in the root
ln -s ../../../../../../srv/keel-escape/issue "$R/etc/issue"  # ".." climbing out
ln -s / "$R/hostroot"                                  # a directory link to "/"
cat >"$T/site.yaml" <<'Y'
resources:
  - file: /etc/hosts
    content: "managed hosts\n"
  - file: /etc/motd
    content: "managed motd\n"
  - file: /etc/issue
    content: "managed issue\n"
  - file: /hostroot/srv/keel-escape/dropped
    content: "dropped\n"
Y

cat >"$T/inner.sh" <<'SH'
set -eu
mkdir -p /srv/keel-escape
mount -t tmpfs keel-escape /srv/keel-escape
printf 'host hosts\n' >/srv/keel-escape/hosts
printf 'host motd\n' >/srv/keel-escape/motd
printf 'host issue\n' >/srv/keel-escape/issue
before=$(cd /srv/keel-escape && find . -printf '%p %y %m %s\n' | sort; cat hosts motd issue)
rc=0
"$KEEL" apply "$SITE" --root "$ROOT" --state-dir "$STATE" >"$OUTF" 2>&1 || rc=$?
after=$(cd /srv/keel-escape && find . -printf '%p %y %m %s\n' | sort; cat hosts motd issue)
[ "$before" = "$after" ] || { echo "TMPFS CHANGED:"; echo "$after"; exit 3; }
exit $rc
SH
# /srv may not exist on the host: create the mount point only inside the
# namespace (on a tmpfs over /srv when /srv is missing would need a change
# of the host, so skip then).
[ -d /srv ] || skip "/srv missing on this host"
had_dir=0
[ -e /srv/keel-escape ] && had_dir=1
rc=0
STATE="$T/state" SITE="$T/site.yaml" ROOT="$R" OUTF="$T/apply.out" unshare -m --propagation private \
  sh -c 'mount -t tmpfs keel-srv /srv && exec sh "$0"' "$T/inner.sh" || rc=$?
out=$(cat "$T/apply.out")
[ "$rc" != 3 ] || fail "keel wrote outside the root: $out"
assert_eq 0 "$rc" "keel apply exit code ($out)"
[ "$had_dir" = 1 ] || [ ! -e /srv/keel-escape ] || fail "a mount point leaked onto the host"

# Everything landed inside the root.
assert_file_eq "$R/srv/keel-escape/hosts" "managed hosts
"
assert_file_eq "$R/srv/keel-escape/motd" "managed motd
"
assert_file_eq "$R/srv/keel-escape/issue" "managed issue
"
assert_file_eq "$R/srv/keel-escape/dropped" "dropped
"
# The links themselves are kept (a file resource manages the file they name).
[ -L "$R/etc/hosts" ] || fail "/etc/hosts is no longer a link"

# A second run changes nothing; a plan of a fresh edit writes nothing.
sum=$(tree_sum "$R")
assert_exit 0 "$KEEL" apply "$T/site.yaml" --root "$R" --state-dir "$T/state" --detailed-exitcodes
assert_eq "$sum" "$(tree_sum "$R")" "tree after the second apply"
echo ok
